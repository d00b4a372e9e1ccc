"""Participatory budgets for the tests: a budget in any phase on TODAY, with its projects,
envelopes and neighbourhoods; approved voters; row counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from core.db import db
from tests.support.participation import TODAY

#: Offsets (days from TODAY) of submission start, submission end, vote start, vote end,
#: works start, for each phase the budget should be in on TODAY.
PHASE_DAYS = {
    "upcoming": (5, 20, 30, 40, 60),
    "submission": (-5, 10, 20, 30, 60),
    "analysis": (-30, -10, 5, 20, 40),
    "vote": (-40, -20, -5, 10, 40),
    "results": (-60, -40, -20, -5, 20),
    "implementation": (-90, -70, -50, -40, -20),
}


@dataclass
class MadeBudget:
    id: int
    projects: dict[str, int] = field(default_factory=dict)  # title → id
    neighbourhoods: dict[str, int] = field(default_factory=dict)


def neighbourhood_ids(app, tenant, names) -> dict[str, int]:
    from participation.accounts.models import Neighbourhood
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        out = {}
        for name in names:
            row = db.session.scalar(sa.select(Neighbourhood).where(Neighbourhood.name == name))
            if row is None:
                row = Neighbourhood(name=name)
                db.session.add(row)
                db.session.flush()
            out[name] = row.id
        db.session.commit()
        return out


def make_budget(
    app,
    tenant,
    *,
    phase: str = "vote",
    envelope: int = 100_000,
    envelopes: dict[str, int] | None = None,
    projects: list[tuple] = (),
    rule: str = "knapsack",
    published: bool = True,
    **settings,
) -> MadeBudget:
    """A budget in ``phase`` on TODAY. ``projects``: (title, cost[, neighbourhood[, status
    [, created offset in minutes]]]); status defaults to feasible (estimated cost = cost)."""
    from datetime import UTC, datetime

    from participation.budgets.models import (
        Budget,
        BudgetEnvelope,
        BudgetProject,
        ProjectStatus,
        VotingRule,
    )
    from tenants.context import tenant_context

    places = neighbourhood_ids(
        app, tenant, list(envelopes or {}) + [p[2] for p in projects if len(p) > 2 and p[2]]
    )
    offsets = [TODAY + timedelta(days=n) for n in PHASE_DAYS[phase]]
    with app.app_context(), tenant_context(tenant):
        budget = Budget(
            title=settings.pop("title", f"Budget {uuid.uuid4().hex[:8]}"),
            description="Un budget de test.",
            rule=VotingRule(rule),
            envelope=envelope if not envelopes else sum(envelopes.values()),
            split_by_neighbourhood=bool(envelopes),
            submission_starts_on=offsets[0],
            submission_ends_on=offsets[1],
            vote_starts_on=offsets[2],
            vote_ends_on=offsets[3],
            implementation_starts_on=offsets[4],
            published_at=datetime.now(UTC) if published else None,
            require_residency=settings.pop("require_residency", False),
            **settings,
        )
        for name, amount in (envelopes or {}).items():
            budget.envelopes.append(BudgetEnvelope(neighbourhood_id=places[name], amount=amount))
        db.session.add(budget)
        db.session.flush()
        made = MadeBudget(budget.id, neighbourhoods=places)
        base = datetime(2027, 1, 1, tzinfo=UTC)
        for spec in projects:
            title, cost = spec[0], spec[1]
            place = spec[2] if len(spec) > 2 else None
            status = ProjectStatus(spec[3]) if len(spec) > 3 and spec[3] else ProjectStatus.FEASIBLE
            minutes = spec[4] if len(spec) > 4 else len(made.projects)
            project = BudgetProject(
                budget_id=budget.id,
                title=title,
                description="Une description de projet assez longue.",
                proposed_cost=cost,
                estimated_cost=cost if status == ProjectStatus.FEASIBLE else None,
                status=status,
                analysis_reason=None if status != ProjectStatus.UNFEASIBLE else "Hors champ.",
                neighbourhood_id=places.get(place) if place else None,
                created_at=base + timedelta(minutes=minutes),
            )
            db.session.add(project)
            db.session.flush()
            made.projects[title] = project.id
        db.session.commit()
        return made


def approve_voter(app, tenant, budget_id: int, user_id: int, neighbourhood_id=None) -> None:
    from participation.budgets.models import Eligibility, EligibilityStatus
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        db.session.add(
            Eligibility(
                budget_id=budget_id,
                user_id=user_id,
                full_name="Camille Martin",
                birth_date=date(1990, 1, 1),
                resident=True,
                neighbourhood_id=neighbourhood_id,
                status=EligibilityStatus.APPROVED,
            )
        )
        db.session.commit()


def count_rows(app, tenant, table: str, budget_id: int | None = None) -> int:
    with app.app_context(), db.engine.connect() as conn:
        where = f" WHERE budget_id = {int(budget_id)}" if budget_id is not None else ""
        return conn.scalar(sa.text(f'SELECT count(*) FROM "{tenant.schema}"."{table}"{where}'))
