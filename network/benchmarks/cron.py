"""Schedule of the benchmark jobs for ``rq cron network.benchmarks.cron`` (rq ≥ 2.5), next
to the worker (``flask worker``). The jobs open their own app context (core.jobs.job)."""

from rq import cron

from network.benchmarks.tasks import refresh_all_metrics

# Every night at 02:30: one refresh job per active tenant (the figures of the network pages).
cron.register(refresh_all_metrics, "low", cron="30 2 * * *", job_timeout=900)
