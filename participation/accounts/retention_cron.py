"""The retention schedule (imported by core.cron only, like every feature's ``cron.py``: a
module the app imports too could register before a scheduler empties rq's registry, and be
missing from the schedule)."""

from rq import cron

from participation.accounts.retention import enqueue_retention

# Every night at 03:40: after the exports of the day, before the digests.
cron.register(enqueue_retention, "low", cron="40 3 * * *", job_timeout=900)
