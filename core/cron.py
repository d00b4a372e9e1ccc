"""The whole periodic schedule, for ``flask jobs scheduler`` beside the worker.

``make run`` starts it; in production run one ``flask jobs scheduler`` (one only: two
schedulers would enqueue everything twice — each job is idempotent, but why pay twice).
It is rq's cron scheduler made to survive a Redis restart (core/scheduler.py);
``rq cron core.cron`` reads the same schedule but exits when Redis goes away.
Every feature keeps its own schedule next to its jobs (``<package>/cron.py``); importing
those modules registers their entries with rq's cron registry.
"""

from __future__ import annotations

import importlib

from rq import cron

from core.jobs import job

FEATURE_SCHEDULES = (
    "tenants.cron",
    "tenants.verification_cron",
    "participation.accounts.export_sweep",
    "participation.accounts.retention_cron",
    "billing.cron",
    "participation.meetings.cron",
    "participation.opendata.cron",
    "network.benchmarks.cron",
    "participation.engagement.cron",
)


@job
def purge_job_records() -> tuple[int, int]:
    """Outbox rows handed over long ago (their payload holds mail text and addresses) and old
    Message-IDs of sent mails are deleted (OUTBOX_RETENTION_DAYS, SENT_MAIL_RETENTION_DAYS)."""
    from flask import current_app

    from core import outbox

    config = current_app.config
    return outbox.purge(
        int(config.get("OUTBOX_RETENTION_DAYS", 7)), int(config.get("SENT_MAIL_RETENTION_DAYS", 30))
    )


for module_name in FEATURE_SCHEDULES:
    importlib.import_module(module_name)

# Every night at 04:10: the outbox and the sent-mail record keep only what is still useful.
cron.register(purge_job_records, "low", cron="10 4 * * *", job_timeout=600)

#: Everything registered above, kept for ``flask jobs scheduler`` (rq's own loader empties
#: its registry once read).
SCHEDULE: list[dict] = list(cron._job_data_registry)
