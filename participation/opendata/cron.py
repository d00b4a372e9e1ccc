"""Schedule of the open-data job for ``rq cron participation.opendata.cron`` (rq ≥ 2.5),
next to the worker (``flask worker``). The job opens its own app context (core.jobs.job)."""

from rq import cron

from participation.opendata.tasks import enqueue_nightly_bundles

# Every night at 02:30: one build job per active tenant (the fan-out itself is quick).
cron.register(enqueue_nightly_bundles, "low", cron="30 2 * * *", job_timeout=600)
