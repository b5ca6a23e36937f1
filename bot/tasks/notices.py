"""What task orders owe people, written to the outbox in the caller's transaction: the task to each station's
coordinators (with 领单 / 无法承接), their answer and their report to the issuer (with its photos, by file id, and
确认 / 退回), the review back to the station, the reminder before the accept-by day ends and the issuer's note of
the stations that did not accept. All private."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import Outbox
from bot.requests import media
from bot.tasks import keyboards as kb
from bot.tasks import service as tasks
from bot.tasks import texts as tt
from bot.ui import texts
from storage.models import OrgNode, Task, TaskNode


class TaskNotices:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def _station(self, s: AsyncSession, tn: TaskNode) -> OrgNode:
        station = await s.get(OrgNode, tn.node_id)
        assert station is not None  # a task node's station is a row of the tree
        return station

    @staticmethod
    def _name(station: OrgNode) -> str:
        return f"{station.name} ({station.code})"

    async def _to_station(self, s: AsyncSession, task: Task, tn: TaskNode, render) -> None:
        for user in await tasks.station_coordinators(s, tn.node_id, skip=task.issuer_id):
            await self.outbox.to_user(s, user.id, render)

    async def issued(self, s: AsyncSession, task: Task, nodes: list[TaskNode]) -> None:
        for tn in nodes:
            station = await self._station(s, tn)
            await self._to_station(
                s,
                task,
                tn,
                lambda station=station, tn=tn: (
                    "\n".join(
                        [
                            tt.card(task, station),
                            _("Please tap “Accept the task”, or “Cannot take it” and tell me why."),
                        ]
                    ),
                    kb.answer_keyboard(tn),
                ),
            )

        def done() -> str:
            return _("✅ Task order {number} is issued to {count} station(s).").format(
                number=task.number, count=len(nodes)
            )

        await self.outbox.to_user(s, task.issuer_id, done)

    async def answered(self, s: AsyncSession, task: Task, tn: TaskNode) -> None:
        station = self._name(await self._station(s, tn))

        def render() -> str:
            if tn.status == tasks.DECLINED:
                return _("⚠️ {station} cannot take task order {number} “{title}”: {reason}").format(
                    station=station, number=task.number, title=task.title, reason=tn.reason
                )
            return _("🙋 {station} accepted task order {number} “{title}”.").format(
                station=station, number=task.number, title=task.title
            )

        await self.outbox.to_user(s, task.issuer_id, render)

    async def reported(self, s: AsyncSession, task: Task, tn: TaskNode) -> None:
        station = self._name(await self._station(s, tn))
        photos = media.loads(tn.media)
        with self.outbox.in_locale(await self.outbox.locale_of(s, task.issuer_id)):
            caption = _("{station}, task order {number}").format(station=station, number=task.number)
        for item in photos:
            self.outbox.media(s, task.issuer_id, "photo", str(item["id"]), caption)
        await self.outbox.to_user(
            s,
            task.issuer_id,
            lambda: (
                "\n".join(
                    [
                        _("📝 {station} reported on task order {number} “{title}”:").format(
                            station=station, number=task.number, title=task.title
                        ),
                        *tt.report_lines(tn),
                        _("Photos: {count}").format(count=len(photos)),
                        _("Please confirm it, or send it back with a reason."),
                    ]
                ),
                kb.review_keyboard(tn),
            ),
        )

    async def reviewed(self, s: AsyncSession, task: Task, tn: TaskNode) -> None:
        def render():
            if tn.status == tasks.FINISHED:
                return _("🎉 Your report on task order {number} “{title}” is confirmed. Thank you!").format(
                    number=task.number, title=task.title
                )
            return (
                _(
                    "↩️ Your report on task order {number} “{title}” was sent back: {reason}. Please report again."
                ).format(number=task.number, title=task.title, reason=tn.reason),
                kb.station_keyboard(tn),
            )

        await self._to_station(s, task, tn, render)

    async def reminder(self, s: AsyncSession, task: Task, tn: TaskNode) -> None:
        await self._to_station(
            s,
            task,
            tn,
            lambda: (
                _(
                    "⏰ Reminder: task order {number} “{title}” waits for your answer; today is the last day to accept."
                ).format(number=task.number, title=task.title),
                kb.answer_keyboard(tn),
            ),
        )

    async def late(self, s: AsyncSession, task: Task, stations: list[OrgNode], day: date) -> None:
        names = [self._name(n) for n in stations]
        await self.outbox.to_user(
            s,
            task.issuer_id,
            lambda: _("⚠️ Task order {number} “{title}”: not accepted by {day}: {stations}.").format(
                number=task.number,
                title=task.title,
                day=texts.fmt_date(day),
                stations=texts.enumerate_items(names),
            ),
        )
