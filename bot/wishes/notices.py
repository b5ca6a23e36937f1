"""What a wish's changes owe the wisher, its claimer, the coordinators and the wall, through the outbox.

A wall card carries what the wish is, a first name, the station and the status: never a full name, an address or a
phone. The contact the coordinator chose goes to the claimer only, privately; a decline's reason to the wisher only.
The wisher's photo is private (the coordinators in review, the claimer); the delivery photo is shown on the wall.
`fulfilled_public_text` is the hook for the public 公示 channel (bot/showcase).
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ledger.stars import StarNotices
from bot.org import service as org
from bot.outbox import Outbox
from bot.showcase import service as showcase
from bot.ui import texts as common
from bot.wishes import keyboards, texts
from bot.wishes import service as wishes
from storage.models import OrgNode, User, Volunteer, Wish


def fulfilled_public_text(wish: Wish, station: str, tz: ZoneInfo) -> str:
    """The anonymised line a fulfilled wish is announced with in the public 公示 channel (bot/showcase calls it):
    what was wished, the station, the month. Never the wisher's or the claimer's name, never a phone or address."""
    at = (wish.fulfilled_at or wish.updated_at).astimezone(tz)
    return _("🌈 A small wish came true at {station} in {month}: {what}.").format(
        station=station, month=_("{year}-{month}").format(year=at.year, month=at.month), what=wish.what
    )


class WishNotices:
    def __init__(self, outbox: Outbox, stars: StarNotices):
        self.outbox = outbox
        self.stars = stars

    # helpers ---------------------------------------------------------------------------------------------------

    async def _station(self, s: AsyncSession, wish: Wish) -> str:
        node = await s.get(OrgNode, wish.station_id) if wish.station_id is not None else None
        return node.name if node else "—"

    async def _card(self, s: AsyncSession, wish: Wish, status_line: str) -> str:
        return texts.card(wish, await self._station(s, wish), status_line)

    async def _to_coordinators(self, s: AsyncSession, wish: Wish, render, *, skip: int | None = None) -> None:
        await self.outbox.to_coordinators(s, render, skip=skip, nodes=[wish.station_id])

    async def _edit_cards(self, s: AsyncSession, wish: Wish, status_line, markup=None) -> list[int]:
        chats = await self.outbox.sent_chats(s, f"wish:{wish.id}")
        for chat_id in chats:
            with self.outbox.in_station_locale():
                text = await self._card(s, wish, status_line())
                kb = markup() if markup else None
            self.outbox.to_chat(s, chat_id, text, kb, method="edit", ref=f"wish:{wish.id}")
        return chats

    def _photo(self, s: AsyncSession, chat_id: int, file_id: str | None, caption: str) -> None:
        if file_id:
            self.outbox.media(s, chat_id, "photo", file_id, caption)

    async def _contact(self, s: AsyncSession, wish: Wish) -> str:
        """Whom the claimer gets in touch with, as the coordinator chose at approval: him, or the wisher."""
        person_id = wish.approved_by if wish.contact == wishes.COORD else wish.wisher_id
        person = await s.get(User, person_id) if person_id is not None else None
        volunteer = await s.get(Volunteer, person_id) if person_id is not None else None
        name = (volunteer.name if volunteer else None) or (person.full_name if person else "—")
        phone = wish.phone if wish.contact == wishes.WISHER else (volunteer.phone if volunteer else None)
        handle = f"@{person.username}" if person and person.username else ""
        who = _("the coordinator") if wish.contact == wishes.COORD else _("the wisher")
        return (
            _("Contact ({who}): {name} {handle} {phone}")
            .format(who=who, name=name, handle=handle, phone=phone or "")
            .strip()
        )

    def _private(self, wish: Wish) -> str:
        return _("Phone: {phone}").format(phone=wish.phone or _("(not given)"))

    # review ----------------------------------------------------------------------------------------------------

    async def review_needed(self, s: AsyncSession, wish: Wish) -> None:
        async def render():
            lines = [_("🌟 A new wish to review:"), await self._card(s, wish, ""), self._private(wish)]
            if wish.proxy:
                lines.append(_("Made for someone (帮办) by {name}.").format(name=await self._name(s, wish.wisher_id)))
            return "\n".join(line for line in lines if line), keyboards.review(wish.id)

        await self._to_coordinators(s, wish, render)
        for coordinator in await org.coordinators_of(s, [wish.station_id]):
            with self.outbox.in_locale(coordinator.locale):
                caption = _("The wisher's photo, {number}").format(number=texts.number(wish))
            self._photo(s, coordinator.id, wish.photo, caption)
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: _(
                "✅ Your wish ({number}) has been received. A coordinator will review it soon; /mywishes shows it."
            ).format(number=texts.number(wish)),
        )

    async def _name(self, s: AsyncSession, user_id: int | None) -> str:
        user = await s.get(User, user_id) if user_id is not None else None
        return user.full_name if user else "—"

    async def proposed(self, s: AsyncSession, wish: Wish) -> None:
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: (
                _("✏️ A coordinator suggests writing your wish ({number}) like this:\n“{text}”\nDo you agree?").format(
                    number=texts.number(wish), text=wish.proposed
                ),
                keyboards.proposal(wish.id),
            ),
        )

    async def proposal_answered(self, s: AsyncSession, wish: Wish, agreed: bool, text: str) -> None:
        async def render():
            head = (
                _("👍 The wisher agreed to the new wording of {number}.")
                if agreed
                else _("The wisher kept his own wording of {number}.")
            ).format(number=texts.number(wish))
            return "\n".join([head, await self._card(s, wish, "")]), keyboards.review(wish.id)

        await self._to_coordinators(s, wish, render)

    async def declined(self, s: AsyncSession, wish: Wish) -> None:
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: _(
                "Sorry, your wish ({number}) could not be accepted this time. The coordinator's reason: {reason}\n"
                "If you have questions, please contact your station."
            ).format(number=texts.number(wish), reason=wish.reason),
        )

    # the wall --------------------------------------------------------------------------------------------------

    async def posted(self, s: AsyncSession, wish: Wish, chats: list[int]) -> None:
        for chat_id in chats:
            with self.outbox.in_station_locale():
                text = await self._card(s, wish, _("Status: waiting to be claimed"))
                kb = keyboards.claim(wish.id)
            self.outbox.to_chat(s, chat_id, text, kb, ref=f"wish:{wish.id}")
        if not chats:
            await self._to_coordinators(
                s,
                wish,
                lambda: _(
                    "⚠️ Wish {number} is approved, but its station has no wish wall or team group yet. "
                    "Bind one with /bind_wall in the group or channel."
                ).format(number=texts.number(wish)),
            )
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: _(
                "🌟 Your wish ({number}) is approved and on the wish wall. I will tell you when someone claims it."
            ).format(number=texts.number(wish)),
        )

    async def claimed(self, s: AsyncSession, wish: Wish, claimer: str) -> None:
        assert wish.claimer_id is not None
        await self._edit_cards(s, wish, lambda: _("Status: ✅ claimed"))
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: _("🎁 Good news: {name} has claimed your wish ({number}).").format(
                name=claimer, number=texts.number(wish)
            ),
        )
        claimer_id = wish.claimer_id
        with self.outbox.in_locale(await self.outbox.locale_of(s, claimer_id)):
            text = "\n".join(
                [
                    _("Thank you for claiming {number}!").format(number=texts.number(wish)),
                    await self._card(s, wish, ""),
                    await self._contact(s, wish),
                    _("Please keep the contact to yourself. Tap the buttons below as it moves on."),
                ]
            )
            kb = keyboards.progress(wish.id, wish.status)
            caption = _("The wisher's photo, {number}").format(number=texts.number(wish))
        self.outbox.to_chat(s, claimer_id, text, kb)
        self._photo(s, claimer_id, wish.photo, caption)

    async def progressed(self, s: AsyncSession, wish: Wish) -> None:
        assert wish.claimer_id is not None
        await self._edit_cards(s, wish, lambda: _("Status: {status}").format(status=texts.status_name(wish.status)))
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: "\n".join(
                [
                    _("Your wish ({number}): {status}.").format(
                        number=texts.number(wish), status=texts.status_name(wish.status)
                    ),
                    texts.steps(wish, self.outbox.tz),
                ]
            ),
        )

        def render():
            lines = [texts.number(wish), texts.steps(wish, self.outbox.tz)]
            if wish.status == wishes.DELIVERED:
                lines.append(_("📷 Please send a photo of the delivery now: it will be shown on the wish wall."))
                return "\n".join(lines)
            return "\n".join(lines), keyboards.progress(wish.id, wish.status)

        await self.outbox.to_user(s, wish.claimer_id, render)

    async def given_back(self, s: AsyncSession, wish: Wish, to_wall: bool, chats: list[int]) -> None:
        if to_wall:
            edited = await self._edit_cards(
                s, wish, lambda: _("Status: waiting to be claimed again"), markup=lambda: keyboards.claim(wish.id)
            )
            missing = [c for c in chats if c not in edited]  # a chat bound since: the card is posted there
            for chat_id in missing:
                with self.outbox.in_station_locale():
                    text = await self._card(s, wish, _("Status: waiting to be claimed again"))
                    kb = keyboards.claim(wish.id)
                self.outbox.to_chat(s, chat_id, text, kb, ref=f"wish:{wish.id}")
        else:
            await self._edit_cards(s, wish, lambda: _("Status: back with the coordinators"))

            async def render():
                return "\n".join(
                    [
                        _(
                            "↩️ Wish {number} was given back a second time; it is not put on the wall again. "
                            "Approve it again, or decline it."
                        ).format(number=texts.number(wish)),
                        await self._card(s, wish, ""),
                    ]
                ), keyboards.review(wish.id)

            await self._to_coordinators(s, wish, render)
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: _("ℹ️ The claimer of your wish ({number}) cannot fulfil it; it is waiting for someone else.").format(
                number=texts.number(wish)
            ),
        )

    async def photo_added(self, s: AsyncSession, wish: Wish) -> None:
        with self.outbox.in_locale(await self.outbox.locale_of(s, wish.wisher_id)):
            caption = _("The delivery of your wish ({number})").format(number=texts.number(wish))
        self._photo(s, wish.wisher_id, wish.done_photo, caption)
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: (
                _("🎁 Your wish ({number}) has been delivered. If you received it, please tap to confirm.").format(
                    number=texts.number(wish)
                ),
                keyboards.confirm(wish.id),
            ),
        )
        if wish.claimer_id is not None:
            await self.outbox.to_user(
                s,
                wish.claimer_id,
                lambda: _("📷 Thank you, the photo is saved. I have asked the wisher to confirm.").format(),
            )

    async def fulfilled(self, s: AsyncSession, wish: Wish) -> None:
        chats = await self._edit_cards(s, wish, lambda: _("Status: 🌈 come true"))
        for chat_id in chats:
            with self.outbox.in_station_locale():
                caption = _("🌈 {number} came true. Thank you to everyone who helped!").format(
                    number=texts.number(wish)
                )
            if wish.done_photo:  # shown on the wall: the claimer sent it for that
                self.outbox.to_chat(
                    s,
                    chat_id,
                    json.dumps({"file_id": wish.done_photo, "caption": caption}, ensure_ascii=False),
                    method="photo",
                )
        await self.outbox.to_user(
            s,
            wish.wisher_id,
            lambda: (
                _("🌈 Your wish ({number}) came true. Would you like to say thanks in a line?").format(
                    number=texts.number(wish)
                ),
                keyboards.thanks(wish.id),
            ),
        )
        name, donor = await wishes.claimer_name(s, wish.claimer_id)
        if wish.claimer_id is not None:
            await self.outbox.to_user(
                s,
                wish.claimer_id,
                lambda: _("🌈 The wisher confirmed: {number} came true. Thank you, {name}!").format(
                    number=texts.number(wish), name=name
                ),
            )
        if not donor:

            async def render():
                return _("🌈 Wish {number} came true, fulfilled by volunteer {name}. Record hours for him?").format(
                    number=texts.number(wish), name=name
                ), keyboards.hours(wish.id)

            await self._to_coordinators(s, wish, render, skip=wish.claimer_id)
        # 公示: the public channel (when set) announces it, anonymised, once per wish
        with self.outbox.in_station_locale():
            public = fulfilled_public_text(wish, await self._station(s, wish), self.outbox.tz)
        await showcase.announce(s, wish.station_id, showcase.WISH, public, wish.done_photo, source=f"wish:{wish.id}")

    async def thanked(self, s: AsyncSession, wish: Wish) -> None:
        if wish.claimer_id is not None:
            await self.outbox.to_user(
                s,
                wish.claimer_id,
                lambda: _("💌 The wisher of {number} says: {thanks}").format(
                    number=texts.number(wish), thanks=wish.thanks
                ),
            )

    async def hours_given(self, s: AsyncSession, wish: Wish) -> None:
        if wish.claimer_id is not None:
            await self.outbox.to_user(
                s,
                wish.claimer_id,
                lambda: _("🕒 {hours} hours for {number} have been recorded in your ledger.").format(
                    hours=common.hours(wish.hours_minutes), number=texts.number(wish)
                ),
            )

    async def remind(self, s: AsyncSession, wish: Wish) -> None:
        if wish.claimer_id is not None:
            await self.outbox.to_user(
                s,
                wish.claimer_id,
                lambda: (
                    _("⏰ The wish you claimed ({number}) is hoped for by {day}. How is it going?").format(
                        number=texts.number(wish), day=texts.day(wish.due)
                    ),
                    keyboards.progress(wish.id, wish.status),
                ),
            )

    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None:
        await self.stars.star_reached(s, volunteer, level, chats)


def waited_line(wish: Wish, now: datetime) -> str:
    return texts.waited(wish, now)
