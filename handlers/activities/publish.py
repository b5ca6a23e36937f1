"""/activity: a coordinator, or a team leader for his team, publishes an activity step by step in private chat
(bot/ui/wizard.py)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.activities import service as activities
from bot.activities.keyboards import PublishCb
from bot.core import dates, when
from bot.core.errors import DomainError
from bot.org import service as org
from bot.people import service as people
from bot.tasks import service as tasks
from bot.ui import texts
from bot.ui.keyboards import inline
from bot.ui.pickers import day_step, times, window_step
from bot.ui.wizard import Button, Step, Summary, Turn, Wizard
from handlers.routing import Blueprint
from scheduling.holidays import CalendarUnknown, day_status
from scheduling.themes import default_theme
from storage.db import Database
from storage.models import Team, User

router = Blueprint(name="activity_publish")
router.message.filter(F.chat.type == "private")

WHOLE = "0"  # the team button for the whole station
DEADLINES = ("none", "1d", "2h")  # the deadline buttons; a typed deadline is kept as an ISO datetime (UTC)


def _theme_title(turn: Turn) -> str:
    theme = default_theme(turn.today().month)
    return theme.title_en if turn.user.locale == "en" else theme.title_zh


async def _teams_for(db: Database, user: User) -> list[Team]:
    async with db.read() as s:
        teams = await people.list_teams(s)
        scope = await org.scope_of(s, user)
        led = set(await activities.led_team_ids(s, user.id))
    return [t for t in teams if t.id in led or scope.covers(t.node_id)]


async def _ask_team(turn: Turn):
    rows = [[(t.name, PublishCb(action="team", value=str(t.id)))] for t in await _teams_for(turn.db, turn.user)]
    if people.is_coordinator(turn.user):
        rows.append([(_("The whole station"), PublishCb(action="team", value=WHOLE))])
    return _("For which team?"), inline(rows)


async def _team_tapped(turn: Turn, value: str):
    team_id = int(value) if value.isdecimal() and len(value) < 10 else -1
    allowed = {t.id for t in await _teams_for(turn.db, turn.user)}
    if not (team_id in allowed or (team_id == 0 and people.is_coordinator(turn.user))):
        raise DomainError("act_not_publisher")
    return {"team": team_id or None}


def _deadline(data: dict, start: datetime) -> datetime | None:
    value = data.get("deadline") or "none"
    if value == "none":
        return None
    if value == "1d":
        return start - timedelta(days=1)
    if value == "2h":
        return start - timedelta(hours=2)
    return datetime.fromisoformat(value)


async def _deadline_chosen(turn: Turn, value: str):
    start, _end = times(await turn.state.get_data(), turn.settings.tz)
    activities.check_deadline(_deadline({"deadline": value}, start), start, turn.now())
    return {"deadline": value}


def _deadline_tapped(turn: Turn, value: str):
    if value not in DEADLINES:
        raise DomainError("stale")
    return _deadline_chosen(turn, value)


def _deadline_typed(turn: Turn, message: Message):
    """“2026-12-04 18:00” as before, or as people say it: “周五晚上八点”, “明天18:00”, “tomorrow 6pm” (the time
    said is the deadline; a day alone is refused: the deadline needs an hour)."""
    parts = (message.text or "").split()
    m = re.fullmatch(r"(\d{1,2})[:：](\d{2})", parts[1]) if len(parts) == 2 else None
    if m:
        day = dates.parse_date(parts[0], turn.today())
        if int(m[1]) > 23 or int(m[2]) > 59:
            raise DomainError("bad_time")
        at = time(int(m[1]), int(m[2]))
    else:
        reading = when.read(message.text, turn.now(), turn.settings.tz, want="day")
        if reading.day is None or reading.start is None:
            raise DomainError("bad_time")
        day, at = reading.day, reading.start
    return _deadline_chosen(turn, dates.to_utc(day, at, turn.settings.tz).isoformat())


STEPS = [
    Step(
        "title",
        lambda turn: (
            _("📣 New activity. What is its title (at most {limit} characters)? /cancel leaves.").format(
                limit=activities.LIMITS["title"]
            ),
            None,
        ),
        label=__("Title"),
        typed=lambda turn, message: {"title": activities.field(message.text, "title")},
    ),
    Step(
        "theme",
        lambda turn: (
            _("Its theme? Tap to use this month's theme, or type another."),
            inline([[(_theme_title(turn), PublishCb(action="theme"))]]),
        ),
        label=__("Theme"),
        typed=lambda turn, message: {"theme": activities.field(message.text, "theme")},
        buttons={"theme": Button(lambda turn, value: {"theme": _theme_title(turn)}, tidy=True)},
    ),
    day_step(PublishCb, __("Day"), days=9, check=activities.check_times),
    window_step(
        PublishCb,
        __("Time"),
        __("At what time? Tap a slot or type one such as 14:00-16:30."),
        check=activities.check_times,
    ),
    Step(
        "place",
        lambda turn: (_("Where does it take place?"), None),
        label=__("Place"),
        typed=lambda turn, message: {"place": activities.field(message.text, "place")},
    ),
    Step(
        "capacity",
        lambda turn: (
            _("How many volunteers are needed (number of places)?"),
            inline([[(str(n), PublishCb(action="cap", value=str(n))) for n in (5, 10, 20, 30)]]),
        ),
        label=__("Places"),
        typed=lambda turn, message: {"capacity": activities.capacity(message.text)},
        buttons={"cap": Button(lambda turn, value: {"capacity": activities.capacity(value)})},
    ),
    Step("team", _ask_team, label=__("Team"), buttons={"team": Button(_team_tapped, tidy=True)}),
    Step(
        "deadline",
        lambda turn: (
            _("A sign-up deadline? Tap one, or type a date and time such as 2026-12-04 18:00."),
            inline(
                [
                    [
                        (_("No deadline"), PublishCb(action="dl", value="none")),
                        (_("1 day before"), PublishCb(action="dl", value="1d")),
                        (_("2 hours before"), PublishCb(action="dl", value="2h")),
                    ]
                ]
            ),
        ),
        label=__("Deadline"),
        typed=_deadline_typed,
        buttons={"dl": Button(_deadline_tapped)},
    ),
]


def day_note(day: date, locale: str) -> str | None:
    """Flag a make-up workday or a statutory holiday; say plainly when the year's schedule is unknown."""
    try:
        status = day_status(day)
    except CalendarUnknown:
        return _(
            "⚠️ The statutory holiday schedule for {year} is not known yet, so I cannot tell whether this "
            "day is a holiday or a make-up workday."
        ).format(year=day.year)
    zh = locale != "en"
    if status.is_makeup_workday:
        return _("⚠️ This day is a make-up workday (调休上班) for {holiday}: many volunteers work that day.").format(
            holiday=status.makeup_for_zh if zh else status.makeup_for
        )
    if status.holiday_name:
        return _("⚠️ This day is a statutory holiday ({holiday}).").format(
            holiday=status.holiday_name_zh if zh else status.holiday_name
        )
    return None


