"""/report week|month [date] [CODE]: 周台账 or 月小结 in chat, the .xlsx workbook, and with a 月小结 its chart.
Coordinators see their subtree (a 所's and the 中心's with a line per station or per 所), or a node within it by
its code; team leaders their own team."""

from __future__ import annotations

import asyncio

from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.reports import service as reports
from bot.reports import texts as report_texts
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
    words, code = reports.split_code(command.args)
    async with db.read() as s:
        if code is None:
            teams = await reports.scopes(s, user)  # the station for coordinators; a leader's own teams
        else:
            teams = [await reports.scope_of_code(s, user, code)]  # a node within his scope
    if message.chat.type != "private":  # volunteers' names and hours are not for a group
        raise DomainError("private_only")
    now = clock.now()
    period = reports.parse_period(words, now.astimezone(settings.tz).date())
    for team_id in teams:
        async with db.read(long=True) as s:
            built = await reports.coordinator_report(
                s, period, settings.tz, team_id, sheets=True, today=now.astimezone(settings.tz).date()
            )
            lines = await reports.ledger_lines(s, period, settings.tz, team_id) if reports.with_ledger(built) else None
        for piece in texts.chunks(report_texts.summary(built, user.locale, settings.tz, now)):
            await message.answer(piece)
        await _chart(message, built, settings)
        # A big month is thousands of rows: build the workbook off the event loop (the locale context goes along).
        # The workbook library is imported on first use: 8 MB the bot does not carry until a report is asked for.
        from bot.reports import xlsx as report_xlsx

        content = await asyncio.to_thread(report_xlsx.workbook, built, lines, settings.tz, user.locale)
        await message.answer_document(
            BufferedInputFile(content, filename=report_xlsx.filename(built)),
            caption=_("{title}: the summary and {count} ledger line(s), for the district's forms.").format(
                title=report_texts.title(period), count=len(lines)
            )
            if lines is not None
            else _("{title}: the summary, a line per 所 and a sheet per station, for the district's forms.").format(
                title=report_texts.title(period)
            ),
        )


async def _chart(message: Message, built: reports.Report, settings: Settings) -> None:
    """A 月小结's chart (PNG), drawn off the event loop; none without a font that has the Chinese glyphs."""
    from bot.core import fonts
    from bot.reports import chart as charts

    drawn = charts.chart_of(built)
    if drawn is None:
        return
    try:
        font = fonts.chinese_font(settings.font_path)
    except fonts.FontMissing:
        return
    png = await asyncio.to_thread(charts.render, drawn, font)
    await message.answer_photo(BufferedInputFile(png, filename=f"chart-{built.period.label}.png"))
