"""Read-only look-ups shared by every step of a budget: budgets and projects, neighbourhoods
and envelopes (the pools money is counted in), the phase calendar, and the budgets shown
on a process page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from core import clock
from core.db import db
from participation.accounts.models import Neighbourhood
from participation.budgets.models import Budget, BudgetPhase, BudgetProject, ProjectStatus, Voter


def get_budget(budget_id: int) -> Budget | None:
    return db.session.get(Budget, budget_id)


def get_project(project_id: int) -> BudgetProject | None:
    return db.session.get(BudgetProject, project_id)


def is_public(budget: Budget) -> bool:
    return budget.published_at is not None


def public_budgets() -> list[Budget]:
    return list(
        db.session.scalars(
            sa.select(Budget)
            .where(Budget.published_at.is_not(None))
            .order_by(Budget.vote_starts_on.desc(), Budget.id.desc())
        )
    )


def all_budgets() -> list[Budget]:
    return list(db.session.scalars(sa.select(Budget).order_by(Budget.id.desc())))


def budgets_of_process(process_id: int) -> list[Budget]:
    return list(
        db.session.scalars(
            sa.select(Budget)
            .where(Budget.process_id == process_id, Budget.published_at.is_not(None))
            .order_by(Budget.id)
        )
    )


def neighbourhoods() -> list[Neighbourhood]:
    return list(
        db.session.scalars(
            sa.select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


def neighbourhood(neighbourhood_id: int | None) -> Neighbourhood | None:
    return db.session.get(Neighbourhood, neighbourhood_id) if neighbourhood_id else None


def envelopes(budget: Budget) -> dict[int | None, int]:
    """Pool → amount: ``{None: envelope}``, or one entry per neighbourhood when split."""
    if budget.split_by_neighbourhood:
        return {e.neighbourhood_id: e.amount for e in budget.envelopes}
    return {None: budget.envelope}


def pool_of(budget: Budget, project: BudgetProject) -> int | None:
    return project.neighbourhood_id if budget.split_by_neighbourhood else None


def feasible_projects(
    budget: Budget, area_id: int | None = None, defer_description: bool = False
) -> list[BudgetProject]:
    query = sa.select(BudgetProject).where(
        BudgetProject.budget_id == budget.id, BudgetProject.status == ProjectStatus.FEASIBLE
    )
    if area_id is not None:
        query = query.where(BudgetProject.neighbourhood_id == area_id)
    if defer_description:
        query = query.options(sa.orm.defer(BudgetProject.description))
    return list(db.session.scalars(query.order_by(BudgetProject.title)))


def public_projects(budget: Budget) -> list[BudgetProject]:
    return list(
        db.session.scalars(
            sa.select(BudgetProject)
            .where(BudgetProject.budget_id == budget.id)
            .order_by(BudgetProject.created_at, BudgetProject.id)
        )
    )


def phase_periods(budget: Budget) -> list[tuple[BudgetPhase, date, date | None]]:
    from datetime import timedelta

    day = timedelta(days=1)
    return [
        (BudgetPhase.SUBMISSION, budget.submission_starts_on, budget.submission_ends_on),
        (BudgetPhase.ANALYSIS, budget.submission_ends_on + day, budget.vote_starts_on - day),
        (BudgetPhase.VOTE, budget.vote_starts_on, budget.vote_ends_on),
        (BudgetPhase.RESULTS, budget.vote_ends_on + day, budget.implementation_starts_on - day),
        (BudgetPhase.IMPLEMENTATION, budget.implementation_starts_on, None),
    ]


def has_votes(budget: Budget) -> bool:
    """Whether anyone voted yet: the voting rule can then no longer change, and a census
    import keeps the entries the register points at."""
    return bool(
        db.session.scalar(sa.select(sa.literal(True)).where(Voter.budget_id == budget.id).limit(1))
    )


@dataclass
class ProcessBudgets:
    budgets: list[tuple[Budget, BudgetPhase]]


def process_budgets(process) -> ProcessBudgets:
    today = clock.paris_today()
    return ProcessBudgets([(b, b.phase(today)) for b in budgets_of_process(process.id)])
