"""Messages of the ledger features, written through the outbox in the caller's transaction.

Groups get the station's default language and never a phone number.
"""

from __future__ import annotations

import json

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ledger import keyboards as ledger_keyboards
from bot.ledger import service as ledger
from bot.ledger import texts as ledger_texts
from bot.org import service as org
from bot.outbox import Outbox
from bot.people.service import coordinators
from bot.ui import texts
from storage.models import Dispute, LedgerEntry, Request, Volunteer


async def _numbers(s: AsyncSession, *entries: LedgerEntry | None) -> dict[int, str]:
    out = {}
    for entry in entries:
        if entry is not None and entry.request_id and entry.request_id not in out:
            req = await s.get(Request, entry.request_id)
            out[entry.request_id] = req.number if req else str(entry.request_id)
    return out


def _month_label(month: str) -> str:
    return month  # YYYY-MM reads the same in both languages


class LedgerNotices:
    """Stars, disputes and the 最美志愿者 shortlist and vote, written through the station's outbox."""

    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None:
        total = await ledger.totals(s, volunteer.user_id)
        await self.outbox.to_user(
            s,
            volunteer.user_id,
            lambda: _(
                "🌟 Congratulations! With {hours} h of service you are now a {level}. Thank you for all you do!"
            ).format(hours=texts.hours(total.minutes), level=ledger_texts.star_name(level)),
        )
        for chat_id in chats:
            with self.outbox.in_station_locale():
                text = _("🌟 Congratulations to our volunteer {name}: {hours} h of service, now a {level}!").format(
                    name=volunteer.name, hours=texts.hours(total.minutes), level=ledger_texts.star_name(level)
                )
            self.outbox.to_chat(s, chat_id, text)

    async def dispute_opened(self, s: AsyncSession, dispute: Dispute, entry: LedgerEntry) -> None:
        volunteer = await s.get(Volunteer, dispute.volunteer_id)
        numbers = await _numbers(s, entry)
        await self.outbox.to_coordinators(
            s,
            lambda: (
                _(
                    "⚖️ Dispute {id} from volunteer {name} about this ledger entry:\n{entry}\nWhat is wrong: {text}"
                ).format(
                    id=dispute.id,
                    name=volunteer.name if volunteer else "—",
                    entry=ledger_texts.entry_line(entry, self.outbox.tz, numbers),
                    text=dispute.text,
                ),
                ledger_keyboards.dispute_decide(dispute.id),
            ),
            skip=dispute.volunteer_id,
        )

    async def dispute_resolved(
        self, s: AsyncSession, dispute: Dispute, entry: LedgerEntry, fixed: LedgerEntry | None
    ) -> None:
        total = await ledger.totals(s, dispute.volunteer_id)

        def render():
            if fixed is None:
                return _("Your dispute {id} about entry №{entry} was not accepted.\nReason: {reason}").format(
                    id=dispute.id, entry=entry.id, reason=dispute.resolution
                )
            return "\n".join(
                [
                    _("✅ Your dispute {id} was accepted: entry №{entry} is corrected from {old} h to {new} h.").format(
                        id=dispute.id, entry=entry.id, old=texts.hours(entry.minutes), new=texts.hours(fixed.minutes)
                    ),
                    _("Reason: {reason}").format(reason=dispute.resolution),
                    _("In all: {hours} h, {points} points.").format(
                        hours=texts.hours(total.minutes), points=total.points
                    ),
                ]
            )

        await self.outbox.to_user(s, dispute.volunteer_id, render)

    async def shortlist(self, s: AsyncSession, month: str, rows, teams: list[tuple[int, str]]) -> None:
        """The monthly 最美志愿者 shortlist to every coordinator, with a button per team group to open a vote."""

        def render():
            if not rows:
                return _("🏅 最美志愿者 {month}: no hours were approved that month, so there is no shortlist.").format(
                    month=_month_label(month)
                )
            lines = [
                _("🏅 最美志愿者 {month}: the month's top volunteers by hours, then rating:").format(
                    month=_month_label(month)
                )
            ]
            for i, row in enumerate(rows, 1):
                rating = f" · ⭐{row.rating:.1f}" if row.rating is not None else ""
                hidden = "" if row.public else " " + _("(not shown by name in groups)")
                lines.append(
                    f"{i}. {row.name} · " + _("{hours} h").format(hours=texts.hours(row.minutes)) + rating + hidden
                )
            if teams:
                lines.append(_("Open a vote in a team's group:"))
            return "\n".join(lines), (ledger_keyboards.vote(month, teams) if teams else None)

        await self.outbox.to_coordinators(s, render)

    async def advanced_stations(self, s: AsyncSession, month: str, lines: list) -> None:
        """The month's 先进站 shortlist to the 中心's coordinators (and administrators); nothing when there is none."""
        if not lines:
            return
        from bot.reports import texts as report_texts
        from bot.reports.service import hours_per_volunteer

        def render() -> str:
            out = [_("🏅 先进站 {month}: the month's best stations, by hours per volunteer:").format(month=month)]
            for i, line in enumerate(lines, 1):
                out.append(
                    f"{i}. "
                    + report_texts.named(line.name, "")
                    + _("{per} h per volunteer · done {done} · rating {rating}").format(
                        per=f"{hours_per_volunteer(line):.1f}",
                        done=line.figures.done,
                        rating=report_texts.average(line.figures.rating_average),
                    )
                )
            out.append(_("Send /rank stations for every station."))
            return "\n".join(out)

        for user in await coordinators(s):
            if org.is_centre(user):
                await self.outbox.to_user(s, user.id, render)

    async def vote_poll(self, s: AsyncSession, chat_id: int, month: str, names: list[str]) -> None:
        with self.outbox.in_station_locale():
            question = _("🏅 Who should be the 最美志愿者 of {month}?").format(month=_month_label(month))
        poll = {"question": question[:300], "options": [name[:100] for name in names]}
        self.outbox.to_chat(s, chat_id, json.dumps(poll, ensure_ascii=False), method="poll")
