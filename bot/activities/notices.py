"""What the bot owes people about activities, written to the outbox in the caller's transaction.

The card is posted with ref `act:<id>` (bot.outbox records its message id in ActivityCard) and edited by
that ref; edits to one chat go out in the order they were written, so the last edit shows the last count.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activities import keyboards as activity_keyboards
from bot.activities import service as activities
from bot.activities import texts as at
from bot.ledger import service as ledger
from bot.ledger.stars import StarNotices
from bot.outbox import Outbox
from bot.ui import texts
from bot.ui.keyboards import inline
from storage.models import Activity, ActivitySignup, Team, Volunteer

HOUR_WORDING_FROM = 55  # minutes left from which the hour-before reminder still says "in an hour"


class ActivityNotices:
    """Activity cards in the team's groups and what signing up, cancelling and approving hours owe people.

    Activity hours count towards star levels like any other approved hours: `stars` (the ledger's notices)
    congratulates.
    """

    def __init__(self, outbox: Outbox, stars: StarNotices, points_per_hour: int):
        self.outbox = outbox
        self.stars = stars
        self.points_per_hour = points_per_hour
        self.tz = outbox.tz

    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None:
        await self.stars.star_reached(s, volunteer, level, chats)

    async def _team_name(self, s: AsyncSession, act: Activity) -> str | None:
        team = await s.get(Team, act.team_id) if act.team_id else None
        return team.name if team else None

    async def _card(self, s: AsyncSession, act: Activity):
        signed, waiting = await activities.counts(s, act.id)
        with self.outbox.in_station_locale():
            return (
                at.card_text(act, self.tz, await self._team_name(s, act), signed, waiting),
                activity_keyboards.card_keyboard(act),
            )

    async def card_chats(self, s: AsyncSession, act: Activity) -> list[int]:
        """The groups the activity's card was posted to."""
        return await self.outbox.sent_chats(s, f"act:{act.id}")

    def _when(self, act: Activity) -> str:
        return texts.fmt_window(act.starts_at, act.ends_at, self.tz)

    async def published(self, s: AsyncSession, act: Activity, chats: list[int]) -> None:
        text, kb = await self._card(s, act)
        for chat_id in chats:
            self.outbox.to_chat(s, chat_id, text, kb, ref=f"act:{act.id}")

        async def render():
            lines = at.details(act, self.tz, await self._team_name(s, act))
            lines.insert(
                0,
                _("✅ Activity {number} is published to {count} group(s).").format(number=act.number, count=len(chats))
                if chats
                else _(
                    "⚠️ Activity {number} is saved, but no group is bound to its team, so nobody saw it. "
                    "Bind one with /bind in the group."
                ).format(number=act.number),
            )
            lines.append(
                _(
                    "Check-in code: {code} (volunteers send /checkin {code} in a private chat with me "
                    "during the activity)."
                ).format(code=act.checkin_code)
            )
            return "\n".join(lines), activity_keyboards.organiser_keyboard(act)

        await self.outbox.to_user(s, act.created_by, render)

    async def card_changed(self, s: AsyncSession, act: Activity) -> None:
        text, kb = await self._card(s, act)
        for chat_id in await self.card_chats(s, act):
            self.outbox.to_chat(s, chat_id, text, kb, method="edit", ref=f"act:{act.id}")

    async def checkin_buttons(self, s: AsyncSession, act: Activity) -> list[int]:
        """The check-in/check-out buttons, posted under the card in each group it went to; returns those groups."""
        chats = await self.card_chats(s, act)
        for chat_id in chats:
            with self.outbox.in_station_locale():
                text = _("📍 Check-in for “{title}” ({number}): tap when you arrive and when you leave.").format(
                    title=act.title, number=act.number
                )
                kb = activity_keyboards.checkin_keyboard(act)
            self.outbox.to_chat(s, chat_id, text, kb)
        return chats

    async def promoted(self, s: AsyncSession, act: Activity, user_id: int) -> None:
        await self.outbox.to_user(
            s,
            user_id,
            lambda: _(
                "🎉 A place has freed up: you are now signed up for “{title}” ({number}), {when}, at {place}."
            ).format(title=act.title, number=act.number, when=self._when(act), place=act.place),
        )

    async def activity_cancelled(self, s: AsyncSession, act: Activity, user_ids: list[int]) -> None:
        for user_id in user_ids:
            await self.outbox.to_user(
                s,
                user_id,
                lambda: _("❌ The activity “{title}” ({number}), {when}, has been cancelled. No need to come.").format(
                    title=act.title, number=act.number, when=self._when(act)
                ),
            )

    async def reminder(self, s: AsyncSession, act: Activity, user_id: int, hours_before: int) -> None:
        """The day-before (hours_before >= 24) or the hour-before reminder, worded for the moment it is sent
        (the outbox's clock): a late day-before reminder on the day itself says "today", a late hour-before one
        the minutes left."""
        now = self.outbox.clock.now()
        today = now.astimezone(self.outbox.tz).date()
        minutes = round((act.starts_at - now).total_seconds() / 60)

        def render() -> str:
            fields = {"title": act.title, "number": act.number, "when": self._when(act), "place": act.place}
            if hours_before >= 24:
                if act.starts_at.astimezone(self.outbox.tz).date() > today:
                    return _("⏰ Reminder: the activity “{title}” ({number}) is tomorrow, {when}, at {place}.").format(
                        **fields
                    )
                return _("⏰ Reminder: the activity “{title}” ({number}) is today, {when}, at {place}.").format(
                    **fields
                )
            if minutes >= HOUR_WORDING_FROM:
                return _(
                    "⏰ Reminder: the activity “{title}” ({number}) starts in an hour, {when}, at {place}. "
                    "When you arrive, send /checkin with the code the leader gives you."
                ).format(**fields)
            return _(
                "⏰ Reminder: the activity “{title}” ({number}) starts in {minutes} minutes, {when}, at "
                "{place}. When you arrive, send /checkin with the code the leader gives you."
            ).format(minutes=max(minutes, 1), **fields)

        await self.outbox.to_user(s, user_id, render)

    async def approval_text(self, s: AsyncSession, act: Activity):
        """The list of volunteers with their proposed hours, and a button per volunteer; in the current locale."""
        lines = [_("🕒 Hours of activity {number} “{title}”:").format(number=act.number, title=act.title)]
        rows = []
        for signup in await activities.signups(s, act.id, activities.SIGNED):
            volunteer = await s.get(Volunteer, signup.user_id)
            name = volunteer.name if volunteer else str(signup.user_id)
            if signup.no_show:
                lines.append(_("• {name}: did not check in (no-show)").format(name=name))
            elif signup.approved_minutes is not None:
                lines.append(
                    _("• {name}: {hours} h approved").format(name=name, hours=texts.hours(signup.approved_minutes))
                )
            else:
                assert signup.checked_in_at is not None and signup.checked_out_at is not None  # closed: both set
                lines.append(
                    _("• {name}: {start}–{end}, proposed {hours} h").format(
                        name=name,
                        start=f"{signup.checked_in_at.astimezone(self.tz):%H:%M}",
                        end=f"{signup.checked_out_at.astimezone(self.tz):%H:%M}",
                        hours=texts.hours(signup.proposed_minutes),
                    )
                )
                rows.append(
                    [
                        (
                            _("✅ {name} {hours} h").format(name=name, hours=texts.hours(signup.proposed_minutes)),
                            activity_keyboards.HoursOkCb(action="ok", aid=act.id, uid=signup.user_id),
                        ),
                        (
                            _("✏️ Adjust {name}").format(name=name),
                            activity_keyboards.HoursOkCb(action="fix", aid=act.id, uid=signup.user_id),
                        ),
                    ]
                )
        if rows:
            rows.append([(_("✅ Approve all"), activity_keyboards.HoursOkCb(action="all", aid=act.id))])
        else:
            lines.append(_("Nothing left to approve."))
        return "\n".join(lines), inline(rows) if rows else None

    async def to_approve(self, s: AsyncSession, act: Activity, approver_id: int) -> None:
        async def render():
            return await self.approval_text(s, act)

        await self.outbox.to_user(s, approver_id, render)

    async def hours_approved(self, s: AsyncSession, act: Activity, signup: ActivitySignup) -> None:
        assert signup.approved_minutes is not None  # just approved
        total = await ledger.totals(s, signup.user_id)
        points = ledger.points_for(signup.approved_minutes, self.points_per_hour)
        await self.outbox.to_user(
            s,
            signup.user_id,
            lambda: "\n".join(
                [
                    _("🎉 Your {hours} h at the activity “{title}” ({number}) are approved: +{points} points.").format(
                        hours=texts.hours(signup.approved_minutes), title=act.title, number=act.number, points=points
                    ),
                    _("In all: {hours} h, {points} points.").format(
                        hours=texts.hours(total.minutes), points=total.points
                    ),
                ]
            ),
        )
