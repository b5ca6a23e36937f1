"""/me, /settings, /rank and the 最美志愿者 vote button."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.ledger import keyboards as ledger_keyboards
from bot.ledger import ranking, recognition, stars
from bot.ledger import service as ledger
from bot.ledger import texts as ledger_texts
from bot.ledger.keyboards import RankCb, SettingsCb, VoteCb
from bot.notices import Notices
from bot.org import service as org
from bot.people import service as people
from bot.reports import service as reports
from bot.reports import texts as report_texts
from bot.settings import Settings
from bot.ui import texts
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import Team, User, Volunteer

router = Blueprint(name="standing")


@router.message(Command("me"))
async def me(message: Message, db: Database, clock: Clock, settings: Settings, user: User) -> None:
    today = clock.now().astimezone(settings.tz).date()
    month_start, _end = ranking.month_bounds(today.year, today.month, settings.tz)
    year_start, _end = ranking.year_bounds(today.year, settings.tz)
    async with db.read() as s:
        volunteer = await s.get(Volunteer, user.id)
        if volunteer is None:
            raise DomainError("not_volunteer")
        summary = await ledger.summary(s, user.id, month_start, year_start)
    minutes = summary.totals.minutes
    level, to_next = stars.level_for(minutes), stars.minutes_to_next(minutes)
    lines = [
        f"👤 {volunteer.name}",
        _("Approved service: {hours} h; points: {points}.").format(
            hours=texts.hours(minutes), points=ledger_texts.points_line(summary.totals.points)
        ),
        _("Star level: {level}.").format(level=ledger_texts.star_name(level)),
        _("{hours} h more to become a {level}.").format(
            hours=texts.hours(to_next), level=ledger_texts.star_name(level + 1)
        )
        if to_next is not None
        else _("You have reached the highest star level. Thank you!"),
        _("This month: {count} services, {hours} h.").format(
            count=summary.month_services, hours=texts.hours(summary.month_minutes)
        ),
        _("This year: {count} services, {hours} h.").format(
            count=summary.year_services, hours=texts.hours(summary.year_minutes)
        ),
        _("/ledger shows every entry; /dispute if one is wrong; /settings for your preferences."),
    ]
    await message.answer("\n".join(lines))


# /settings ------------------------------------------------------------------------------------------------


def _settings_text() -> str:
    return _("Your preferences (tap to switch):")


@router.message(Command("settings"), F.chat.type == "private")
async def settings_view(message: Message, db: Database, user: User) -> None:
    async with db.read() as s:
        volunteer = await s.get(Volunteer, user.id)
    if volunteer is None:
        raise DomainError("not_volunteer")
    await message.answer(
        _settings_text(), reply_markup=ledger_keyboards.settings(volunteer.show_in_rank, volunteer.share_stars)
    )


@router.callback_query(SettingsCb.filter())
async def settings_toggle(query: CallbackQuery, callback_data: SettingsCb, db: Database, user: User) -> None:
    async with db.tx() as s:
        volunteer = await stars.toggle_preference(s, user.id, callback_data.key)
        rank, share = volunteer.show_in_rank, volunteer.share_stars
    await query.answer(_("Saved."))
    await editable(query).edit_text(_settings_text(), reply_markup=ledger_keyboards.settings(rank, share))


# /rank ------------------------------------------------------------------------------------------------------


LEVELS = {
    "station": "station",
    "站": "station",
    "本站": "station",
    "institute": "institute",
    "所": "institute",
    "本所": "institute",
    "centre": "centre",
    "center": "centre",
    "中心": "centre",
}


def _parse_rank(args: str | None) -> tuple[str, str | None, str | None]:
    """(period, team name, level): `/rank [year] [team NAME | station | 所 | 中心]`."""
    words = (args or "").split()
    period = "month"
    if words and words[0].lower() in ("year", "年", "本年", "今年"):
        period, words = "year", words[1:]
    if not words:
        return period, None, None
    if words[0].lower() in ("team", "队") and len(words) > 1:
        return period, " ".join(words[1:]), None
    if len(words) == 1 and words[0].lower() in LEVELS:
        return period, None, LEVELS[words[0].lower()]
    raise DomainError("rank_bad_args")


async def _level_nodes(db: Database, user: User, level: str) -> tuple[set[int] | None, str]:
    """The nodes of the viewer's station, of its 所, or (None) the whole county; and their name."""
    async with db.read() as s:
        tree = await org.load_tree(s)
        home = await org.home_station(s, user)
        if home is None:  # a volunteer with no station of his own: the station of his first team
            for nid in await org.user_nodes(s, user.id):
                if nid is not None and tree.nodes[nid].kind == org.STATION:
                    home = nid
                    break
    if level == "centre" or home is None:
        return None, tree.root.name if tree.root else _("the whole station")
    if level == "institute":
        institute = tree.institute_of(home)
        if institute is not None:
            return tree.subtree(institute.id), institute.name
    return {home}, tree.nodes[home].name


