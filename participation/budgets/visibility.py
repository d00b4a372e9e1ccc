"""What the public sees of the participatory budgets, decided here once for the pages, the
API and the open data: a budget once published (its vote results follow the calendar,
``services.results_public``)."""

from __future__ import annotations

import sqlalchemy as sa

from participation.budgets.models import Budget


def is_public(budget: Budget) -> bool:
    return budget.published_at is not None


def published_clause():
    """SQL twin of :func:`is_public`."""
    return Budget.published_at.is_not(None)


def published_budgets() -> sa.Select:
    return sa.select(Budget).where(published_clause())
