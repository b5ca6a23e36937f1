"""/activity: a coordinator, or a team leader for his team, publishes an activity step by step in private chat."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.ui import texts
from bot.core import dates as when
from bot.activities.notices import ActivityNotices
from bot.activities.keyboards import PublishCb
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.ui.keyboards import field_picker, inline
from bot.requests.notices import Notices
from bot.activities import service as activities
from bot.people import service as people
from bot.settings import Settings
from handlers.routing import Blueprint
from scheduling.holidays import CalendarUnknown, day_status
from scheduling.themes import default_theme
from storage.db import Database
from storage.models import Team, User

router = Blueprint(name="activity_publish")
router.message.filter(F.chat.type == "private")


class Publish(StatesGroup):
    title = State()
    theme = State()
    day = State()
    window = State()
    place = State()
    capacity = State()
    team = State()
    deadline = State()
    confirm = State()


STEPS = ("title", "theme", "day", "window", "place", "capacity", "team", "deadline")
WHOLE = "0"  # the team button for the whole station


def _today(settings: Settings, clock: Clock) -> date:
    return clock.now().astimezone(settings.tz).date()


def _theme_title(month: int, locale: str) -> str:
    theme = default_theme(month)
    return theme.title_en if locale == "en" else theme.title_zh


async def _teams_for(db: Database, user: User) -> list[Team]:
    async with db.read() as s:
        teams = await people.list_teams(s)
        if people.is_coordinator(user):
            return teams
        led = set(await activities.led_team_ids(s, user.id))
    return [t for t in teams if t.id in led]


async def _ask(step: str, message: Message, state: FSMContext, db: Database, settings: Settings, clock: Clock,
               user: User) -> None:
    await state.set_state(getattr(Publish, step))
    if step == "title":
        await message.answer(_("📣 New activity. What is its title (at most {limit} characters)? /cancel leaves."
                               ).format(limit=activities.LIMITS["title"]))
    elif step == "theme":
        title = _theme_title(_today(settings, clock).month, user.locale)
        await message.answer(_("Its theme? Tap to use this month's theme, or type another."),
                             reply_markup=inline([[(title, PublishCb(action="theme"))]]))
    elif step == "day":
        today = _today(settings, clock)
        days = [today + timedelta(days=n) for n in range(9)]
        rows = [[(texts.fmt_day(d), PublishCb(action="day", value=d.isoformat())) for d in days[i:i + 3]]
                for i in range(0, 9, 3)]
        await message.answer(_("On which day? Tap one or type a date such as 2026-12-05."), reply_markup=inline(rows))
    elif step == "window":
        rows = [[(f"{a}–{b}", PublishCb(action="slot", value=f"{a}-{b}".replace(":", ""))) for a, b in
                 when.SLOTS[i:i + 2]] for i in range(0, len(when.SLOTS), 2)]
        await message.answer(_("At what time? Tap a slot or type one such as 14:00-16:30."), reply_markup=inline(rows))
    elif step == "place":
        await message.answer(_("Where does it take place?"))
    elif step == "capacity":
        await message.answer(_("How many volunteers are needed (number of places)?"),
                             reply_markup=inline([[(str(n), PublishCb(action="cap", value=str(n)))
                                                   for n in (5, 10, 20, 30)]]))
    elif step == "team":
        rows = [[(t.name, PublishCb(action="team", value=str(t.id)))] for t in await _teams_for(db, user)]
        if people.is_coordinator(user):
            rows.append([(_("The whole station"), PublishCb(action="team", value=WHOLE))])
        await message.answer(_("For which team?"), reply_markup=inline(rows))
    elif step == "deadline":
        await message.answer(
            _("A sign-up deadline? Tap one, or type a date and time such as 2026-12-04 18:00."),
            reply_markup=inline([[(_("No deadline"), PublishCb(action="dl", value="none")),
                                  (_("1 day before"), PublishCb(action="dl", value="1d")),
                                  (_("2 hours before"), PublishCb(action="dl", value="2h"))]]))


def _deps(deps: dict) -> dict:
    return {key: deps[key] for key in ("db", "settings", "clock", "user")}


async def _next(step: str, message: Message, state: FSMContext, deps: dict) -> None:
    data = await state.get_data()
    if data.get("editing") or step == STEPS[-1]:
        await _summary(message, state, deps)
    else:
        await _ask(STEPS[STEPS.index(step) + 1], message, state, **deps)


def _times(data: dict, settings: Settings) -> tuple[datetime, datetime]:
    day = date.fromisoformat(data["day"])
    return (when.to_utc(day, time.fromisoformat(data["start"]), settings.tz),
            when.to_utc(day, time.fromisoformat(data["end"]), settings.tz))


def _deadline(data: dict, start: datetime) -> datetime | None:
    value = data.get("deadline") or "none"
    if value == "none":
        return None
    if value == "1d":
        return start - timedelta(days=1)
    if value == "2h":
        return start - timedelta(hours=2)
    return datetime.fromisoformat(value)


def day_note(day: date, locale: str) -> str | None:
    """Flag a make-up workday or a statutory holiday; say plainly when the year's schedule is unknown."""
    try:
        status = day_status(day)
    except CalendarUnknown:
        return _("⚠️ The statutory holiday schedule for {year} is not known yet, so I cannot tell whether this "
                 "day is a holiday or a make-up workday.").format(year=day.year)
    zh = locale != "en"
    if status.is_makeup_workday:
        return _("⚠️ This day is a make-up workday (调休上班) for {holiday}: many volunteers work that day.").format(
            holiday=status.makeup_for_zh if zh else status.makeup_for)
    if status.holiday_name:
        return _("⚠️ This day is a statutory holiday ({holiday}).").format(
            holiday=status.holiday_name_zh if zh else status.holiday_name)
    return None