async def _rank_view(
    db: Database,
    settings: Settings,
    clock: Clock,
    period: str,
    team_id: int,
    nodes: set[int] | None = None,
    place: str | None = None,
):
    today = clock.now().astimezone(settings.tz).date()
    start, end = (
        ranking.month_bounds(today.year, today.month, settings.tz)
        if period == "month"
        else ranking.year_bounds(today.year, settings.tz)
    )
    async with db.read(long=True) as s:
        team = await s.get(Team, team_id) if team_id else None
        if team_id and (team is None or team.archived):
            raise DomainError("no_team", ref=str(team_id))
        rows = await ranking.top(s, start, end, team_id=team_id or None, node_ids=nodes)
        teams = [(t.id, t.name) for t in await people.list_teams(s)]
    when = f"{today.year}-{today.month:02d}" if period == "month" else str(today.year)
    scope = team.name if team else place or _("the whole station")
    lines = [_("🏆 Volunteers by approved hours, {when}, {scope}:").format(when=when, scope=scope)]
    lines += [
        f"{i}. {ledger_texts.display_name(r.name, r.public)} · " + _("{hours} h").format(hours=texts.hours(r.minutes))
        for i, r in enumerate(rows, 1)
    ]
    if not rows:
        lines.append(_("No approved hours yet in this period."))
    return "\n".join(lines), ledger_keyboards.rank_views(period, team_id, teams)


async def _require_member(db: Database, user: User) -> None:
    if people.is_coordinator(user):
        return
    async with db.read() as s:
        if await s.get(Volunteer, user.id) is None:
            raise DomainError("not_volunteer")


STATIONS_WORDS = ("stations", "各站", "站点")
PERIOD_WORDS = {
    "month": "month",
    "月": "month",
    "本月": "month",
    "year": "year",
    "年": "year",
    "本年": "year",
    "今年": "year",
}


async def _rank_stations(
    message: Message, words: list[str], db: Database, settings: Settings, clock: Clock, user: User
) -> None:
    """`/rank stations [month|year]`: a 所's or the 中心's stations compared (评优), for their coordinators."""
    rest = [w.lower() for w in words if w.lower() not in STATIONS_WORDS]
    if len(rest) > 1 or any(w not in PERIOD_WORDS for w in rest):
        raise DomainError("rank_bad_args")
    today = clock.now().astimezone(settings.tz).date()
    period = (
        reports.year_of(today.year)
        if rest and PERIOD_WORDS[rest[0]] == "year"
        else reports.month_of(today.year, today.month)
    )
    async with db.read(long=True) as s:
        tree = await org.load_tree(s)
        scope = org.scope_in(tree, user)
        at = tree.nodes.get(scope.at) if scope.at is not None else None
        if not (scope.everything or (at is not None and at.kind == org.INSTITUTE)):
            raise DomainError("rank_stations_not_allowed")
        under = None if scope.everything else scope.at
        lines = await reports.compare_stations(s, period, settings.tz, tree, under)
    place = at.name if at is not None and not scope.everything else tree.root.name if tree.root else ""
    for piece in texts.chunks(report_texts.station_rank(lines, period, place)):
        await message.answer(piece)


@router.message(Command("rank"))
async def rank(
    message: Message, command: CommandObject, db: Database, settings: Settings, clock: Clock, user: User
) -> None:
    words = (command.args or "").split()
    if any(w.lower() in STATIONS_WORDS for w in words):
        await _rank_stations(message, words, db, settings, clock, user)
        return
    await _require_member(db, user)
    period, team_name, level = _parse_rank(command.args)
    nodes, place = await _level_nodes(db, user, level) if level else (None, None)
    team_id = 0
    if team_name:
        async with db.read() as s:
            team = await people.find_team(s, team_name)
        if team is None:
            raise DomainError("no_team", ref=team_name)
        team_id = team.id
    text, kb = await _rank_view(db, settings, clock, period, team_id, nodes, place)
    await message.answer(text, reply_markup=kb if message.chat.type == "private" else None)  # its views: private


@router.callback_query(RankCb.filter())
async def rank_switch(
    query: CallbackQuery, callback_data: RankCb, db: Database, settings: Settings, clock: Clock, user: User
) -> None:
    await _require_member(db, user)
    if callback_data.period not in ("month", "year") or not 0 <= callback_data.team < 2**31:
        raise DomainError("stale")
    text, kb = await _rank_view(db, settings, clock, callback_data.period, callback_data.team)
    await query.answer()
    await editable(query).edit_text(text, reply_markup=kb)


# 最美志愿者 -----------------------------------------------------------------------------------------------


@router.callback_query(VoteCb.filter())
async def open_vote(
    query: CallbackQuery,
    callback_data: VoteCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    if not 0 < callback_data.team < 2**31:
        raise DomainError("stale")
    async with db.tx() as s:
        count = await recognition.open_vote(
            s,
            notices.ledger,
            actor=user,
            month=callback_data.month,
            team_id=callback_data.team,
            tz=settings.tz,
            now=clock.now(),
        )
    await query.answer(
        _("The vote is open in the team's group ({count} candidates).").format(count=count), show_alert=True
    )
