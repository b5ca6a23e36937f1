"""Disputes: a volunteer points out an error in one of his ledger entries; a coordinator corrects it
(reversal + correction) or rejects it with a reason (谁记录谁证明: the organiser checks and corrects)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.ledger import stars
from bot.org import service as org
from bot.people.service import require_coordinator
from storage.models import Dispute, LedgerEntry, User, Volunteer

OPEN, CORRECTED, REJECTED = "open", "corrected", "rejected"
TEXT_LIMIT = 500


class DisputeNotices(stars.StarNotices, Protocol):
    async def dispute_opened(self, s: AsyncSession, dispute: Dispute, entry: LedgerEntry) -> None: ...
    async def dispute_resolved(
        self, s: AsyncSession, dispute: Dispute, entry: LedgerEntry, fixed: LedgerEntry | None
    ) -> None: ...


async def own_entry(s: AsyncSession, user: User, entry_id: int) -> LedgerEntry:
    """The volunteer's own disputable entry; anybody else's (or a forged id) is refused."""
    entry = await s.get(LedgerEntry, entry_id) if validate.fits_id(entry_id) else None
    if entry is None or entry.volunteer_id != user.id:
        raise DomainError("ledger_not_your_entry")
    if entry.kind not in ledger.HOUR_KINDS:
        raise DomainError("ledger_not_disputable")
    if await ledger.is_reversed(s, entry.id):
        raise DomainError("ledger_already_corrected")
    return entry


async def open_dispute(
    s: AsyncSession, notices: DisputeNotices, *, user: User, entry_id: int, text: str | None, now: datetime
) -> Dispute:
    if await s.get(Volunteer, user.id) is None:
        raise DomainError("not_volunteer")
    entry = await own_entry(s, user, entry_id)
    text = (text or "").strip()
    if not text:
        raise DomainError("empty")
    if len(text) > TEXT_LIMIT:
        raise DomainError("too_long", limit=TEXT_LIMIT, length=len(text))
    pending = await s.execute(select(Dispute.id).where(Dispute.entry_id == entry.id, Dispute.status == OPEN))
    if pending.first() is not None:
        raise DomainError("dispute_already_open")
    dispute = Dispute(entry_id=entry.id, volunteer_id=user.id, text=text, status=OPEN, created_at=now)
    s.add(dispute)
    await s.flush()
    await notices.dispute_opened(s, dispute, entry)
    return dispute


async def get_open(s: AsyncSession, actor: User, dispute_id: int) -> Dispute:
    """An open dispute a coordinator may decide (not his own)."""
    require_coordinator(actor)
    dispute = await s.get(Dispute, dispute_id) if validate.fits_id(dispute_id) else None
    if dispute is None:
        raise DomainError("dispute_missing")
    await org.require_person(s, actor, dispute.volunteer_id)
    if dispute.volunteer_id == actor.id:
        raise DomainError("own_hours")
    if dispute.status != OPEN:
        raise DomainError("dispute_closed")
    return dispute


async def _close(s: AsyncSession, dispute: Dispute, status: str, actor: User, resolution: str, now: datetime) -> None:
    won = (
        await s.execute(
            update(Dispute)
            .where(Dispute.id == dispute.id, Dispute.status == OPEN)
            .values(status=status, resolved_by=actor.id, resolution=resolution, resolved_at=now)
            .returning(Dispute.id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if won is None:  # another coordinator decided it first
        raise DomainError("dispute_closed")
    dispute.status, dispute.resolved_by, dispute.resolution, dispute.resolved_at = status, actor.id, resolution, now


async def correct(
    s: AsyncSession,
    notices: DisputeNotices,
    *,
    actor: User,
    dispute_id: int,
    minutes: int,
    reason: str | None,
    points_per_hour: int,
    now: datetime,
) -> Dispute:
    dispute = await get_open(s, actor, dispute_id)
    reason = validate.text(reason, "reason")
    await _close(s, dispute, CORRECTED, actor, reason, now)
    _, fixed = await ledger.correct(
        s,
        entry_id=dispute.entry_id,
        minutes=minutes,
        reason=reason,
        actor_id=actor.id,
        points_per_hour=points_per_hour,
        now=now,
    )
    await stars.after_credit(s, notices, dispute.volunteer_id, now)
    entry = await s.get(LedgerEntry, dispute.entry_id)
    assert entry is not None  # ledger entries are never deleted
    await notices.dispute_resolved(s, dispute, entry, fixed)
    return dispute


async def reject(
    s: AsyncSession, notices: DisputeNotices, *, actor: User, dispute_id: int, reason: str | None, now: datetime
) -> Dispute:
    dispute = await get_open(s, actor, dispute_id)
    reason = validate.text(reason, "reason")
    await _close(s, dispute, REJECTED, actor, reason, now)
    entry = await s.get(LedgerEntry, dispute.entry_id)
    assert entry is not None  # ledger entries are never deleted
    await notices.dispute_resolved(s, dispute, entry, None)
    return dispute