async def _summary(message: Message, state: FSMContext, deps: dict) -> None:
    db, settings = deps["db"], deps["settings"]
    data = await state.get_data()
    await state.update_data(editing=False)
    await state.set_state(Publish.confirm)
    start, end = _times(data, settings)
    deadline = _deadline(data, start)
    async with db.read() as s:
        team = await s.get(Team, data["team"]) if data.get("team") else None
    lines = [
        _("Please check the activity:"),
        _("Title: {title}").format(title=data["title"]),
        _("Theme: {theme}").format(theme=data["theme"]),
        _("When: {window}").format(window=texts.fmt_window(start, end, settings.tz)),
        _("Place: {place}").format(place=data["place"]),
        _("Places: {capacity}").format(capacity=data["capacity"]),
        _("For: {who}").format(who=team.name if team else _("the whole station")),
        _("Sign-up until: {deadline}").format(
            deadline=texts.fmt_time(deadline, settings.tz) if deadline else _("the start")),
    ]
    note = day_note(date.fromisoformat(data["day"]), deps["user"].locale)
    if note:
        lines.append(note)
    await message.answer("\n".join(lines), reply_markup=inline([
        [(_("✅ Publish"), PublishCb(action="confirm")), (_("✏️ Edit"), PublishCb(action="edit")),
         (_("✖️ Cancel"), PublishCb(action="abort"))]]))


# entry ---------------------------------------------------------------------------------------------------------

@router.message(Command("activity"))
async def begin(message: Message, state: FSMContext, db: Database, settings: Settings, clock: Clock,
                user: User) -> None:
    await state.clear()
    if not people.is_coordinator(user) and not await _teams_for(db, user):
        raise DomainError("act_not_publisher")
    await _ask("title", message, state, db=db, settings=settings, clock=clock, user=user)


