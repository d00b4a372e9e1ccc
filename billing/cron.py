"""Schedule of the billing jobs for ``rq cron billing.cron`` (rq ≥ 2.5), next to the
worker (``flask worker``). The jobs open their own app context (core.jobs.job)."""

from rq import cron

from billing.tasks import reconcile_with_stripe, run_daily_sweep

# Every day at 03:15: grace and retention periods, reminders, archiving.
cron.register(run_daily_sweep, "low", cron="15 3 * * *", job_timeout=3600)
# Every hour: events Stripe could not deliver, invoice subscriptions waiting for Stripe.
cron.register(reconcile_with_stripe, "low", interval=3600, job_timeout=900)
