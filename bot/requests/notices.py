"""What the bot owes people after a state change, written to the outbox in the same transaction.

Each text is rendered in its recipient's language; groups get the station's default language.
Cards never carry the resident's address or phone.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ledger import service as ledger
from bot.ledger.stars import StarNotices
from bot.org import service as org
from bot.outbox import Outbox
from bot.requests import keyboards as request_keyboards
from bot.requests import media
from bot.ui import texts
from storage.models import Request, RequestEvent, Service, Team, User, Volunteer


class RequestNotices:
    """What a request's changes owe the resident, its volunteer, the coordinators and the team's groups.

    Approving hours may reach a star level: `stars` (the ledger's notices) congratulates.
    """

    def __init__(self, outbox: Outbox, stars: StarNotices, points_per_hour: int):
        self.outbox = outbox
        self.stars = stars
        self.points_per_hour = points_per_hour

    async def _to_coordinators(self, s: AsyncSession, req: Request, render, *, skip: int | None = None) -> None:
        """The coordinators whose scope holds the request: its station's, its 所's, the 中心's (and the serving
        team's level when the request went up)."""
        await self.outbox.to_coordinators(s, render, skip=skip, nodes=await org.request_nodes(s, req))

    async def _edit_cards(self, s: AsyncSession, req: Request, status_line: str, markup=None) -> None:
        for chat_id in await self.outbox.sent_chats(s, f"card:{req.id}"):
            with self.outbox.in_station_locale():
                text = await self._card_text(s, req, status_line)
                kb = markup() if markup else None
            self.outbox.to_chat(s, chat_id, text, kb, method="edit", ref=f"card:{req.id}")

    # texts ------------------------------------------------------------------------------------

    async def _service(self, s: AsyncSession, req: Request) -> Service | None:
        return await s.get(Service, req.service_id)

    async def _card_text(self, s: AsyncSession, req: Request, status_line: str) -> str:
        return "\n".join(
            [_("🆕 Request {number}").format(number=texts.number(req)), await self._details(s, req), status_line]
        )

    async def _details(self, s: AsyncSession, req: Request) -> str:
        """What the request is, when and where (the area): the lines a card and a private text share."""
        service = texts.service_name(await self._service(s, req), self.outbox.current_locale)
        return "\n".join(
            [
                _("Service: {service}").format(service=service),
                _("Need: {description}").format(description=media.described(req.description, media.loads(req.media))),
                _("When: {window}").format(window=texts.fmt_window(req.window_start, req.window_end, self.outbox.tz)),
                _("Area: {area}").format(area=req.area),
                *(
                    [
                        _("帮办 order for {name}: placed by a station helper for a resident without Telegram.").format(
                            name=req.proxy_for
                        )
                    ]
                    if req.proxy_for
                    else []
                ),
            ]
        )

    async def summary(self, s: AsyncSession, req: Request, *, private: bool) -> str:
        """A request's details for one person; private=True adds the address and phone."""
        lines = [await self._card_text(s, req, _("Status: {status}").format(status=texts.status_name(req.status)))]
        if private:
            lines.append(_("Address: {address}").format(address=req.address or _("(not given)")))
            told = media.label(media.of_step(media.loads(req.media), media.ADDRESS))
            if told:
                lines.append(_("At the address step: {media}").format(media=told))
            lines.append(_("Phone: {phone}").format(phone=req.phone or _("(not given)")))
        return "\n".join(lines)

    def _address_media(self, req: Request) -> list[str]:
        """What the resident said or showed at the address step (private like the address), as a line."""
        told = media.label(media.of_step(media.loads(req.media), media.ADDRESS))
        return [_("At the address step: {media}").format(media=told)] if told else []

    async def media_to(self, s: AsyncSession, user_id: int, req: Request) -> None:
        """The request's voice messages and photos, sent on privately by their file ids (never to a group)."""
        items = media.loads(req.media)
        if not items:
            return
        with self.outbox.in_locale(await self.outbox.locale_of(s, user_id)):
            captions = {
                media.NEED: _("Request {number}: the need").format(number=texts.number(req)),
                media.ADDRESS: _("Request {number}: the address (private)").format(number=texts.number(req)),
            }
        for item in items:
            self.outbox.media(s, user_id, item["kind"], item["id"], captions.get(item["step"], ""))

    async def _volunteer_name(self, s: AsyncSession, user_id: int | None) -> str:
        volunteer = await s.get(Volunteer, user_id) if user_id else None
        return volunteer.name if volunteer else "—"

    # notices ------------------------------------------------------------------------------------

    async def placed(self, s: AsyncSession, req: Request) -> None:
        with self.outbox.in_locale(await self.outbox.locale_of(s, req.resident_id)):
            text = "\n".join(
                [
                    _("✅ Your request {number} has been placed.").format(number=texts.number(req)),
                    _("It has gone to the coordinators for review; you will hear from me soon.")
                    if req.status == "review"
                    else _("It has been sent to the volunteers. I will tell you as soon as someone accepts it."),
                    _("Your address and phone are only given to the volunteer who takes it. /my shows your requests."),
                ]
            )
            kb = None
            if req.regular_id is not None:  # placed by a regular need: one tap skips this time
                day = req.window_start.astimezone(self.outbox.tz).date()
                text = "\n".join(
                    [
                        _("📅 Your regular need: I have placed it for {window}.").format(
                            window=texts.fmt_window(req.window_start, req.window_end, self.outbox.tz)
                        ),
                        text,
                        _("Not needed this time? Tap the button below."),
                    ]
                )
                kb = request_keyboards.skip_occurrence(req.regular_id, day.isoformat())
        self.outbox.to_chat(s, req.resident_id, text, kb)

    async def offered(self, s: AsyncSession, req: Request) -> None:
        """A regular need's occurrence, offered first to the volunteer who took the previous one."""
        assert req.offered_to is not None and req.offered_until is not None
        local_until = req.offered_until.astimezone(self.outbox.tz)

        async def render():
            return "\n".join(
                [
                    _(
                        "🔁 You helped this resident last time. Would you take the next visit too? Otherwise it goes "
                        "to the team's group at {time}."
                    ).format(time=f"{texts.fmt_day(local_until.date())} {local_until:%H:%M}"),
                    await self._card_text(s, req, ""),
                ]
            ).strip(), request_keyboards.offer(req.id)

        await self.outbox.to_user(s, req.offered_to, render)

    async def review_needed(self, s: AsyncSession, req: Request) -> None:
        async def render():
            return "\n".join(
                [_("📥 New request to review:"), await self.summary(s, req, private=True)]
            ), request_keyboards.review(req.id)

        await self._to_coordinators(s, req, render)
        # they hear the voice message (and see the photos) in review: the same coordinators, of the request's scope
        for coordinator in await org.coordinators_of(s, await org.request_nodes(s, req)):
            await self.media_to(s, coordinator.id, req)

    async def dispatched(self, s: AsyncSession, req: Request, chats: list[int]) -> None:
        for chat_id in chats:
            with self.outbox.in_station_locale():
                text = await self._card_text(s, req, _("Status: waiting for a volunteer"))
                kb = request_keyboards.card(req.id)
            self.outbox.to_chat(s, chat_id, text, kb, ref=f"card:{req.id}")
        if not chats:
            team = await s.get(Team, req.team_id) if req.team_id else None
            await self._to_coordinators(
                s,
                req,
                lambda: _(
                    "⚠️ Request {number} is for team “{team}”, which has no bound group. "
                    "Bind one with /bind in the group."
                ).format(number=texts.number(req), team=team.name if team else "—"),
            )
        if req.status == "open" and await self._was_reviewed(s, req):
            await self.outbox.to_user(
                s,
                req.resident_id,
                lambda: _("📤 Your request {number} has been sent to the volunteers.").format(number=texts.number(req)),
            )

    async def _was_reviewed(self, s: AsyncSession, req: Request) -> bool:
        rows = await s.execute(
            select(RequestEvent.id).where(RequestEvent.request_id == req.id, RequestEvent.kind == "dispatched")
        )
        return rows.first() is not None

    async def claimed(self, s: AsyncSession, req: Request, volunteer: Volunteer) -> None:
        with self.outbox.in_station_locale():
            line = _("Status: ✅ taken by {name}").format(name=volunteer.name)
        await self._edit_cards(s, req, line)
        await self.outbox.to_user(
            s,
            req.resident_id,
            lambda: _(
                "🙋 Good news: volunteer {name} has taken your request {number} and will come at the agreed time."
            ).format(name=volunteer.name, number=texts.number(req)),
        )
        with self.outbox.in_locale(await self.outbox.locale_of(s, volunteer.user_id)):
            text = "\n".join(
                [
                    _("You have taken request {number}. Thank you!").format(number=texts.number(req)),
                    await self._details(s, req),
                    _("Address: {address}").format(address=req.address or _("(not given)")),
                    *self._address_media(req),
                    _("Phone: {phone}").format(phone=req.phone or _("(not given)")),
                    _("Please keep the address and phone to yourself. When the service is done, tap “Service done”."),
                ]
            )
            kb = request_keyboards.task(req.id)
        self.outbox.to_chat(s, volunteer.user_id, text, kb)
        await self.media_to(s, volunteer.user_id, req)

    async def released(
        self, s: AsyncSession, req: Request, volunteer: Volunteer, by: User | None = None, count: int = 0
    ) -> None:
        """The request is open again: released by its volunteer (his `count`th release in 24 h), or for him by
        the coordinator `by`."""
        with self.outbox.in_station_locale():
            line = _("Status: waiting for a volunteer (released by {name})").format(name=volunteer.name)
        await self._edit_cards(s, req, line, markup=lambda: request_keyboards.card(req.id))
        await self.outbox.to_user(
            s,
            req.resident_id,
            lambda: _(
                "ℹ️ The volunteer can no longer come for request {number}. It is open again for other volunteers."
            ).format(number=texts.number(req)),
        )
        if by is not None:
            await self.outbox.to_user(
                s,
                volunteer.user_id,
                lambda: _(
                    "↩️ A coordinator has released request {number} for you; it is open to other volunteers."
                ).format(number=texts.number(req)),
            )
        elif req.address or req.phone:  # he had received the contact: the coordinators keep an eye on it
            await self._to_coordinators(
                s,
                req,
                lambda: _(
                    "ℹ️ Volunteer {name} released request {number} after receiving its address and phone "
                    "(his release number {count} in 24 hours). /history {plain} shows who received them."
                ).format(name=volunteer.name, number=texts.number(req), count=count, plain=req.number),
                skip=volunteer.user_id,
            )

    async def release_asked(self, s: AsyncSession, req: Request, volunteer: Volunteer, count: int) -> None:
        """The volunteer wants to give the request back past RELEASES_PER_DAY: the coordinators decide."""
        await self._to_coordinators(
            s,
            req,
            lambda: (
                _(
                    "🙋 Volunteer {name} asks to give back request {number} ({window}). He has already released "
                    "{count} requests in the last 24 hours, each time after receiving the resident's address and "
                    "phone. /history {plain} shows them. Release it for him, or ask him to keep it?"
                ).format(
                    name=volunteer.name,
                    number=texts.number(req),
                    window=texts.fmt_window(req.window_start, req.window_end, self.outbox.tz),
                    count=count,
                    plain=req.number,
                ),
                request_keyboards.release_decision(req.id, volunteer.user_id),
            ),
            skip=volunteer.user_id,
        )

    async def release_kept(self, s: AsyncSession, req: Request, volunteer: Volunteer, by: User) -> None:
        await self.outbox.to_user(
            s,
            volunteer.user_id,
            lambda: _(
                "A coordinator asks you to keep request {number}. If you really cannot come, please contact "
                "coordinator {name}."
            ).format(number=texts.number(req), name=by.full_name or by.id),
        )

    async def reported(self, s: AsyncSession, req: Request) -> None:
        assert req.claimer_id is not None  # reported by its volunteer
        name = await self._volunteer_name(s, req.claimer_id)
        with self.outbox.in_station_locale():
            line = _("Status: ✔️ done by {name}").format(name=name)
        await self._edit_cards(s, req, line)
        await self.outbox.to_user(
            s,
            req.resident_id,
            lambda: (
                _(
                    "🧾 Volunteer {name} reports that request {number} is done ({hours} h). "
                    "Please confirm and rate the service:"
                ).format(name=name, number=texts.number(req), hours=texts.hours(req.reported_minutes)),
                request_keyboards.rate(req.id),
            ),
        )
        await self.outbox.to_user(
            s,
            req.claimer_id,
            lambda: _(
                "Thank you! I have asked the resident to confirm request {number}; "
                "a coordinator will then approve your {hours} h."
            ).format(number=texts.number(req), hours=texts.hours(req.reported_minutes)),
        )

    async def confirmed(self, s: AsyncSession, req: Request) -> None:
        assert req.claimer_id is not None  # a done request has its volunteer
        name = await self._volunteer_name(s, req.claimer_id)
        await self.outbox.to_user(
            s,
            req.claimer_id,
            lambda: _("⭐ The resident confirmed request {number} and rated it {stars} of 5.").format(
                number=texts.number(req), stars=req.rating
            ),
        )

        await self._to_coordinators(
            s,
            req,
            lambda: (
                _("🕒 Hours to approve: request {number}, volunteer {name}, {hours} h, rated {stars} of 5.").format(
                    number=texts.number(req), name=name, hours=texts.hours(req.reported_minutes), stars=req.rating
                ),
                request_keyboards.approve(req.id),
            ),
            skip=req.claimer_id,
        )
        await self.done_photos_to_coordinators(s, req)

    async def done_photos_to_coordinators(self, s: AsyncSession, req: Request) -> None:
        """The volunteer's photos of the service (his done report's), privately to the coordinators who approve the
        hours (not to himself, if he is one): sent on by their file ids."""
        photos = media.of_step(media.loads(req.media), media.DONE)
        if not photos:
            return
        for coordinator in await org.coordinators_of(s, await org.request_nodes(s, req)):
            if coordinator.id == req.claimer_id:
                continue
            with self.outbox.in_locale(await self.outbox.locale_of(s, coordinator.id)):
                captions = [
                    _("Request {number}: photo {n} of {count} of the service").format(
                        number=texts.number(req), n=n, count=len(photos)
                    )
                    for n in range(1, len(photos) + 1)
                ]
            for item, caption in zip(photos, captions, strict=True):
                self.outbox.media(s, coordinator.id, "photo", item["id"], caption)

    async def approved(self, s: AsyncSession, req: Request, corrected: bool) -> None:
        assert req.claimer_id is not None and req.approved_minutes is not None  # approved: his hours are set
        total = await ledger.totals(s, req.claimer_id)
        points = ledger.points_for(req.approved_minutes, self.points_per_hour)

        def render():
            head = _("🎉 Your {hours} h for request {number} are approved: +{points} points.").format(
                hours=texts.hours(req.approved_minutes), number=texts.number(req), points=points
            )
            if corrected:
                head += "\n" + _("The coordinator corrected your reported {reported} h.").format(
                    reported=texts.hours(req.reported_minutes)
                )
            return (
                head
                + "\n"
                + _("In all: {hours} h, {points} points.").format(hours=texts.hours(total.minutes), points=total.points)
            )

        await self.outbox.to_user(s, req.claimer_id, render)
        with self.outbox.in_station_locale():
            line = _("Status: 🏁 closed, {hours} h by {name}").format(
                hours=texts.hours(req.approved_minutes), name=await self._volunteer_name(s, req.claimer_id)
            )
        await self._edit_cards(s, req, line)

    async def cancelled(self, s: AsyncSession, req: Request, by_coordinator: bool) -> None:
        with self.outbox.in_station_locale():
            line = _("Status: ❌ cancelled")
        await self._edit_cards(s, req, line)
        if req.claimer_id:
            await self.outbox.to_user(
                s,
                req.claimer_id,
                lambda: _("❌ Request {number}, which you had taken, has been cancelled. No need to go.").format(
                    number=texts.number(req)
                ),
            )
        await self.outbox.to_user(
            s,
            req.resident_id,
            lambda: (
                _("❌ A coordinator has cancelled your request {number}.")
                if by_coordinator
                else _("❌ Your request {number} has been cancelled.")
            ).format(number=texts.number(req)),
        )

    async def rejected(self, s: AsyncSession, req: Request) -> None:
        await self.outbox.to_user(
            s,
            req.resident_id,
            lambda: _("We are sorry: your request {number} could not be accepted.\nReason: {reason}").format(
                number=texts.number(req), reason=req.closed_reason
            ),
        )

    # follow-ups (bot.requests.followups) --------------------------------------------------------

    async def reposted(self, s: AsyncSession, req: Request, chats: list[int], minutes: int) -> None:
        """Nobody took an open request in time: a new card in the team's groups, and word to the coordinators."""
        for chat_id in chats:
            with self.outbox.in_station_locale():
                text = await self._card_text(s, req, _("Status: still waiting for a volunteer (posted again)"))
                kb = request_keyboards.card(req.id)
            self.outbox.to_chat(s, chat_id, text, kb, ref=f"card:{req.id}")
        await self._to_coordinators(
            s,
            req,
            lambda: (
                _("⏰ Request {number} has not been taken for {hours} h. I have posted it again to the team's groups.")
                if chats
                else _(
                    "⏰ Request {number} has not been taken for {hours} h, and its team has no bound group. "
                    "Bind one with /bind in the group."
                )
            ).format(number=texts.number(req), hours=texts.hours(minutes)),
        )

    async def moved(
        self, s: AsyncSession, req: Request, chats: list[int], *, to: str, reason: str | None, by_hand: bool
    ) -> None:
        """The request went to another team (up a level when nobody took it, or 转派 by hand): the cards it had
        say where it went and lose their button; the new team's groups get a card; the coordinators of both
        levels hear it (the request's station's and the new team's)."""
        with self.outbox.in_station_locale():
            line = _("Status: handed on to {to}") if by_hand else _("Status: offered to {to}")
        await self._edit_cards(s, req, line.format(to=to))
        for chat_id in chats:
            with self.outbox.in_station_locale():
                status = (
                    _("Status: handed on to your team, waiting for a volunteer")
                    if by_hand
                    else _("Status: not taken at its station, offered to your team")
                )
                text = await self._card_text(s, req, status)
                kb = request_keyboards.card(req.id)
            self.outbox.to_chat(s, chat_id, text, kb, ref=f"card:{req.id}")
        await self._to_coordinators(
            s,
            req,
            lambda: (
                (
                    _("↪️ Request {number} was handed on to {to}. Reason: {reason}").format(
                        number=texts.number(req), to=to, reason=reason
                    )
                    if by_hand
                    else _("⏫ Nobody at its station took request {number} in time: it is now offered to {to}.").format(
                        number=texts.number(req), to=to
                    )
                )
                + (
                    ""
                    if chats or req.status != "open"
                    else "\n" + _("Its new team has no bound group: bind one with /bind.")
                )
            ),
        )

    async def still_unclaimed(self, s: AsyncSession, req: Request, minutes: int) -> None:
        async def render():
            return "\n".join(
                [
                    _(
                        "⚠️ Request {number} is still not taken, {hours} h after it was sent to the volunteers. "
                        "/pending shows what is open."
                    ).format(number=texts.number(req), hours=texts.hours(minutes)),
                    await self.summary(s, req, private=False),
                ]
            )

        await self._to_coordinators(s, req, render)

    async def unrated(self, s: AsyncSession, req: Request) -> None:
        """A done request the resident has not rated for 72 h: the coordinators may approve it as it is."""
        name = await self._volunteer_name(s, req.claimer_id)
        await self._to_coordinators(
            s,
            req,
            lambda: (
                _(
                    "🕒 Hours to approve: request {number}, volunteer {name}, {hours} h. "
                    "The resident has not confirmed or rated it within 72 h."
                ).format(number=texts.number(req), name=name, hours=texts.hours(req.reported_minutes)),
                request_keyboards.approve(req.id),
            ),
            skip=req.claimer_id,
        )
        await self.done_photos_to_coordinators(s, req)

    # reminders and overdue questions (bot.requests.reminders) -------------------------------------

    async def reminder(self, s: AsyncSession, req: Request) -> None:
        """An hour before the window: the volunteer who took the request, with its details and buttons."""

        async def render():
            return "\n".join(
                [
                    _("⏰ Reminder: you have taken request {number}; it is at {window}.").format(
                        number=texts.number(req),
                        window=texts.fmt_window(req.window_start, req.window_end, self.outbox.tz),
                    ),
                    await self.summary(s, req, private=True),
                    _("If you cannot come after all, tap “Release” so that another volunteer can take it."),
                ]
            ), request_keyboards.reminder(req.id)

        assert req.claimer_id is not None  # reminded only while taken
        await self.outbox.to_user(s, req.claimer_id, render)

    async def overdue(self, s: AsyncSession, req: Request) -> None:
        """The window has ended and the request is not reported done: the volunteer is asked."""

        async def render():
            return "\n".join(
                [
                    _("❓ Request {number} was due by {end}, but it has not been reported done.").format(
                        number=texts.number(req), end=texts.fmt_time(req.window_end, self.outbox.tz)
                    ),
                    await self.summary(s, req, private=False),
                    _(
                        "If the service took place, tap “Service done”. If it did not, tell me and I will let the "
                        "coordinators know."
                    ),
                ]
            ), request_keyboards.overdue(req.id)

        assert req.claimer_id is not None  # asked only while taken
        await self.outbox.to_user(s, req.claimer_id, render)

    async def overdue_escalated(self, s: AsyncSession, req: Request) -> None:
        """A day after that question, still not reported: the coordinators are told."""
        name = await self._volunteer_name(s, req.claimer_id)

        async def render():
            return "\n".join(
                [
                    _(
                        "⚠️ Request {number}, taken by {name}, ended on {end} and has still not been reported done. "
                        "Please contact the volunteer; /cancelreq {plain} cancels the request."
                    ).format(
                        number=texts.number(req),
                        name=name,
                        end=texts.fmt_time(req.window_end, self.outbox.tz),
                        plain=req.number,
                    ),
                    await self.summary(s, req, private=False),
                ]
            )

        await self._to_coordinators(s, req, render, skip=req.claimer_id)

    async def coming(self, s: AsyncSession, req: Request, volunteer_id: int) -> None:
        """The volunteer confirms coming: the resident hears it."""
        name = await self._volunteer_name(s, volunteer_id)
        await self.outbox.to_user(
            s,
            req.resident_id,
            lambda: _("👍 Volunteer {name} confirms coming for your request {number} ({window}).").format(
                name=name,
                number=texts.number(req),
                window=texts.fmt_window(req.window_start, req.window_end, self.outbox.tz),
            ),
        )

    async def not_held(self, s: AsyncSession, req: Request, volunteer_id: int) -> None:
        """The volunteer says the service did not take place: the coordinators hear it."""
        name = await self._volunteer_name(s, volunteer_id)
        await self._to_coordinators(
            s,
            req,
            lambda: _(
                "❗ Volunteer {name} says request {number} did not take place. /history {plain} shows it; "
                "/cancelreq {plain} cancels it."
            ).format(name=name, number=texts.number(req), plain=req.number),
            skip=volunteer_id,
        )

    # star levels (the ledger's notices) -----------------------------------------------------------

    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None:
        await self.stars.star_reached(s, volunteer, level, chats)

    # defences (bot.people.moderation) ------------------------------------------------------------

    async def returned_to_review(self, s: AsyncSession, req: Request) -> None:
        """Its team was archived while it waited: the card no longer takes taps, the coordinators review it."""
        with self.outbox.in_station_locale():
            line = _("Status: back with the coordinators (the team was archived)")
        await self._edit_cards(s, req, line)
        await self.review_needed(s, req)
