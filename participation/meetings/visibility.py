"""What the public sees of the meetings, decided here once for the pages, the API and the
open data: a meeting once published (a cancelled one stays, marked so); its minutes once
they are published too. Registrations are personal: only their counts are public."""

from __future__ import annotations

import sqlalchemy as sa

from participation.meetings.models import Meeting


def is_public(meeting: Meeting) -> bool:
    return meeting.is_published


def published_clause():
    """SQL twin of :func:`is_public`."""
    return Meeting.published_at.is_not(None)


def published_meetings() -> sa.Select:
    return sa.select(Meeting).where(published_clause())


def minutes_are_public(meeting: Meeting) -> bool:
    return is_public(meeting) and meeting.minutes_published_at is not None
