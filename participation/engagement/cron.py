"""Schedule of the notification digests (imported by core.cron only, like every feature's
``cron.py``), next to the worker. The job opens its own app context (core.jobs.job)."""

from rq import cron

from core.jobs import job
from participation.engagement.tasks import enqueue_daily_digests


@job
def enqueue_notification_digests() -> list[int]:
    """Fan-out: today's digest job of every active tenant (one job id per tenant and day)."""
    return enqueue_daily_digests()


# Every day at 07:00: notification digests for the people who chose a daily e-mail.
cron.register(enqueue_notification_digests, "low", cron="0 7 * * *", job_timeout=900)
