"""Schedule of the meeting jobs for ``rq cron participation.meetings.cron`` (rq ≥ 2.5),
next to the worker. The jobs open their own app context (core.jobs.job)."""

from rq import cron

from participation.meetings.tasks import send_all_meeting_reminders

# Every day at 10:00 UTC (11:00 or 12:00 in Paris): reminders of tomorrow's meetings.
cron.register(send_all_meeting_reminders, "low", cron="0 10 * * *", job_timeout=1800)
