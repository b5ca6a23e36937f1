"""The station's calendar from chat: /theme (每月活动主题), /festival (customs of 我们的节日), /civic (days on or
off)."""

from __future__ import annotations

import datetime as dt

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.calendar import keyboards as calendar_ui
from bot.calendar import service as calendar
from bot.calendar.keyboards import CivicCb, NoticeCb, ThemeCb
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.org import service as org
from bot.people import service as people
from bot.settings import Settings
from bot.ui import texts
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from scheduling.holidays import CIVIC_KEYS, civic_days, festival_dates
from storage.db import Database
from storage.models import User

router = Blueprint(name="calendar")
PENDING = "theme_edit"  # FSM data key of a previewed, not yet saved theme
KEEP = ("-", "—", "－", "不变")  # in the step-by-step edit: keep this part as it is


class ThemeEdit(StatesGroup):
    """/theme 3 edit: title, text and activities one message each, then the same preview as the one-line form."""

    title = State()
    text = State()
    activities = State()


def _theme_text(t: calendar.ThemeText, *, this_month: bool = True) -> str:
    """The theme as the post on the 1st reads (this_month), or headed with its month when looked up in another."""
    heading = (
        _("📅 Theme of the month: {title}").format(title=t.title)
        if this_month
        else _("📅 Theme of month {month}: {title}").format(month=t.month, title=t.title)
    )
    return "\n".join(
        [
            heading,
            t.text,
            "",
            _("Suggested activities:"),
            *(f"• {a}" for a in t.activities),
        ]
    )


# /theme ---------------------------------------------------------------------------------------------


