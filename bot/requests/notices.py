"""What the bot owes people after a state change, written to the outbox in the same transaction.

Each text is rendered in its recipient's language; groups get the station's default language.
Cards never carry the resident's address or phone.
"""
from __future__ import annotations

import inspect
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.requests import keyboards as request_keyboards
from bot.ui import texts
from bot.core.clock import Clock
from bot.ledger import service as ledger
from bot.people.service import coordinators
from storage.models import OutboxMessage, Request, RequestEvent, Service, Team, User, Volunteer


class Notices:
    def __init__(self, i18n: I18n, tz: ZoneInfo, default_locale: str, points_per_hour: int, clock: Clock):
        self.i18n = i18n
        self.clock = clock
        self.tz = tz
        self.default_locale = default_locale
        self.points_per_hour = points_per_hour

    # plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _in(self, locale: str):
        with self.i18n.context(), self.i18n.use_locale(locale):
            yield

    async def _locale_of(self, s: AsyncSession, user_id: int) -> str:
        user = await s.get(User, user_id)
        return user.locale if user else self.default_locale

    def _put(self, s: AsyncSession, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None,
             *, method: str = "send", ref: str | None = None) -> None:
        now = self.clock.now()
        s.add(OutboxMessage(chat_id=chat_id, method=method, text=text,
                            markup=markup.model_dump_json(exclude_none=True) if markup else None,
                            ref=ref, status="pending", attempts=0, next_attempt_at=now, created_at=now))
        s.info["outbox"] = True  # Database.tx wakes the sender after commit

    async def _to_user(self, s: AsyncSession, user_id: int, render) -> None:
        """render() runs in the user's locale and returns (or awaits to) text or (text, markup)."""
        with self._in(await self._locale_of(s, user_id)):
            out = render()
            if inspect.isawaitable(out):
                out = await out
        text, markup = out if isinstance(out, tuple) else (out, None)
        self._put(s, user_id, text, markup)

    async def _to_coordinators(self, s: AsyncSession, render, *, skip: int | None = None) -> None:
        for user in await coordinators(s):
            if user.id != skip:
                await self._to_user(s, user.id, render)

    async def _card_chats(self, s: AsyncSession, req: Request) -> list[int]:
        rows = await s.execute(select(OutboxMessage.chat_id).where(
            OutboxMessage.ref == f"card:{req.id}", OutboxMessage.method == "send").distinct())
        return list(rows.scalars())

    async def _edit_cards(self, s: AsyncSession, req: Request, status_line: str, markup=None) -> None:
        for chat_id in await self._card_chats(s, req):
            with self._in(self.default_locale):
                text = await self._card_text(s, req, status_line)
                kb = markup() if markup else None
            self._put(s, chat_id, text, kb, method="edit", ref=f"card:{req.id}")

    # texts ------------------------------------------------------------------------------------

    async def _service(self, s: AsyncSession, req: Request) -> Service | None:
        return await s.get(Service, req.service_id)

    async def _card_text(self, s: AsyncSession, req: Request, status_line: str) -> str:
        service = texts.service_name(await self._service(s, req), self.i18n.current_locale)
        return "\n".join([
            _("🆕 Request {number}").format(number=texts.number(req)),
            _("Service: {service}").format(service=service),
            _("Need: {description}").format(description=req.description),
            _("When: {window}").format(window=texts.fmt_window(req.window_start, req.window_end, self.tz)),
            _("Area: {area}").format(area=req.area),
            *([_("帮办 order for {name}: placed by a station helper for a resident without Telegram.").format(
                name=req.proxy_for)] if req.proxy_for else []),
            status_line,
        ])

    async def summary(self, s: AsyncSession, req: Request, *, private: bool) -> str:
        """A request's details for one person; private=True adds the address and phone."""
        lines = [await self._card_text(s, req, _("Status: {status}").format(status=texts.status_name(req.status)))]
        if private:
            lines.append(_("Address: {address}").format(address=req.address or _("(not given)")))
            lines.append(_("Phone: {phone}").format(phone=req.phone or _("(not given)")))
        return "\n".join(lines)

    async def _volunteer_name(self, s: AsyncSession, user_id: int | None) -> str:
        volunteer = await s.get(Volunteer, user_id) if user_id else None
        return volunteer.name if volunteer else "—"

    # notices ------------------------------------------------------------------------------------

    async def placed(self, s: AsyncSession, req: Request) -> None:
        with self._in(await self._locale_of(s, req.resident_id)):
            text = "\n".join([
                _("✅ Your request {number} has been placed.").format(number=texts.number(req)),
                _("It has gone to the coordinators for review; you will hear from me soon.")
                if req.status == "review" else
                _("It has been sent to the volunteers. I will tell you as soon as someone accepts it."),
                _("Your address and phone are only given to the volunteer who takes it. /my shows your requests."),
            ])
        self._put(s, req.resident_id, text)

    async def review_needed(self, s: AsyncSession, req: Request) -> None:
        async def render():
            return "\n".join([_("📥 New request to review:"), await self.summary(s, req, private=True)]), \
                request_keyboards.review(req.id)
        await self._to_coordinators(s, render)

    async def dispatched(self, s: AsyncSession, req: Request, chats: list[int]) -> None:
        for chat_id in chats:
            with self._in(self.default_locale):
                text = await self._card_text(s, req, _("Status: waiting for a volunteer"))
                kb = request_keyboards.card(req.id)
            self._put(s, chat_id, text, kb, ref=f"card:{req.id}")
        if not chats:
            team = await s.get(Team, req.team_id) if req.team_id else None
            await self._to_coordinators(s, lambda: _(
                "⚠️ Request {number} is for team “{team}”, which has no bound group. "
                "Bind one with /bind in the group.").format(number=texts.number(req), team=team.name if team else "—"))
        if req.status == "open" and await self._was_reviewed(s, req):
            await self._to_user(s, req.resident_id, lambda: _(
                "📤 Your request {number} has been sent to the volunteers.").format(number=texts.number(req)))

    async def _was_reviewed(self, s: AsyncSession, req: Request) -> bool:
        rows = await s.execute(select(RequestEvent.id).where(RequestEvent.request_id == req.id,
                                                             RequestEvent.kind == "dispatched"))
        return rows.first() is not None

    async def claimed(self, s: AsyncSession, req: Request, volunteer: Volunteer) -> None:
        with self._in(self.default_locale):
            line = _("Status: ✅ taken by {name}").format(name=volunteer.name)
        await self._edit_cards(s, req, line)
        await self._to_user(s, req.resident_id, lambda: _(
            "🙋 Good news: volunteer {name} has taken your request {number} and will come at the agreed time."
        ).format(name=volunteer.name, number=texts.number(req)))
        with self._in(await self._locale_of(s, volunteer.user_id)):
            text = "\n".join([_("You have taken request {number}. Thank you!").format(number=texts.number(req)),
                              await self.summary(s, req, private=True),
                              _("Please keep the address and phone to yourself. When the service is done, "
                                "tap “Service done”.")])
            kb = request_keyboards.task(req.id)
        self._put(s, volunteer.user_id, text, kb)

    async def released(self, s: AsyncSession, req: Request, volunteer: Volunteer) -> None:
        with self._in(self.default_locale):
            line = _("Status: waiting for a volunteer (released by {name})").format(name=volunteer.name)
        await self._edit_cards(s, req, line, markup=lambda: request_keyboards.card(req.id))
        await self._to_user(s, req.resident_id, lambda: _(
            "ℹ️ The volunteer can no longer come for request {number}. It is open again for other volunteers."
        ).format(number=texts.number(req)))

    async def reported(self, s: AsyncSession, req: Request) -> None:
        assert req.claimer_id is not None  # reported by its volunteer
        name = await self._volunteer_name(s, req.claimer_id)
        with self._in(self.default_locale):
            line = _("Status: ✔️ done by {name}").format(name=name)
        await self._edit_cards(s, req, line)
        await self._to_user(s, req.resident_id, lambda: (_(
            "🧾 Volunteer {name} reports that request {number} is done ({hours} h). "
            "Please confirm and rate the service:").format(name=name, number=texts.number(req),
                                                         hours=texts.hours(req.reported_minutes)),
            request_keyboards.rate(req.id)))
        await self._to_user(s, req.claimer_id, lambda: _(
            "Thank you! I have asked the resident to confirm request {number}; "
            "a coordinator will then approve your {hours} h.").format(number=texts.number(req),
                                                                    hours=texts.hours(req.reported_minutes)))

    async def confirmed(self, s: AsyncSession, req: Request) -> None:
        assert req.claimer_id is not None  # a done request has its volunteer
        name = await self._volunteer_name(s, req.claimer_id)
        await self._to_user(s, req.claimer_id, lambda: _(
            "⭐ The resident confirmed request {number} and rated it {stars} of 5.").format(
            number=texts.number(req), stars=req.rating))

        await self._to_coordinators(s, lambda: (
            _("🕒 Hours to approve: request {number}, volunteer {name}, {hours} h, rated {stars} of 5.").format(
                number=texts.number(req), name=name, hours=texts.hours(req.reported_minutes), stars=req.rating),
            request_keyboards.approve(req.id)), skip=req.claimer_id)

    async def approved(self, s: AsyncSession, req: Request, corrected: bool) -> None:
        assert req.claimer_id is not None and req.approved_minutes is not None  # approved: his hours are set
        total = await ledger.totals(s, req.claimer_id)
        points = ledger.points_for(req.approved_minutes, self.points_per_hour)

        def render():
            head = _("🎉 Your {hours} h for request {number} are approved: +{points} points.").format(
                hours=texts.hours(req.approved_minutes), number=texts.number(req), points=points)
            if corrected:
                head += "\n" + _("The coordinator corrected your reported {reported} h.").format(
                    reported=texts.hours(req.reported_minutes))
            return head + "\n" + _("In all: {hours} h, {points} points.").format(
                hours=texts.hours(total.minutes), points=total.points)
        await self._to_user(s, req.claimer_id, render)
        with self._in(self.default_locale):
            line = _("Status: 🏁 closed, {hours} h by {name}").format(
                hours=texts.hours(req.approved_minutes), name=await self._volunteer_name(s, req.claimer_id))
        await self._edit_cards(s, req, line)

    async def cancelled(self, s: AsyncSession, req: Request, by_coordinator: bool) -> None:
        with self._in(self.default_locale):
            line = _("Status: ❌ cancelled")
        await self._edit_cards(s, req, line)
        if req.claimer_id:
            await self._to_user(s, req.claimer_id, lambda: _(
                "❌ Request {number}, which you had taken, has been cancelled. No need to go.").format(
                number=texts.number(req)))
        await self._to_user(s, req.resident_id, lambda: (
            _("❌ A coordinator has cancelled your request {number}.") if by_coordinator
            else _("❌ Your request {number} has been cancelled.")).format(number=texts.number(req)))

    async def rejected(self, s: AsyncSession, req: Request) -> None:
        await self._to_user(s, req.resident_id, lambda: _(
            "We are sorry: your request {number} could not be accepted.\nReason: {reason}").format(
            number=texts.number(req), reason=req.closed_reason))

    # follow-ups (scheduling.followups) ----------------------------------------------------------

    async def reposted(self, s: AsyncSession, req: Request, chats: list[int], minutes: int) -> None:
        """Nobody took an open request in time: a new card in the team's groups, and word to the coordinators."""
        for chat_id in chats:
            with self._in(self.default_locale):
                text = await self._card_text(s, req, _("Status: still waiting for a volunteer (posted again)"))
                kb = request_keyboards.card(req.id)
            self._put(s, chat_id, text, kb, ref=f"card:{req.id}")
        await self._to_coordinators(s, lambda: (
            _("⏰ Request {number} has not been taken for {hours} h. I have posted it again to the team's groups.")
            if chats else
            _("⏰ Request {number} has not been taken for {hours} h, and its team has no bound group. "
              "Bind one with /bind in the group.")).format(number=texts.number(req), hours=texts.hours(minutes)))

    async def still_unclaimed(self, s: AsyncSession, req: Request, minutes: int) -> None:
        async def render():
            return "\n".join([
                _("⚠️ Request {number} is still not taken, {hours} h after it was sent to the volunteers. "
                  "/pending shows what is open.").format(number=texts.number(req), hours=texts.hours(minutes)),
                await self.summary(s, req, private=False)])
        await self._to_coordinators(s, render)

    async def unrated(self, s: AsyncSession, req: Request) -> None:
        """A done request the resident has not rated for 72 h: the coordinators may approve it as it is."""
        name = await self._volunteer_name(s, req.claimer_id)
        await self._to_coordinators(s, lambda: (
            _("🕒 Hours to approve: request {number}, volunteer {name}, {hours} h. "
              "The resident has not confirmed or rated it within 72 h.").format(
                number=texts.number(req), name=name, hours=texts.hours(req.reported_minutes)),
            request_keyboards.approve(req.id)), skip=req.claimer_id)

    # ledger, disputes, star levels (bot/ledger_notices.py) ------------------------------------

    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None:
        from bot.ledger import notices as ledger_notices  # imported here: it builds on this class's plumbing
        await ledger_notices.star_reached(self, s, volunteer, level, chats)

    async def dispute_opened(self, s: AsyncSession, dispute, entry) -> None:
        from bot.ledger import notices as ledger_notices
        await ledger_notices.dispute_opened(self, s, dispute, entry)

    async def dispute_resolved(self, s: AsyncSession, dispute, entry, fixed) -> None:
        from bot.ledger import notices as ledger_notices
        await ledger_notices.dispute_resolved(self, s, dispute, entry, fixed)

    async def shortlist(self, s: AsyncSession, month: str, rows, teams) -> None:
        from bot.ledger import notices as ledger_notices
        await ledger_notices.shortlist(self, s, month, rows, teams)

    async def vote_poll(self, s: AsyncSession, chat_id: int, month: str, names: list[str]) -> None:
        from bot.ledger import notices as ledger_notices
        await ledger_notices.vote_poll(self, s, chat_id, month, names)
