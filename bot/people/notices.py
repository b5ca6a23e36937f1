"""Messages owed by profile and team changes, written to the outbox in the caller's transaction."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import Outbox
from bot.people import keyboards as profile_keyboards
from bot.people import profiles
from storage.models import Team, TeamMember, User, Volunteer


class PeopleNotices:
    """Join requests and their answers, and roles given or taken away."""

    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def join_requested(
        self, s: AsyncSession, member: TeamMember, team: Team, volunteer: Volunteer, approvers: list[int]
    ) -> None:
        user = await s.get(User, member.user_id)
        handle = f" (@{user.username})" if user and user.username else ""
        for approver in approvers:

            async def render(approver=approver):
                names = await profiles.skill_names(
                    s, profiles.skill_ids(volunteer), await self.outbox.locale_of(s, approver)
                )
                return "\n".join(
                    [
                        _("🙋 {name}{handle} asks to join team “{team}”.").format(
                            name=volunteer.name, handle=handle, team=team.name
                        ),
                        _("Skills: {skills}").format(skills="、".join(names) or "—"),
                    ]
                ), profile_keyboards.join_decision(team.id, member.user_id)

            await self.outbox.to_user(s, approver, render)

    async def join_decided(self, s: AsyncSession, user_id: int, team: Team, approved: bool) -> None:
        await self.outbox.to_user(
            s,
            user_id,
            lambda: (
                _("🤝 Welcome to team “{team}”! Its request cards can now be accepted by you.")
                if approved
                else _("🙁 Your request to join team “{team}” was declined. /profile shows your teams.")
            ).format(team=team.name),
        )

    async def coordinator_changed(self, s: AsyncSession, user_id: int, on: bool, waiting_joins: int) -> None:
        def render():
            if not on:
                return _("You are no longer a coordinator of the station.")
            text = _(
                "⭐ You are now a coordinator of the station: you review requests (/pending), approve "
                "hours and manage teams. /help lists everything you can do."
            )
            if waiting_joins:
                text += "\n" + _("Join requests waiting for an answer: {count} (/joins)").format(count=waiting_joins)
            return text

        await self.outbox.to_user(s, user_id, render)

    async def leader_changed(self, s: AsyncSession, user_id: int, team: Team, on: bool) -> None:
        await self.outbox.to_user(
            s,
            user_id,
            lambda: (
                _(
                    "⭐ You are now a leader of team “{team}”: you answer its join requests (/joins) and see it "
                    "in /teams."
                )
                if on
                else _("You are no longer a leader of team “{team}”.")
            ).format(team=team.name),
        )

    async def member_removed(self, s: AsyncSession, user_id: int, team: Team, reason: str) -> None:
        await self.outbox.to_user(
            s,
            user_id,
            lambda: _(
                "You are no longer a member of team “{team}”.\nReason: {reason}\n"
                "The requests of the team you had taken and your sign-ups to its activities were handed back; "
                "your hours stay in your record."
            ).format(team=team.name, reason=reason),
        )
