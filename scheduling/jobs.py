"""Timed jobs Scheduler.run_due runs on every tick, after the calendar posts.

Each job is `async def job(db, i18n, settings, *, now, claimed_by) -> list[str]` and returns the occurrence
keys it claimed. A job must claim each thing it sends as an occurrence (scheduling.occurrences.claim_in) in
the transaction that queues its messages, so that several processes and restarts send it once. Add a
feature's job here, one line.
"""

from __future__ import annotations

from bot.activities.jobs import run_activity_jobs
from bot.backups.jobs import run_backup
from bot.ledger.jobs import run_recognition
from bot.reports.jobs import run_reports
from bot.requests.followups import run_followups
from bot.requests.privacy import run_retention
from bot.requests.regular import run_regular
from bot.requests.reminders import run_reminders
from bot.showcase.jobs import run_showcase
from bot.tasks.jobs import run_task_jobs
from bot.wishes.jobs import run_wish_jobs

JOBS = [
    run_followups,
    run_reminders,
    run_regular,
    run_reports,
    run_recognition,
    run_activity_jobs,
    run_task_jobs,
    run_wish_jobs,
    run_retention,
    run_backup,
    run_showcase,
]
