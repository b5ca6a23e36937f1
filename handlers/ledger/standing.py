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
from bot.people import service as people
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
            hours=texts.hours(minutes), points=summary.totals.points
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


def _parse_rank(args: str | None) -> tuple[str, str | None]:
    words = (args or "").split()
    period = "month"
    if words and words[0].lower() in ("year", "年", "本年", "今年"):
        period, words = "year", words[1:]
    if not words:
        return period, None
    if words[0].lower() in ("team", "队") and len(words) > 1:
        return period, " ".join(words[1:])
    raise DomainError("rank_bad_args")


async def _rank_view(db: Database, settings: Settings, clock: Clock, period: str, team_id: int):
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
        rows = await ranking.top(s, start, end, team_id=team_id or None)
        teams = [(t.id, t.name) for t in await people.list_teams(s)]
    when = f"{today.year}-{today.month:02d}" if period == "month" else str(today.year)
    scope = team.name if team else _("the whole station")
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


@router.message(Command("rank"))
async def rank(
    message: Message, command: CommandObject, db: Database, settings: Settings, clock: Clock, user: User
) -> None:
    await _require_member(db, user)
    period, team_name = _parse_rank(command.args)
    team_id = 0
    if team_name:
        async with db.read() as s:
            team = await people.find_team(s, team_name)
        if team is None:
            raise DomainError("no_team", ref=team_name)
        team_id = team.id
    text, kb = await _rank_view(db, settings, clock, period, team_id)
    await message.answer(text, reply_markup=kb)


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
