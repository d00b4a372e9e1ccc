"""The dates of a process copied from a practice's template: the page that shows the
template (``views``) and the job that copies it (``tasks``) compute them the same way."""

from __future__ import annotations

from datetime import date, timedelta

from core import clock

MAX_PHASE_WEEKS = 52
#: A draft adopted today starts this many days later: time to adapt it before publishing.
ADOPTED_START_DELAY_DAYS = 14


def adoption_start() -> date:
    """The first day of a process copied from a practice today: ADOPTED_START_DELAY_DAYS
    ahead of the collectivités' current day, time to adapt the draft before it opens."""
    return clock.paris_today() + timedelta(days=ADOPTED_START_DELAY_DAYS)


def template_schedule(template: dict, start: date) -> list[tuple[dict, date, date]]:
    """Consecutive dates for the template's phases from ``start`` (relative durations)."""
    schedule = []
    current = start
    for phase in template.get("phases", []):
        weeks = max(1, min(int(phase.get("weeks") or 1), MAX_PHASE_WEEKS))
        end = current + timedelta(days=7 * weeks - 1)
        schedule.append((phase, current, end))
        current = end + timedelta(days=1)
    return schedule
