"""Task order buttons: the stations' (领单, 无法承接, 发布活动, 汇报), the issuer's (确认, 退回), /tasks' pages and
views, and the steps of the two conversations (issuing, reporting). All in private chats."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.tasks import service as tasks
from bot.ui.keyboards import inline
from bot.ui.scope import PRIVATE, Scopes
from storage.models import TaskNode


class TaskCb(CallbackData, prefix="tk1"):
    """On a task node (id: TaskNode.id): ok (领单) | no (无法承接) | act (publish its activity) | rep (汇报) |
    fin (confirm the report) | back (send it back). On a task (id: Task.id): view | xlsx. page: /tasks' pages."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    id: int = 0


class IssueCb(CallbackData, prefix="tq1"):
    """Steps of issuing a task (/task)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    value: str = ""


class ReportCb(CallbackData, prefix="tr1"):
    """Steps of a station's report (汇报)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    value: str = ""


def answer_keyboard(tn: TaskNode) -> InlineKeyboardMarkup:
    return inline(station_rows(tn))


Rows = list[list[tuple[str, CallbackData | str]]]


def station_rows(tn: TaskNode) -> Rows:
    """What the station may do next with its part."""
    if tn.status == tasks.ISSUED:
        return [
            [
                (_("🙋 Accept the task"), TaskCb(action="ok", id=tn.id)),
                (_("Cannot take it"), TaskCb(action="no", id=tn.id)),
            ]
        ]
    rows: Rows = []
    if tn.status in tasks.WORKING:
        if tn.activity_id is None:
            rows.append([(_("📣 Publish its activity"), TaskCb(action="act", id=tn.id))])
        rows.append([(_("📝 Report back"), TaskCb(action="rep", id=tn.id))])
    return rows


def station_keyboard(tn: TaskNode) -> InlineKeyboardMarkup | None:
    rows = station_rows(tn)
    return inline(rows) if rows else None


def review_keyboard(tn: TaskNode) -> InlineKeyboardMarkup:
    return inline(
        [[(_("✅ Confirm"), TaskCb(action="fin", id=tn.id)), (_("↩️ Send back"), TaskCb(action="back", id=tn.id))]]
    )


def list_keyboard(items: list[tasks.Line], page: int, pages: int) -> InlineKeyboardMarkup | None:
    rows: Rows = [[(f"{item.task.number} {item.task.title}", TaskCb(action="view", id=item.task.id))] for item in items]
    nav: list[tuple[str, CallbackData | str]] = []
    if page > 0:
        nav.append(("◀", TaskCb(action="page", id=page - 1)))
    if page + 1 < pages:
        nav.append(("▶", TaskCb(action="page", id=page + 1)))
    if nav:
        rows.append(nav)
    return inline(rows) if rows else None


def view_keyboard(task_id: int, mine: TaskNode | None) -> InlineKeyboardMarkup:
    rows = station_rows(mine) if mine is not None else []
    return inline([*rows, [(_("📊 Workbook"), TaskCb(action="xlsx", id=task_id))]])