async def _summary(turn: Turn, data: dict) -> str:
    tz = turn.settings.tz
    start, end = times(data, tz)
    deadline = _deadline(data, start)
    async with turn.db.read() as s:
        team = await s.get(Team, data["team"]) if data.get("team") else None
    lines = [
        _("Please check the activity:"),
        _("Title: {title}").format(title=data["title"]),
        _("Theme: {theme}").format(theme=data["theme"]),
        _("When: {window}").format(window=texts.fmt_window(start, end, tz)),
        _("Place: {place}").format(place=data["place"]),
        _("Places: {capacity}").format(capacity=data["capacity"]),
        _("For: {who}").format(who=team.name if team else _("the whole station")),
        _("Sign-up until: {deadline}").format(deadline=texts.fmt_time(deadline, tz) if deadline else _("the start")),
    ]
    note = day_note(date.fromisoformat(data["day"]), turn.user.locale)
    if note:
        lines.append(note)
    return "\n".join(lines)


async def _publish(turn: Turn, data: dict) -> str:
    start, end = times(data, turn.settings.tz)
    draft = activities.Draft(
        title=data["title"],
        theme=data["theme"],
        place=data["place"],
        starts_at=start,
        ends_at=end,
        capacity=data["capacity"],
        team_id=data.get("team"),
        signup_deadline=_deadline(data, start),
    )
    now = turn.now()
    async with turn.db.tx() as s:
        if draft.team_id:
            chats = await people.team_chats(s, draft.team_id)
        else:
            chats = sorted({c for t in await people.list_teams(s) for c in await people.team_chats(s, t.id)})
        act = await activities.publish(
            s,
            turn.deps["notices"].activities,
            actor=turn.user,
            draft=draft,
            chats=chats,
            now=now,
            year=now.astimezone(turn.settings.tz).year,
        )
        if data.get("task_node"):  # published for an accepted task order (handlers/tasks.py): linked to it
            await tasks.link_activity(s, actor=turn.user, tn_id=int(data["task_node"]), act=act, now=now)
    return _("Activity {number} published.").format(number=act.number)


WIZARD = Wizard(
    "Publish",
    PublishCb,
    STEPS,
    summary=Summary(
        _summary,
        _publish,
        confirm_label=__("✅ Publish"),
        expected=__("Please tap “Publish”, “Edit” or “Cancel” above, or send /cancel."),
    ),
)


@router.message(Command("activity"))
async def begin(message: Message, state: FSMContext, **deps) -> None:
    turn = Turn(message, state, deps)
    await state.clear()
    if not people.is_coordinator(turn.user) and not await _teams_for(turn.db, turn.user):
        raise DomainError("act_not_publisher")
    await WIZARD.ask(turn)


WIZARD.attach(router)
