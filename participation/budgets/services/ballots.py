"""Ballots: what a voter may choose (:func:`check_selection`), the online ballot (one
statement on the hot path, :func:`quick_cast`; the explaining path, :func:`cast_ballot`),
paper ballots entered by staff, and the register of who voted.

- **One ballot per voter** is guaranteed by ``budget_voters``' unique constraints
  ``(budget_id, user_id)`` and ``(budget_id, census_entry_id)``. :func:`cast_ballot` inserts
  the register row with ``ON CONFLICT DO NOTHING`` first; a concurrent submission waits for
  the first transaction and then finds the conflict: it gets :class:`AlreadyVoted`, and
  the ballot rows are only written by the transaction that owns the register row.
- **Secrecy**: ballots have a random uuid id, the hour of the vote (truncated), the
  channel and the voting area, nothing else; audit entries of paper ballots never contain
  the choices.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core import clock
from core.audit import audit
from core.db import db
from participation.accounts.models import Neighbourhood, User
from participation.budgets.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Budget,
    BudgetPhase,
    BudgetProject,
    Eligibility,
    EligibilityStatus,
    ProjectStatus,
    Voter,
    VotingRule,
)
from participation.budgets.services.census import match_census
from participation.budgets.services.eligibility import eligibility_of
from participation.budgets.services.errors import AlreadyVoted, BudgetError
from participation.budgets.services.labels import euros
from participation.budgets.services.lookups import envelopes, feasible_projects, is_public, pool_of
from tenants import pagecache

# Who voted and what is only shown after the vote (results) or to staff: a ballot does not
# make the pages cached for visitors stale (results pages open on a date: PAGE_CACHE_TTL).
pagecache.ignore_writes_to(Voter, Ballot, BallotChoice)


def has_voted(budget: Budget, user: User | None) -> bool:
    if user is None:
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                Voter.budget_id == budget.id, Voter.user_id == user.id
            )
        )
    )


def ballot_projects(budget: Budget, area_id: int | None) -> list[BudgetProject]:
    """The projects on the voter's ballot (descriptions not loaded: the ballot shows titles
    and costs, and the ballot endpoint is a hot path)."""
    return feasible_projects(
        budget, area_id if budget.vote_per_neighbourhood else None, defer_description=True
    )


@dataclass(frozen=True)
class BallotLine:
    """A project as the ballot endpoint needs it (plain columns, no ORM object)."""

    id: int
    cost: int
    neighbourhood_id: int | None


def ballot_lines(budget: Budget, area_id: int | None) -> list[BallotLine]:
    """The projects on the voter's ballot, as plain rows (one light query)."""
    query = sa.select(
        BudgetProject.id,
        sa.func.coalesce(BudgetProject.estimated_cost, BudgetProject.proposed_cost),
        BudgetProject.neighbourhood_id,
    ).where(BudgetProject.budget_id == budget.id, BudgetProject.status == ProjectStatus.FEASIBLE)
    if budget.vote_per_neighbourhood and area_id is not None:
        query = query.where(BudgetProject.neighbourhood_id == area_id)
    return [BallotLine(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class VoterState:
    status: EligibilityStatus
    neighbourhood_id: int | None
    census_entry_id: int | None


def voter_state(budget: Budget, user: User | None) -> VoterState | None:
    """The voter's eligibility as plain values (one light query), None if none."""
    if user is None:
        return None
    row = db.session.execute(
        sa.select(
            Eligibility.status, Eligibility.neighbourhood_id, Eligibility.census_entry_id
        ).where(Eligibility.budget_id == budget.id, Eligibility.user_id == user.id)
    ).first()
    return VoterState(*row) if row is not None else None


def check_selection(
    budget: Budget,
    projects: Iterable[BudgetProject],
    selected_ids: Iterable[int],
    area_id: int | None,
) -> list[BudgetProject]:
    """The chosen projects if the selection follows the budget's rule, else BudgetError."""
    by_id = {p.id: p for p in projects}
    wanted = set(selected_ids)
    if not wanted:
        raise BudgetError(_("Choisissez au moins un projet."))
    unknown = wanted - by_id.keys()
    if unknown:
        raise BudgetError(_("Un des projets choisis ne fait pas partie de ce vote."))
    chosen = [by_id[i] for i in sorted(wanted)]
    if budget.rule == VotingRule.APPROVAL:
        if len(chosen) < (budget.min_choices or 1):
            raise BudgetError(
                _(
                    "Choisissez au moins %(min)d projets (vous en avez choisi %(n)d).",
                    min=budget.min_choices,
                    n=len(chosen),
                )
            )
        if budget.max_choices and len(chosen) > budget.max_choices:
            raise BudgetError(
                _(
                    "Choisissez au plus %(max)d projets (vous en avez choisi %(n)d).",
                    max=budget.max_choices,
                    n=len(chosen),
                )
            )
        return chosen
    pools = envelopes(budget)
    totals: dict[int | None, int] = {}
    for project in chosen:
        key = pool_of(budget, project)
        totals[key] = totals.get(key, 0) + project.cost
    for key, total in totals.items():
        limit = pools.get(key, 0)
        if total > limit:
            if key is None:
                raise BudgetError(
                    _(
                        "Votre sélection coûte %(total)s et dépasse l'enveloppe de %(limit)s : "
                        "retirez un ou plusieurs projets.",
                        total=euros(total),
                        limit=euros(limit),
                    )
                )
            name = db.session.get(Neighbourhood, key).name
            raise BudgetError(
                _(
                    "Pour le quartier %(name)s, votre sélection coûte %(total)s et dépasse "
                    "l'enveloppe de %(limit)s : retirez un ou plusieurs projets.",
                    name=name,
                    total=euros(total),
                    limit=euros(limit),
                )
            )
    return chosen


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _insert_ballot(
    budget: Budget, chosen: list[BudgetProject], channel: BallotChannel, polling_point, area_id
) -> None:
    ballot_id = uuid.uuid4()
    db.session.execute(
        sa.insert(Ballot).values(
            id=ballot_id,
            budget_id=budget.id,
            channel=channel,
            polling_point=polling_point,
            neighbourhood_id=area_id,
            cast_hour=_hour(clock.utcnow()),
        )
    )
    db.session.execute(
        sa.insert(BallotChoice), [{"ballot_id": ballot_id, "project_id": p.id} for p in chosen]
    )


def _register(values: dict) -> bool:
    """Insert the register row; False when this voter (or census person) already voted."""
    inserted = db.session.execute(
        pg_insert(Voter).values(**values).on_conflict_do_nothing().returning(Voter.id)
    ).first()
    return inserted is not None


#: The register row, the ballot and its choices in one statement (one round trip: the
#: ballot endpoint's hot path). The ballot rows are written only when the register row was:
#: a second submission, even a concurrent one, conflicts on ``budget_voters``' unique
#: constraints and writes nothing. Unqualified names: the tenant's ``search_path``.
_CAST_SQL = sa.text(
    """
    WITH registered AS (
        INSERT INTO budget_voters (budget_id, user_id, census_entry_id, channel)
        VALUES (:budget_id, :user_id, :census_entry_id, 'online')
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), ballot AS (
        INSERT INTO budget_ballots (id, budget_id, channel, neighbourhood_id, cast_hour)
        SELECT :ballot_id, :budget_id, 'online', :area_id, :cast_hour
        WHERE EXISTS (SELECT 1 FROM registered)
        RETURNING id
    ), choices AS (
        INSERT INTO budget_ballot_choices (ballot_id, project_id)
        SELECT ballot.id, project_id
        FROM ballot, unnest(CAST(:project_ids AS integer[])) AS project_id
    )
    SELECT count(*) FROM registered
    """
)


#: The ballot endpoint's fast path: every rule of ``cast_ballot`` checked by the database in
#: the same single statement that writes the register row, the ballot and its choices —
#: budget published and in its vote today, voter approved, every chosen project feasible in
#: this budget (and in the voter's quartier for a per-quartier vote), and the voting rule
#: (approval: number of choices; knapsack: each pool's total within its envelope). Nothing
#: to load first, nothing cached: one round trip. When any check fails, or the voter has
#: voted already, nothing is written and the count is 0: the endpoint then takes the
#: ordinary path (``cast_ballot``), which says why. ``check_selection`` and this statement
#: must agree; tests/participation/test_budget_quick_ballot.py holds them to it.
_QUICK_CAST_SQL = sa.text(
    """
    WITH open_budget AS (
        SELECT id, envelope, split_by_neighbourhood, rule, min_choices, max_choices,
               vote_per_neighbourhood
        FROM budgets
        WHERE id = :budget_id AND published_at IS NOT NULL
          AND vote_starts_on <= :today AND vote_ends_on >= :today
    ), voter AS (
        -- OFFSET 0 keeps the status test outside the look-up, so that it goes through the
        -- unique (budget_id, user_id) index: otherwise, with statistics taken before a
        -- census import, the planner may walk the (budget_id, status) index over every
        -- approved voter of the budget, on each ballot.
        SELECT e.census_entry_id,
               CASE WHEN b.vote_per_neighbourhood THEN e.neighbourhood_id END AS area_id
        FROM open_budget AS b,
             LATERAL (SELECT census_entry_id, neighbourhood_id, status
                      FROM budget_eligibilities
                      WHERE budget_id = b.id AND user_id = :user_id
                      OFFSET 0) AS e
        WHERE e.status = 'approved'
    ), chosen AS (
        SELECT p.id, p.neighbourhood_id,
               coalesce(p.estimated_cost, p.proposed_cost, 0) AS cost,
               CASE WHEN b.split_by_neighbourhood THEN p.neighbourhood_id END AS pool
        FROM budget_projects AS p, open_budget AS b
        WHERE p.budget_id = b.id AND p.status = 'feasible'
          AND p.id = ANY(CAST(:project_ids AS integer[]))
    ), valid AS (
        SELECT 1
        FROM open_budget AS b, voter AS v
        WHERE (SELECT count(*) FROM chosen) = cardinality(CAST(:project_ids AS integer[]))
          AND cardinality(CAST(:project_ids AS integer[])) > 0
          AND (v.area_id IS NULL
               OR NOT EXISTS (SELECT 1 FROM chosen AS c
                              WHERE c.neighbourhood_id IS DISTINCT FROM v.area_id))
          AND CASE WHEN b.rule = 'approval' THEN
                  (SELECT count(*) FROM chosen) >= coalesce(b.min_choices, 1)
                  AND (b.max_choices IS NULL OR (SELECT count(*) FROM chosen) <= b.max_choices)
              ELSE NOT EXISTS (
                  SELECT 1
                  FROM (SELECT pool, sum(cost) AS total FROM chosen GROUP BY pool) AS t
                  WHERE t.total > CASE
                      WHEN b.split_by_neighbourhood THEN coalesce(
                          (SELECT amount FROM budget_envelopes AS be
                           WHERE be.budget_id = b.id AND be.neighbourhood_id = t.pool), 0)
                      ELSE b.envelope END)
              END
    ), registered AS (
        INSERT INTO budget_voters (budget_id, user_id, census_entry_id, channel)
        SELECT :budget_id, :user_id, v.census_entry_id, 'online'
        FROM voter AS v, valid
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), ballot AS (
        INSERT INTO budget_ballots (id, budget_id, channel, neighbourhood_id, cast_hour)
        SELECT :ballot_id, :budget_id, 'online', v.area_id, :cast_hour
        FROM voter AS v
        WHERE EXISTS (SELECT 1 FROM registered)
        RETURNING id
    ), choices AS (
        INSERT INTO budget_ballot_choices (ballot_id, project_id)
        SELECT ballot.id, chosen.id FROM ballot, chosen
    )
    SELECT count(*) FROM registered
    """
)


def quick_cast(budget_id: int, user_id: int, selected_ids: Iterable[int], today: date) -> bool:
    """Record the ballot in one statement when every rule holds (see ``_QUICK_CAST_SQL``);
    False when nothing was written, for the caller to take the path that explains why."""
    project_ids = sorted(set(selected_ids))
    if not project_ids:
        return False
    return bool(
        db.session.execute(
            _QUICK_CAST_SQL,
            {
                "budget_id": budget_id,
                "user_id": user_id,
                "today": today,
                "project_ids": project_ids,
                "ballot_id": uuid.uuid4(),
                "cast_hour": _hour(clock.utcnow()),
            },
        ).scalar_one()
    )


def already_voted_message() -> str:
    return _(
        "Vous avez déjà voté pour ce budget : un bulletin est définitif et ne peut être "
        "déposé qu'une fois."
    )


def cast_ballot(
    budget: Budget,
    user: User,
    selected_ids: Iterable[int],
    today: date,
    *,
    eligibility: Eligibility | VoterState | None = None,
    projects: list[BudgetProject] | list[BallotLine] | None = None,
) -> None:
    """Record ``user``'s ballot: register row and ballot in the caller's transaction.

    ``eligibility`` and ``projects`` may be passed when the caller has loaded them already
    (the ballot endpoint does)."""
    if not is_public(budget) or budget.phase(today) != BudgetPhase.VOTE:
        raise BudgetError(_("Le vote n'est pas ouvert pour ce budget."))
    eligibility = eligibility or eligibility_of(budget, user)
    if eligibility is None or eligibility.status != EligibilityStatus.APPROVED:
        raise BudgetError(_("Votre participation au vote doit d'abord être validée."))
    area_id = eligibility.neighbourhood_id if budget.vote_per_neighbourhood else None
    if projects is None:
        projects = ballot_lines(budget, area_id)
    chosen = check_selection(budget, projects, selected_ids, area_id)
    registered = db.session.execute(
        _CAST_SQL,
        {
            "budget_id": budget.id,
            "user_id": user.id,
            "census_entry_id": eligibility.census_entry_id,
            "ballot_id": uuid.uuid4(),
            "area_id": area_id,
            "cast_hour": _hour(clock.utcnow()),
            "project_ids": [p.id for p in chosen],
        },
    ).scalar_one()
    if not registered:
        raise AlreadyVoted(already_voted_message())


def record_paper_ballot(
    budget: Budget,
    actor: User,
    *,
    polling_point: str,
    voter_name: str,
    birth_date: date | None,
    area_id: int | None,
    selected_ids: Iterable[int],
    today: date,
) -> Voter:
    if budget.phase(today) != BudgetPhase.VOTE:
        raise BudgetError(
            _("Le vote n'est pas ouvert : impossible d'enregistrer un bulletin papier.")
        )
    polling_point = " ".join((polling_point or "").split())
    voter_name = " ".join((voter_name or "").split())
    if not polling_point:
        raise BudgetError(_("Indiquez le bureau de vote."), "polling_point")
    if not voter_name:
        raise BudgetError(
            _("Indiquez le nom de la personne, tel qu'il figure sur la liste d'émargement."),
            "voter_name",
        )
    if budget.vote_per_neighbourhood and area_id not in envelopes(budget):
        raise BudgetError(_("Choisissez le quartier du bulletin."), "neighbourhood_id")
    entry_id = None
    if budget.require_census:
        if birth_date is None:
            raise BudgetError(_("Indiquez la date de naissance de la personne."), "birth_date")
        found = match_census(budget.id, voter_name, birth_date)
        if found.kind != "exact":
            raise BudgetError(
                _(
                    "Cette personne n'est pas sur la liste des habitants sous ce nom et cette "
                    "date de naissance : vérifiez sa pièce d'identité."
                ),
                "voter_name",
            )
        entry_id = found.entry.id
    area = area_id if budget.vote_per_neighbourhood else None
    chosen = check_selection(budget, ballot_projects(budget, area), selected_ids, area)
    registered = _register(
        {
            "budget_id": budget.id,
            "user_id": None,
            "census_entry_id": entry_id,
            "voter_label": voter_name[:200],
            "channel": BallotChannel.PAPER,
            "polling_point": polling_point[:200],
            "recorded_by_id": actor.id,
        }
    )
    if not registered:
        raise AlreadyVoted(_("Cette personne a déjà voté (en ligne ou sur papier)."), "voter_name")
    _insert_ballot(budget, chosen, BallotChannel.PAPER, polling_point[:200], area)
    db.session.flush()
    voter = db.session.scalar(
        sa.select(Voter)
        .where(Voter.budget_id == budget.id, Voter.recorded_by_id == actor.id)
        .order_by(Voter.id.desc())
        .limit(1)
    )
    # The choices are not audited: the entry names the voter.
    audit(
        "budgets.paper_ballot_recorded",
        actor,
        "budget",
        budget.id,
        polling_point=polling_point,
        register_id=voter.id,
    )
    return voter


def register(budget: Budget) -> list[Voter]:
    return list(
        db.session.scalars(
            sa.select(Voter)
            .where(Voter.budget_id == budget.id)
            .order_by(Voter.voted_at, Voter.id)
            .options(sa.orm.joinedload(Voter.user))
        )
    )
