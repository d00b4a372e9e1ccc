"""The platform's one clock.

Every "now" and every "today" of the application comes from here, called through the module
(``clock.utcnow()``, never ``from core.clock import utcnow``), so that a test freezes time for
every feature at once with ``monkeypatch.setattr("core.clock.paris_today", ...)``.

Dates the collectivités write (a phase "until the 30th", a meeting day, a vote's last day) are
days in Paris: a phase ending on the 30th ends at midnight in Paris, not in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return datetime.now(UTC)


def paris_today() -> date:
    """The collectivités' current day (Europe/Paris)."""
    return datetime.now(PARIS).date()


def paris_now() -> datetime:
    """The current instant in Paris, for what is shown or compared as a local time."""
    return datetime.now(PARIS)
