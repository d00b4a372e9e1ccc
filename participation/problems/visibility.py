"""What the public sees of the reports of local problems, decided here once for the pages,
the API and the open data: every report but those hidden by moderation or written by a
blocked account (a reporter who asked for anonymity is shown as « Participant·e anonyme »,
``services.public_name``)."""

from __future__ import annotations

import sqlalchemy as sa

from participation.accounts.models import User
from participation.accounts.visibility import is_blocked
from participation.problems.models import ProblemReport


def is_public(report: ProblemReport) -> bool:
    return report.hidden_at is None and not is_blocked(report.reporter)


def public_clause():
    """SQL twin of :func:`is_public`."""
    blocked = sa.select(User.id).where(User.blocked_at.is_not(None))
    return sa.and_(
        ProblemReport.hidden_at.is_(None),
        sa.or_(ProblemReport.reporter_id.is_(None), ProblemReport.reporter_id.not_in(blocked)),
    )


def visible_reports() -> sa.Select:
    return sa.select(ProblemReport).where(public_clause())