@router.message(Publish.title, F.text)
async def got_title(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(title=activities.field(message.text, "title"))
    await _next("title", message, state, _deps(deps))


@router.callback_query(Publish.theme, PublishCb.filter(F.action == "theme"))
async def got_theme_button(query: CallbackQuery, state: FSMContext, **deps) -> None:
    deps = _deps(deps)
    await state.update_data(theme=_theme_title(_today(deps["settings"], deps["clock"]).month, deps["user"].locale))
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _next("theme", query.message, state, deps)


@router.message(Publish.theme, F.text)
async def got_theme(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(theme=activities.field(message.text, "theme"))
    await _next("theme", message, state, _deps(deps))


async def _set_day(day: date, message: Message, state: FSMContext, deps: dict) -> None:
    if day < _today(deps["settings"], deps["clock"]):
        raise DomainError("past_time")
    await state.update_data(day=day.isoformat())
    data = await state.get_data()
    if data.get("start"):  # editing the day keeps the time if it is still in the future
        try:
            activities.check_times(*_times(data, deps["settings"]), deps["clock"].now())
        except DomainError:
            await state.update_data(start=None, end=None, editing=False)
            await _ask("window", message, state, **deps)
            return
    await _next("day", message, state, deps)


@router.callback_query(Publish.day, PublishCb.filter(F.action == "day"))
async def got_day_button(query: CallbackQuery, callback_data: PublishCb, state: FSMContext, **deps) -> None:
    try:
        day = date.fromisoformat(callback_data.value)
    except ValueError:
        raise DomainError("stale") from None
    await _set_day(day, query.message, state, _deps(deps))
    await query.answer()


@router.message(Publish.day, F.text)
async def got_day_text(message: Message, state: FSMContext, **deps) -> None:
    deps = _deps(deps)
    await _set_day(when.parse_date(message.text, _today(deps["settings"], deps["clock"])), message, state, deps)


async def _set_window(start: time, end: time, message: Message, state: FSMContext, deps: dict) -> None:
    data = await state.get_data()
    candidate = {**data, "start": start.isoformat("minutes"), "end": end.isoformat("minutes")}
    activities.check_times(*_times(candidate, deps["settings"]), deps["clock"].now())
    await state.update_data(start=candidate["start"], end=candidate["end"])
    await _next("window", message, state, deps)


@router.callback_query(Publish.window, PublishCb.filter(F.action == "slot"))
async def got_slot(query: CallbackQuery, callback_data: PublishCb, state: FSMContext, **deps) -> None:
    v = callback_data.value
    start, end = when.parse_window(f"{v[:2]}:{v[2:4]}-{v[5:7]}:{v[7:9]}" if len(v) == 9 else "")
    await _set_window(start, end, query.message, state, _deps(deps))
    await query.answer()


@router.message(Publish.window, F.text)
async def got_window_text(message: Message, state: FSMContext, **deps) -> None:
    start, end = when.parse_window(message.text)
    await _set_window(start, end, message, state, _deps(deps))


@router.message(Publish.place, F.text)
async def got_place(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(place=activities.field(message.text, "place"))
    await _next("place", message, state, _deps(deps))


@router.callback_query(Publish.capacity, PublishCb.filter(F.action == "cap"))
async def got_capacity_button(query: CallbackQuery, callback_data: PublishCb, state: FSMContext, **deps) -> None:
    await state.update_data(capacity=activities.capacity(callback_data.value))
    await query.answer()
    await _next("capacity", query.message, state, _deps(deps))


@router.message(Publish.capacity, F.text)
async def got_capacity(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(capacity=activities.capacity(message.text))
    await _next("capacity", message, state, _deps(deps))


@router.callback_query(Publish.team, PublishCb.filter(F.action == "team"))
async def got_team(query: CallbackQuery, callback_data: PublishCb, state: FSMContext, **deps) -> None:
    deps = _deps(deps)
    value = callback_data.value
    team_id = int(value) if value.isdecimal() and len(value) < 10 else -1
    allowed = {t.id for t in await _teams_for(deps["db"], deps["user"])}
    if not (team_id in allowed or (team_id == 0 and people.is_coordinator(deps["user"]))):
        raise DomainError("act_not_publisher")
    await state.update_data(team=team_id or None)
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _next("team", query.message, state, deps)


async def _set_deadline(value: str, message: Message, state: FSMContext, deps: dict) -> None:
    data = await state.get_data()
    start, _end = _times(data, deps["settings"])
    activities.check_deadline(_deadline({"deadline": value}, start), start, deps["clock"].now())
    await state.update_data(deadline=value)
    await _next("deadline", message, state, deps)


@router.callback_query(Publish.deadline, PublishCb.filter(F.action == "dl"))
async def got_deadline_button(query: CallbackQuery, callback_data: PublishCb, state: FSMContext, **deps) -> None:
    if callback_data.value not in ("none", "1d", "2h"):
        raise DomainError("stale")
    await _set_deadline(callback_data.value, query.message, state, _deps(deps))
    await query.answer()


@router.message(Publish.deadline, F.text)
async def got_deadline_text(message: Message, state: FSMContext, **deps) -> None:
    deps = _deps(deps)
    parts = message.text.split()
    if len(parts) != 2:
        raise DomainError("bad_date")
    day = when.parse_date(parts[0], _today(deps["settings"], deps["clock"]))
    m = re.fullmatch(r"(\d{1,2})[:：](\d{2})", parts[1])
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise DomainError("bad_time")
    at = time(int(m[1]), int(m[2]))
    value = when.to_utc(day, at, deps["settings"].tz).isoformat()
    await _set_deadline(value, message, state, deps)


# summary -------------------------------------------------------------------------------------------------------

@router.callback_query(Publish.confirm, PublishCb.filter(F.action == "confirm"))
async def confirm(query: CallbackQuery, state: FSMContext, db: Database, settings: Settings, clock: Clock,
                  notices: Notices, user: User) -> None:
    data = await state.get_data()
    start, end = _times(data, settings)
    draft = activities.Draft(title=data["title"], theme=data["theme"], place=data["place"], starts_at=start,
                             ends_at=end, capacity=data["capacity"], team_id=data.get("team"),
                             signup_deadline=_deadline(data, start))
    now = clock.now()
    async with db.tx() as s:
        if draft.team_id:
            chats = await people.team_chats(s, draft.team_id)
        else:
            chats = sorted({c for t in await people.list_teams(s) for c in await people.team_chats(s, t.id)})
        act = await activities.publish(s, ActivityNotices(notices), actor=user, draft=draft, chats=chats, now=now,
                                       year=now.astimezone(settings.tz).year)
    await state.clear()
    await query.answer(_("Activity {number} published.").format(number=act.number))
    await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(Publish.confirm, PublishCb.filter(F.action == "abort"))
async def abort(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await query.message.edit_text(_("Cancelled. Nothing was saved."))


FIELDS = (("title", __("Title")), ("theme", __("Theme")), ("day", __("Day")), ("window", __("Time")),
          ("place", __("Place")), ("capacity", __("Places")), ("team", __("Team")), ("deadline", __("Deadline")))


@router.callback_query(Publish.confirm, PublishCb.filter(F.action == "edit"))
async def edit(query: CallbackQuery) -> None:
    await query.answer()
    picker = field_picker(FIELDS, lambda key: PublishCb(action="field", value=key))
    await query.message.edit_reply_markup(reply_markup=picker)


@router.callback_query(Publish.confirm, PublishCb.filter(F.action == "field"))
async def edit_field(query: CallbackQuery, callback_data: PublishCb, state: FSMContext, **deps) -> None:
    if callback_data.value not in STEPS:
        raise DomainError("stale")
    await state.update_data(editing=True)
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _ask(callback_data.value, query.message, state, **_deps(deps))


@router.message(Publish.confirm)
async def confirm_expected(message: Message) -> None:
    await message.answer(_("Please tap “Publish”, “Edit” or “Cancel” above, or send /cancel."))
