"""Retention of the budgets' personal data (issue 13 §3, docs/features/privacy.md): the census
list and the eligibility declarations (full name, birth date) of a budget, and the names of
its paper-ballot register, go ``RETENTION_BUDGET_CENSUS_MONTHS`` after its results.

:func:`purge_budget_census` is one of the rules of the daily retention job
(participation/accounts/retention.py), registered by ``participation.budgets.init_app``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from core import clock
from core.db import db
from participation.accounts.personal_data import retention_periods
from participation.accounts.retention import months_before
from participation.budgets.models import Budget, CensusEntry, Eligibility, Voter


def purge_budget_census(now: datetime | None = None) -> int:
    """Census lists and eligibility records of budgets whose results are old enough.
    Returns the number of budgets purged."""
    now = now or clock.utcnow()
    # Results are published the day after the vote closes (Budget.phase).
    last_vote_day = months_before(now, retention_periods()["census_months"]).date() - timedelta(
        days=1
    )
    budgets = db.session.scalars(
        sa.select(Budget)
        .where(Budget.vote_ends_on < last_vote_day, Budget.personal_data_purged_at.is_(None))
        .with_for_update(skip_locked=True)
    ).all()
    for budget in budgets:
        db.session.execute(
            sa.update(Voter)
            .where(Voter.budget_id == budget.id)
            .values(census_entry_id=None, voter_label=None)
        )
        db.session.execute(sa.delete(Eligibility).where(Eligibility.budget_id == budget.id))
        db.session.execute(sa.delete(CensusEntry).where(CensusEntry.budget_id == budget.id))
        budget.personal_data_purged_at = now
    db.session.flush()
    return len(budgets)
