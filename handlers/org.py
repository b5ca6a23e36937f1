"""The county tree in chat: /org shows it within the coordinator's scope; administrators and 中心 coordinators
change it (/org_add, /org_rename, /org_move, /org_archive), each after a confirmation."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.org import service as org
from bot.org import texts
from bot.org.keyboards import OrgCb, confirm
from bot.people import service as people
from bot.ui.tapped import editable
from bot.ui.texts import chunks
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import OrgNode, User

router = Blueprint(name="org")
PENDING = "org_change"


@router.message(Command("org"))
async def show(message: Message, db: Database, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        scope = await org.scope_of(s, user)
        tree = await org.load_tree(s)
        counts = await org.counts(s)
    top = tree.root if scope.everything else tree.nodes.get(scope.at) if scope.at is not None else None
    if top is None:
        raise DomainError("org_tree_empty")
    lines = [texts.org_title()]
    todo: list[tuple[OrgNode, int]] = [(top, 0)]
    while todo:
        node, depth = todo.pop()
        lines.append(texts.tree_line(node, org.subtree_counts(tree, counts, node.id), depth))
        kids = tree.kids(node.id, org.INSTITUTE) + tree.kids(node.id, org.STATION)  # 所 first, then 站
        todo.extend((kid, depth + 1) for kid in reversed(kids))
    if scope.everything:
        lines += ["", texts.org_usage()]
    for piece in chunks("\n".join(lines)):
        await message.answer(piece)


def _args(command: CommandObject, usage: str, least: int) -> list[str]:
    words = (command.args or "").split()
    if len(words) < least:
        raise DomainError("usage", usage=usage)
    return words


def _code_like(word: str) -> bool:
    return len(word) <= org.CODE_MAX and all(c.isascii() and (c.isalnum() or c in "-_") for c in word)


async def _ask(message: Message, state: FSMContext, change: dict[str, Any], text: str) -> None:
    """The change waits in the conversation until the confirmation is tapped."""
    await state.update_data({PENDING: change})
    await message.answer(text, reply_markup=confirm(change["op"], change["code"]))


@router.message(Command("org_add"))
async def add_ask(message: Message, command: CommandObject, state: FSMContext, db: Database, user: User) -> None:
    people.require_coordinator(user)
    words = _args(command, _("/org_add 站|所 NAME CODE [PARENT_CODE]"), 3)
    parent_code: str | None = None
    async with db.read() as s:
        # NAME may have spaces; CODE and PARENT_CODE are ASCII words: two at the end name the parent
        if len(words) >= 4 and all(_code_like(w) for w in words[-2:]):
            parent_code = words.pop()
        kind, name, code, parent = await org.plan_add(s, user, words[0], " ".join(words[1:-1]), words[-1], parent_code)
    change = {"op": "add", "kind": kind, "name": name, "code": code, "parent": parent.code if parent else None}
    await _ask(message, state, change, texts.confirm_add(kind, name, code, parent))


@router.message(Command("org_rename"))
async def rename_ask(message: Message, command: CommandObject, state: FSMContext, db: Database, user: User) -> None:
    people.require_coordinator(user)
    words = _args(command, _("/org_rename CODE NAME"), 2)
    async with db.read() as s:
        node, name = await org.plan_rename(s, user, words[0], " ".join(words[1:]))
    await _ask(message, state, {"op": "rename", "code": node.code, "name": name}, texts.confirm_rename(node, name))


@router.message(Command("org_move"))
async def move_ask(message: Message, command: CommandObject, state: FSMContext, db: Database, user: User) -> None:
    people.require_coordinator(user)
    words = _args(command, _("/org_move CODE PARENT_CODE"), 2)
    async with db.read() as s:
        node, parent = await org.plan_move(s, user, words[0], words[1])
    await _ask(
        message, state, {"op": "move", "code": node.code, "parent": parent.code}, texts.confirm_move(node, parent)
    )


@router.message(Command("org_archive"))
async def archive_ask(message: Message, command: CommandObject, state: FSMContext, db: Database, user: User) -> None:
    people.require_coordinator(user)
    words = _args(command, _("/org_archive CODE"), 1)
    async with db.read() as s:
        node = await org.plan_archive(s, user, words[0])
    await _ask(message, state, {"op": "archive", "code": node.code}, texts.confirm_archive(node))


@router.callback_query(OrgCb.filter(F.action == "yes"))
async def change(
    query: CallbackQuery, callback_data: OrgCb, state: FSMContext, db: Database, user: User, clock: Clock
) -> None:
    people.require_coordinator(user)
    data = (await state.get_data()).get(PENDING) or {}
    if (data.get("op"), data.get("code")) != (callback_data.op, callback_data.code):
        async with db.read() as s:  # a refusal for its reason first (someone not allowed), else out of date
            await _builder(s, user)
        raise DomainError("stale")
    async with db.tx() as s:
        if data["op"] == "add":
            node = await org.add_node(s, user, data["kind"], data["name"], data["code"], data["parent"], clock.now())
            text = texts.done_add(node)
        elif data["op"] == "rename":
            node = await org.rename_node(s, user, data["code"], data["name"])
            text = texts.done_rename(node)
        elif data["op"] == "move":
            node = await org.move_node(s, user, data["code"], data["parent"])
            text = texts.done_move(node, await org.find_node(s, data["parent"]))
        else:
            node = await org.archive_node(s, user, data["code"])
            text = texts.done_archive(node)
    await state.update_data({PENDING: None})
    await query.answer()
    await editable(query).edit_text(text)


async def _builder(s: AsyncSession, user: User) -> None:
    if not (await org.scope_of(s, user)).everything:
        raise DomainError("not_centre_coordinator")


@router.callback_query(OrgCb.filter(F.action == "no"))
async def keep(query: CallbackQuery, state: FSMContext, user: User) -> None:
    people.require_coordinator(user)  # the button works in groups too: nobody else removes it
    await state.update_data({PENDING: None})
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)
