"""The whole periodic schedule, for ``rq cron core.cron`` beside the worker.

``make run`` starts it; in production run one ``rq cron core.cron`` (one only: two
schedulers would enqueue everything twice — each job is idempotent, but why pay twice).
Every feature keeps its own schedule next to its jobs (``<package>/cron.py``); importing
those modules registers their entries with rq's cron registry.
"""

from __future__ import annotations

import importlib

from rq import cron

from core.jobs import job

FEATURE_SCHEDULES = (
    "billing.cron",
    "participation.meetings.cron",
    "participation.opendata.cron",
    "network.benchmarks.cron",
)


@job
def enqueue_notification_digests() -> list[int]:
    """Fan-out: today's digest job of every active tenant (one job id per tenant and day)."""
    from participation.engagement.tasks import enqueue_daily_digests

    return enqueue_daily_digests()


for module_name in FEATURE_SCHEDULES:
    importlib.import_module(module_name)

# Every day at 07:00: notification digests for the people who chose a daily e-mail.
cron.register(enqueue_notification_digests, "low", cron="0 7 * * *", job_timeout=900)
