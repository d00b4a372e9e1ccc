"""Writes the demo budgets of ``scenarios`` into each demo tenant (see the package
docstring: idempotent, dates follow today)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core import clock, demo
from core.db import db
from participation.accounts.models import Neighbourhood, StaffRole, User
from participation.budgets import services
from participation.budgets.demo.scenarios import BUDGETS, FOLLOW_UP, OK, SAILLANS_CENSUS, DemoBudget
from participation.budgets.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Budget,
    BudgetEnvelope,
    BudgetMilestone,
    BudgetProject,
    BudgetUpdate,
    CensusEntry,
    Voter,
)
from tenants.context import tenant_context


def _tenant_ids() -> dict[str, int]:
    rows = db.session.execute(
        sa.text(
            "SELECT slug, id FROM public.tenants WHERE slug IN :slugs AND status = 'active'"
        ).bindparams(sa.bindparam("slugs", expanding=True)),
        {"slugs": [b.slug for b in BUDGETS]},
    )
    ids = {slug: tenant_id for slug, tenant_id in rows}
    db.session.rollback()  # entering a tenant needs no open transaction
    return ids


def _neighbourhoods() -> dict[str, Neighbourhood]:
    return {n.name: n for n in db.session.scalars(sa.select(Neighbourhood))}


def _sync_budget(spec: DemoBudget, today: date) -> Budget:
    places = _neighbourhoods()
    process_id = None
    if spec.process_title:
        from participation.processes.models import Process

        process_id = db.session.scalar(
            sa.select(Process.id).where(Process.title == spec.process_title)
        )
    budget = db.session.scalar(sa.select(Budget).where(Budget.title == spec.title))
    if budget is None:
        budget = Budget(title=spec.title)
    d = [today + timedelta(days=n) for n in spec.days]
    (
        budget.submission_starts_on,
        budget.submission_ends_on,
        budget.vote_starts_on,
        budget.vote_ends_on,
        budget.implementation_starts_on,
    ) = d
    budget.description = spec.description
    budget.rule = spec.rule
    budget.min_choices, budget.max_choices = spec.min_choices, spec.max_choices
    budget.minimum_age = spec.minimum_age
    budget.require_residency = True
    budget.require_census = spec.require_census
    budget.vote_per_neighbourhood = spec.vote_per_neighbourhood
    if spec.envelopes:
        budget.split_by_neighbourhood = True
        wanted = {
            places[name].id: amount for name, amount in spec.envelopes.items() if name in places
        }
        existing = {e.neighbourhood_id: e for e in budget.envelopes}
        for nid, amount in wanted.items():
            if nid in existing:
                existing[nid].amount = amount
            else:
                budget.envelopes.append(BudgetEnvelope(neighbourhood_id=nid, amount=amount))
        budget.envelope = sum(wanted.values())
    else:
        budget.split_by_neighbourhood = False
        budget.envelope = spec.envelope
    budget.process_id = process_id
    if budget.published_at is None:
        budget.published_at = clock.utcnow()
    db.session.add(budget)
    db.session.flush()
    return budget


def _sync_projects(
    budget: Budget, spec: DemoBudget, authors: list[User], admin: User
) -> list[BudgetProject]:
    places = _neighbourhoods()
    existing = {p.title: p for p in budget.projects}
    start = datetime.combine(budget.submission_starts_on, datetime.min.time(), tzinfo=UTC)
    projects = []
    for index, item in enumerate(spec.projects):
        project = existing.get(item.title)
        if project is None:
            project = BudgetProject(
                budget_id=budget.id,
                title=item.title,
                author_id=authors[index % len(authors)].id if authors else None,
                created_at=start + timedelta(days=index + 1, hours=index),
            )
            db.session.add(project)
        project.description = item.description
        project.proposed_cost = item.cost
        project.neighbourhood_id = (
            places[item.neighbourhood].id if item.neighbourhood in places else None
        )
        project.status = item.status
        project.estimated_cost = item.estimated
        project.analysis_reason = item.reason
        project.analysed_by_id = admin.id
        project.analysed_at = datetime.combine(
            budget.submission_ends_on, datetime.min.time(), tzinfo=UTC
        ) + timedelta(days=3)
        projects.append(project)
    db.session.flush()
    return projects


def _seed_ballots(budget: Budget, spec: DemoBudget, projects: list[BudgetProject]) -> int:
    if not spec.paper_ballots:
        return 0
    if db.session.scalar(sa.select(sa.func.count()).where(Ballot.budget_id == budget.id)):
        return 0
    rng = random.Random(f"{spec.slug}-{budget.id}")
    feasible = [p for p in projects if p.status == OK]
    # Some projects are more popular than others.
    weights = {p.id: rng.uniform(0.2, 1.0) for p in feasible}
    pools = services.envelopes(budget)
    points = ["Hôtel de ville", "Mairie de quartier"] if not budget.split_by_neighbourhood else None
    vote_day = datetime.combine(budget.vote_starts_on, datetime.min.time(), tzinfo=UTC)
    for number in range(spec.paper_ballots):
        if budget.vote_per_neighbourhood:
            area = rng.choice(list(pools))
            candidates = [p for p in feasible if p.neighbourhood_id == area]
            point = f"Mairie de quartier — {db.session.get(Neighbourhood, area).name}"
        else:
            area, candidates, point = None, feasible, rng.choice(points)
        order = sorted(candidates, key=lambda p: -weights[p.id] * rng.random())
        limit = pools[area]
        chosen, total = [], 0
        for project in order:
            if total + project.cost <= limit and rng.random() < 0.75:
                chosen.append(project)
                total += project.cost
        if not chosen and order:
            chosen = [min(order, key=lambda p: p.cost)]
        if not chosen:
            continue
        moment = vote_day + timedelta(hours=rng.randrange(9, 19) + 24 * rng.randrange(0, 5))
        db.session.add(
            Voter(
                budget_id=budget.id,
                voter_label=f"Électrice ou électeur n° {number + 1} (démo)",
                channel=BallotChannel.PAPER,
                polling_point=point,
                voted_at=moment,
            )
        )
        ballot = Ballot(
            budget_id=budget.id,
            channel=BallotChannel.PAPER,
            polling_point=point,
            neighbourhood_id=area,
            cast_hour=moment,
        )
        db.session.add(ballot)
        db.session.flush()
        db.session.add_all(BallotChoice(ballot_id=ballot.id, project_id=p.id) for p in chosen)
    db.session.flush()
    return spec.paper_ballots


def _seed_follow_up(budget: Budget, admin: User) -> int:
    if services.phase_label(budget.phase(clock.paris_today())) is None:  # pragma: no cover
        return 0
    retained = [row.project for row in services.compute_results(budget).retained]
    for index, project in enumerate(retained):
        if project.milestones:
            continue
        project.progress = [100, 60, 35, 20, 10][index % 5]
        start = budget.implementation_starts_on
        for position, (title, offset, done) in enumerate(FOLLOW_UP):
            db.session.add(
                BudgetMilestone(
                    project_id=project.id,
                    position=position,
                    title=title,
                    due_on=start + timedelta(days=offset),
                    done_on=start + timedelta(days=offset - 5)
                    if done or project.progress == 100
                    else None,
                )
            )
        db.session.add(
            BudgetUpdate(
                project_id=project.id,
                author_id=admin.id,
                body=(
                    f"Les études de « {project.title} » sont terminées et la commande est passée. "
                    "Les travaux suivront le calendrier ci-dessus ; nous publierons des photos "
                    "du chantier."
                ),
            )
        )
    db.session.flush()
    return len(retained)


def _seed_census(budget: Budget) -> None:
    if services.census_size(budget):
        return
    db.session.execute(
        sa.insert(CensusEntry),
        [
            {
                "budget_id": budget.id,
                "full_name": name,
                "normalised_name": services.normalise_name(name),
                "birth_date": born,
            }
            for name, born in SAILLANS_CENSUS
        ],
    )
    budget.eligible_population = 1_050
    db.session.flush()


def _people() -> tuple[list[User], User | None]:
    citizens = list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.staff_role.is_(None),
                User.email.like("%@example.fr"),
                User.deleted_at.is_(None),
            )
            .order_by(User.id)
        )
    )
    admin = db.session.scalar(
        sa.select(User).where(User.staff_role == StaffRole.ADMIN).order_by(User.id).limit(1)
    )
    return citizens, admin


@demo.register(order=70)
def seed_budgets():
    ids = _tenant_ids()
    if not ids:
        yield "budgets demo: no active demo tenant, skipped"
        return
    for spec in BUDGETS:
        tenant_id = ids.get(spec.slug)
        if tenant_id is None:
            continue
        with tenant_context(tenant_id) as tenant:
            citizens, admin = _people()
            if admin is None:
                yield f"{tenant.name} budget participatif: no admin yet, skipped"
                continue
            budget = _sync_budget(spec, clock.paris_today())
            projects = _sync_projects(budget, spec, citizens, admin)
            ballots = _seed_ballots(budget, spec, projects)
            if spec.require_census:
                _seed_census(budget)
            followed = 0
            if spec.slug == "angers":
                followed = _seed_follow_up(budget, admin)
            db.session.commit()
            yield (
                f"{tenant.name} budget participatif « {budget.title} » : {len(projects)} projets, "
                f"{ballots} bulletins ajoutés, {followed} projets suivis "
                f"(/budgets-participatifs/{budget.id})"
            )
