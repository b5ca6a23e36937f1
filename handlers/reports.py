"""/report week|month [date]: 周台账 or 月小结 in chat, and the .xlsx workbook. Coordinators see the station;
team leaders their own team."""

from __future__ import annotations

import asyncio

from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.reports import service as reports
from bot.reports import texts as report_texts
from bot.reports import xlsx as report_xlsx
from bot.settings import Settings
from bot.ui import texts
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="reports")


@router.message(Command("report"))
async def report(
    message: Message, command: CommandObject, db: Database, settings: Settings, clock: Clock, user: User
) -> None:
    async with db.read() as s:
        teams = await reports.scopes(s, user)  # the station for coordinators; a leader's own teams
    if message.chat.type != "private":  # volunteers' names and hours are not for a group
        raise DomainError("private_only")
    now = clock.now()
    period = reports.parse_period(command.args, now.astimezone(settings.tz).date())
    for team_id in teams:
        async with db.read(long=True) as s:
            built = await reports.build_report(s, period, settings.tz, team_id)
            lines = await reports.ledger_lines(s, period, settings.tz, team_id)
        for piece in texts.chunks(report_texts.summary(built, user.locale, settings.tz, now)):
            await message.answer(piece)
        # A big month is thousands of rows: build the workbook off the event loop (the locale context goes along).
        content = await asyncio.to_thread(report_xlsx.workbook, built, lines, settings.tz, user.locale)
        await message.answer_document(
            BufferedInputFile(content, filename=report_xlsx.filename(built)),
            caption=_("{title}: the summary and {count} ledger line(s), for the district's forms.").format(
                title=report_texts.title(period), count=len(lines)
            ),
        )