@router.message(Command("theme"))
async def theme(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    db: Database,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    args = (command.args or "").strip()
    if not args:
        async with db.read() as s:
            rows = await calendar.themes(s, user.locale)
        lines = [_("Monthly themes (每月活动主题):")]
        lines += [f"{t.month}. {t.title}" + (_(" (edited)") if t.edited else "") for t in rows]
        lines += [
            "",
            _(
                "/theme 3 shows March; /theme 3 title | text | activity; activity changes it; "
                "/theme 3 reset goes back to the default."
            ),
        ]
        lines.append(_("/theme 3 edit changes it step by step."))
        await message.answer("\n".join(lines))
        return
    month_raw, _sep, rest = args.partition(" ")
    month, rest = calendar.month_of(month_raw), rest.strip()
    if not rest:
        async with db.read() as s:
            t = await calendar.theme(s, month, user.locale)
        note = _("Edited by the station.") if t.edited else _("The default text.")
        await message.answer(
            "\n".join(
                [
                    _theme_text(t, this_month=month == clock.now().astimezone(settings.tz).month),
                    "",
                    note,
                    _(
                        "Change it: /theme {month} title | text | activity; activity "
                        "(an empty part keeps it); /theme {month} reset"
                    ).format(month=month),
                ]
            )
        )
        return
    if rest.casefold() in ("reset", "重置", "恢复默认"):
        async with db.tx() as s:
            dropped = await calendar.reset_theme(s, user, month, user.locale)
        await message.answer(
            _("The theme of month {month} is back to the default.").format(month=month)
            if dropped
            else _("The theme of month {month} was not edited; nothing to reset.").format(month=month)
        )
        return
    async with db.read() as s:
        current = await calendar.theme(s, month, user.locale)
    if rest.casefold() in ("edit", "修改"):
        await state.set_state(ThemeEdit.title)
        await state.update_data({PENDING: None, "theme_month": month})
        await message.answer(
            _(
                "Changing the theme of month {month} step by step (/cancel stops). "
                "Send the new title, or “-” to keep it:\n{title}"
            ).format(month=month, title=current.title)
        )
        return
    await _preview(message, state, user, calendar.parse_theme(current, rest))


async def _preview(message: Message, state: FSMContext, user: User, new: calendar.ThemeText) -> None:
    await state.update_data(
        {
            PENDING: {
                "month": new.month,
                "locale": user.locale,
                "title": new.title,
                "text": new.text,
                "activities": list(new.activities),
            }
        }
    )
    await message.answer(
        "\n".join(
            [
                _("Preview of the theme of month {month}:").format(month=new.month),
                "",
                _theme_text(new),
                "",
                _("Save it?"),
            ]
        ),
        reply_markup=calendar_ui.theme_confirm(new.month),
    )


async def _step_theme(state: FSMContext, db: Database, user: User) -> calendar.ThemeText:
    """The theme being changed step by step: what is stored, with the parts given so far."""
    data = await state.get_data()
    async with db.read() as s:
        current = await calendar.theme(s, data["theme_month"], user.locale)
    return calendar.ThemeText(
        current.month,
        data.get("theme_title") or current.title,
        data.get("theme_text") or current.text,
        current.activities,
        True,
    )


@router.message(ThemeEdit.title, F.text)
async def theme_step_title(message: Message, state: FSMContext, db: Database, user: User) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    current = await _step_theme(state, db, user)
    assert message.text is not None  # F.text
    keep = message.text.strip() in KEEP
    await state.update_data(theme_title=None if keep else calendar.check_title(message.text))
    await state.set_state(ThemeEdit.text)
    await message.answer(_("Send the new text, or “-” to keep it:\n{text}").format(text=current.text))


@router.message(ThemeEdit.text, F.text)
async def theme_step_text(message: Message, state: FSMContext, db: Database, user: User) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    current = await _step_theme(state, db, user)
    assert message.text is not None  # F.text
    keep = message.text.strip() in KEEP
    await state.update_data(theme_text=None if keep else calendar.check_text(message.text))
    await state.set_state(ThemeEdit.activities)
    await message.answer(
        _("Send the suggested activities, one per line, or “-” to keep them:\n{activities}").format(
            activities="\n".join(current.activities)
        )
    )


@router.message(ThemeEdit.activities, F.text)
async def theme_step_activities(message: Message, state: FSMContext, db: Database, user: User) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    current = await _step_theme(state, db, user)
    assert message.text is not None  # F.text
    keep = message.text.strip() in KEEP
    activities = current.activities if keep else calendar.check_activities(message.text)
    await state.set_state(None)
    await state.update_data(theme_month=None, theme_title=None, theme_text=None)
    await _preview(
        message, state, user, calendar.ThemeText(current.month, current.title, current.text, activities, True)
    )


@router.callback_query(ThemeCb.filter())
async def theme_answer(
    query: CallbackQuery, callback_data: ThemeCb, state: FSMContext, db: Database, clock: Clock, user: User
) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    pending = (await state.get_data()).get(PENDING)
    if not pending or pending["month"] != callback_data.month or callback_data.action not in ("save", "drop"):
        raise DomainError("stale")
    await state.update_data({PENDING: None})
    if callback_data.action != "save":
        await query.answer()
        await editable(query).edit_text(_("Not saved; the theme is unchanged."))
        return
    new = calendar.ThemeText(pending["month"], pending["title"], pending["text"], tuple(pending["activities"]))
    async with db.tx() as s:
        await calendar.save_theme(s, user, new, pending["locale"], clock.now())
    await query.answer(_("Saved."))
    await editable(query).edit_text(
        "\n".join(
            [
                _("✅ Saved. The post on the 1st of month {month} will read:").format(month=new.month),
                "",
                _theme_text(new),
            ]
        )
    )


# /festival --------------------------------------------------------------------------------------------


def _next_date(key: str, today: dt.date) -> dt.date | None:
    for year in (today.year, today.year + 1):
        for event in festival_dates(year) + civic_days(year):
            if event.key == key and event.date >= today:
                return event.date
    return None


@router.message(Command("festival"))
async def festival(
    message: Message, command: CommandObject, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    args = (command.args or "").strip()
    if not args:
        async with db.read() as s:
            lines = [_("Festivals and civic days (customs and suggested activities in the reminders):")]
            for key in calendar.EVENT_NAMES:
                _text, edited = await calendar.festival_text(s, key, user.locale)
                lines.append(f"• {calendar.event_name(key, user.locale)}" + (_(" (edited)") if edited else ""))
        lines += ["", _("/festival 端午 shows one; /festival 端午 TEXT changes it; /festival 端午 reset.")]
        await message.answer("\n".join(lines))
        return
    key, rest = calendar.find_event(args)
    name = calendar.event_name(key, user.locale)
    if rest.casefold() in ("reset", "重置", "恢复默认"):
        async with db.tx() as s:
            dropped = await calendar.reset_festival(s, user, key, user.locale)
        await message.answer(
            _("{name}: back to the default text.").format(name=name)
            if dropped
            else _("{name} was not edited; nothing to reset.").format(name=name)
        )
        return
    if rest:
        async with db.tx() as s:
            text = await calendar.set_festival(s, user, key, user.locale, rest, clock.now())
        await message.answer("\n".join([_("✅ Saved. The reminders of {name} will say:").format(name=name), text]))
        return
    async with db.read() as s:
        text, edited = await calendar.festival_text(s, key, user.locale)
    when = _next_date(key, clock.now().astimezone(settings.tz).date())
    days = texts.enumerate_items(str(d) for d in settings.festival_remind_days)
    lines = [
        f"🎏 {name}" + (f" – {texts.fmt_date(when)}" if when else ""),
        _("Customs and suggested activities:"),
        text,
        "",
        _("Edited by the station.") if edited else _("The default text."),
        _("Reminders go out {days} day(s) before and on the day.").format(days=days),
    ]
    await message.answer("\n".join(lines))


# /civic ------------------------------------------------------------------------------------------------


async def _civic_view(db: Database, clock: Clock, settings: Settings, user: User):
    async with db.read() as s:
        on = await calendar.civic_enabled(s)
    year = clock.now().astimezone(settings.tz).year
    dates = {f.key: f.date for f in civic_days(year)}
    rows = [
        (key, f"{calendar.event_name(key, user.locale)} {dates[key].month}/{dates[key].day}", key in on)
        for key in CIVIC_KEYS
    ]
    text = _("Civic days the station keeps (✅ posted, ⬜ not posted). Tap one to turn it on or off.")
    return text, calendar_ui.civic_toggles(rows)


@router.message(Command("civic"))
async def civic(message: Message, db: Database, clock: Clock, settings: Settings, user: User) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    text, markup = await _civic_view(db, clock, settings, user)
    await message.answer(text, reply_markup=markup)


@router.callback_query(CivicCb.filter())
async def civic_toggle(
    query: CallbackQuery, callback_data: CivicCb, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    org.require_centre_role(user)  # the county's calendar: the 中心's
    if callback_data.on not in (0, 1):
        raise DomainError("stale")
    async with db.tx() as s:
        await calendar.set_civic(s, user, callback_data.key, bool(callback_data.on))
    name = calendar.event_name(callback_data.key, user.locale)
    await query.answer((_("{name}: on") if callback_data.on else _("{name}: off")).format(name=name))
    text, markup = await _civic_view(db, clock, settings, user)
    try:
        await editable(query).edit_text(text, reply_markup=markup)
    except TelegramBadRequest:  # a replayed tap: the list already shows this state
        pass


# a station's own notice to its groups ------------------------------------------------------------------------


class NoticeDraft(StatesGroup):
    confirm = State()


@router.message(Command("notice"))
async def notice(message: Message, command: CommandObject, state: FSMContext, db: Database, user: User) -> None:
    """/notice TEXT: a coordinator's own notice, previewed, then posted to the groups of his station's teams."""
    people.require_coordinator(user)
    if message.chat.type != "private":
        raise DomainError("private_only")
    text = calendar.check_notice(command.args)
    async with db.read() as s:
        chats = await calendar.notice_chats(s, user)
    if not chats:
        raise DomainError("notice_no_groups")
    await state.set_state(NoticeDraft.confirm)
    await state.update_data(notice=text)
    await message.answer(
        _("This notice will go to {count} group(s) of your teams:").format(count=len(chats)) + "\n\n" + text,
        reply_markup=calendar_ui.notice_confirm(),
    )


@router.callback_query(NoticeCb.filter())
async def notice_answer(
    query: CallbackQuery, callback_data: NoticeCb, state: FSMContext, db: Database, notices: Notices, user: User
) -> None:
    people.require_coordinator(user)
    text = (await state.get_data()).get("notice")
    if await state.get_state() != NoticeDraft.confirm.state or not text:
        raise DomainError("notice_gone")
    await state.clear()
    if callback_data.action != "send":
        await query.answer(_("Nothing was sent."))
        await editable(query).edit_reply_markup(reply_markup=None)
        return
    async with db.tx() as s:
        chats = await calendar.notice_chats(s, user)
        for chat_id in chats:
            notices.outbox.to_chat(s, chat_id, "📣 " + text)
    await query.answer()
    await editable(query).edit_text(_("📣 Sent to {count} group(s).").format(count=len(chats)) + "\n\n" + text)
