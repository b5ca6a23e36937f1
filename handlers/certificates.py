"""志愿服务证明: /certificate for a volunteer (a PDF), /verify NUMBER for coordinators."""

from __future__ import annotations

import asyncio

from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.certificates import service as certificates
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.people.service import require_coordinator
from bot.settings import Settings
from bot.ui import texts
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="certificate")


@router.message(Command("certificate"))
async def certificate(
    message: Message, command: CommandObject, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    if message.chat.type != "private":
        raise DomainError("private_only")
    now = clock.now()
    today = now.astimezone(settings.tz).date()
    start, end = certificates.parse_range(command.args, today)
    async with db.tx() as s:
        issued = await certificates.issue(
            s,
            user,
            date_from=start,
            date_to=end,
            now=now,
            tz=settings.tz,
            daily=Daily(settings.max_certificates_per_day, settings.tz),
        )
    # Everything is loaded: the PDF is drawn in a worker thread (reportlab takes about 1.7 s per 1,000 lines),
    # so the event loop keeps serving everyone else meanwhile. The thread runs in a copy of this context, so
    # its labels are in the volunteer's language.
    # reportlab is imported on first use: 6 MB the bot process does not carry until a certificate is asked for.
    from bot.certificates import pdf as certificate_pdf

    pdf = await asyncio.to_thread(certificate_pdf.render, issued, station=settings.station_name, issued_on=today)
    number = issued.certificate.number
    await message.answer_document(
        BufferedInputFile(pdf, filename=f"{number}.pdf"),
        caption=_("📄 Your volunteer service certificate: {hours} h. Verification number {number}.").format(
            hours=texts.hours(issued.certificate.minutes), number=number
        ),
    )


@router.message(Command("verify"))
async def verify(message: Message, command: CommandObject, db: Database, settings: Settings, user: User) -> None:
    require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/verify NUMBER, for example /verify ZYFW-2026-AB3CDE"))
    async with db.read() as s:
        cert, _volunteer = await certificates.verify(s, user, command.args.split()[0])
    issued = cert.issued_at.astimezone(settings.tz).date()
    period = (
        _("{start} to {end}").format(start=cert.date_from.isoformat(), end=cert.date_to.isoformat())
        if cert.date_from and cert.date_to
        else _("all records up to {issued}").format(issued=issued.isoformat())
    )
    await message.answer(
        "\n".join(
            [
                _("✅ Certificate {number} was issued by this station.").format(number=cert.number),
                _("Volunteer: {name}").format(name=cert.volunteer_name or "—"),  # the name on the certificate
                _("Period: {period}").format(period=period),
                _("Hours: {hours} h in {count} service(s)").format(hours=texts.hours(cert.minutes), count=cert.entries),
                _("Date of issue: {date}").format(date=issued.isoformat()),
            ]
        )
    )
