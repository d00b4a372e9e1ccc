"""Results: votes counted per project and the retained projects of each pool.

**Retained projects** (:func:`compute_results`), per pool (the whole territory, or each
neighbourhood when the envelope is split): projects by votes, most first; ties broken by
the lower cost first, then the earlier submission. Going down that list, a project is
retained when it received at least one vote and its cost fits in what is left of the
envelope; a project that does not fit is skipped and the next one considered. The ranking
itself (:func:`rank_pool`) is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from core.db import db
from participation.accounts.models import Neighbourhood
from participation.budgets.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Budget,
    BudgetPhase,
    BudgetProject,
    Voter,
)
from participation.budgets.services.labels import PHASE_ORDER
from participation.budgets.services.lookups import (
    envelopes,
    feasible_projects,
    is_public,
    neighbourhoods,
    pool_of,
)


@dataclass
class ProjectResult:
    project: BudgetProject
    votes: int
    rank: int = 0
    retained: bool = False
    skipped: bool = False  # had votes but did not fit in what was left


@dataclass
class PoolResult:
    neighbourhood: Neighbourhood | None
    envelope: int
    rows: list[ProjectResult]
    spent: int = 0


@dataclass
class Results:
    pools: list[PoolResult]
    ballots: int
    voters: int
    online: int
    paper: int
    eligible_population: int | None

    @property
    def turnout(self) -> float | None:
        if not self.eligible_population:
            return None
        return self.voters / self.eligible_population

    @property
    def retained(self) -> list[ProjectResult]:
        return [row for pool in self.pools for row in pool.rows if row.retained]


def vote_counts(budget: Budget) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(BallotChoice.project_id, sa.func.count())
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.budget_id == budget.id)
        .group_by(BallotChoice.project_id)
    )
    return dict(rows.all())


def rank_pool(rows: list[ProjectResult], envelope: int) -> int:
    """Order ``rows`` (votes desc, cost asc, submission asc) and mark the retained ones;
    returns the amount spent."""
    rows.sort(key=lambda r: (-r.votes, r.project.cost, r.project.created_at, r.project.id))
    left = envelope
    for rank, row in enumerate(rows, 1):
        row.rank = rank
        if row.votes > 0 and row.project.cost <= left:
            row.retained = True
            left -= row.project.cost
        elif row.votes > 0:
            row.skipped = True
    return envelope - left


def compute_results(budget: Budget) -> Results:
    counts = vote_counts(budget)
    pools: dict[int | None, PoolResult] = {}
    by_id = {n.id: n for n in neighbourhoods()}
    for key, amount in envelopes(budget).items():
        pools[key] = PoolResult(by_id.get(key) if key else None, amount, [])
    for project in feasible_projects(budget):
        key = pool_of(budget, project)
        if key not in pools:
            continue
        pools[key].rows.append(ProjectResult(project, counts.get(project.id, 0)))
    for pool in pools.values():
        pool.spent = rank_pool(pool.rows, pool.envelope)
    channel_counts = dict(
        db.session.execute(
            sa.select(Ballot.channel, sa.func.count())
            .where(Ballot.budget_id == budget.id)
            .group_by(Ballot.channel)
        ).all()
    )
    voters = db.session.scalar(sa.select(sa.func.count()).where(Voter.budget_id == budget.id))
    ordered = sorted(
        pools.values(),
        key=lambda p: (
            p.neighbourhood is not None,
            p.neighbourhood.name if p.neighbourhood else "",
        ),
    )
    return Results(
        pools=ordered,
        ballots=sum(channel_counts.values()),
        voters=voters,
        online=channel_counts.get(BallotChannel.ONLINE, 0),
        paper=channel_counts.get(BallotChannel.PAPER, 0),
        eligible_population=budget.eligible_population,
    )


def results_public(budget: Budget, today: date) -> bool:
    return is_public(budget) and PHASE_ORDER.index(budget.phase(today)) >= PHASE_ORDER.index(
        BudgetPhase.RESULTS
    )


def retained_project_ids(budget: Budget) -> set[int]:
    return {row.project.id for row in compute_results(budget).retained}
