"""Projects: submitted by residents during the submission phase, then analysed by staff
(feasible with a cost that fits its pool, or not feasible with a public reason)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from core import clock
from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.budgets.models import (
    Budget,
    BudgetPhase,
    BudgetProject,
    ProjectFollow,
    ProjectStatus,
)
from participation.budgets.services.errors import BudgetError
from participation.budgets.services.labels import euros, status_label
from participation.budgets.services.lookups import envelopes, is_public, pool_of

MAX_COST = 100_000_000


def submit_project(
    budget: Budget,
    author: User,
    *,
    title: str,
    description: str,
    neighbourhood_id: int | None,
    proposed_cost: int | None,
    today: date,
) -> BudgetProject:
    if not is_public(budget) or budget.phase(today) != BudgetPhase.SUBMISSION:
        raise BudgetError(_("Le dépôt des projets n'est pas ouvert pour ce budget."))
    title = (title or "").strip()
    description = (description or "").strip()
    if len(title) < 5:
        raise BudgetError(_("Le titre doit faire au moins 5 caractères."), "title")
    if len(description) < 20:
        raise BudgetError(_("Décrivez votre projet en au moins 20 caractères."), "description")
    if proposed_cost is None or proposed_cost <= 0 or proposed_cost > MAX_COST:
        raise BudgetError(_("Indiquez une estimation du coût en euros."), "proposed_cost")
    if budget.split_by_neighbourhood:
        if neighbourhood_id not in envelopes(budget):
            raise BudgetError(
                _("Choisissez le quartier concerné : l'enveloppe est répartie par quartier."),
                "neighbourhood_id",
            )
        pool = envelopes(budget)[neighbourhood_id]
    else:
        pool = budget.envelope
    if proposed_cost > pool:
        raise BudgetError(
            _("Le coût estimé dépasse l'enveloppe disponible (%(amount)s).", amount=euros(pool)),
            "proposed_cost",
        )
    project = BudgetProject(
        budget_id=budget.id,
        author_id=author.id,
        title=title,
        description=description,
        neighbourhood_id=neighbourhood_id,
        proposed_cost=proposed_cost,
    )
    db.session.add(project)
    db.session.flush()
    db.session.add(ProjectFollow(project_id=project.id, user_id=author.id))
    db.session.flush()
    return project


def analyse_project(
    project: BudgetProject,
    actor: User,
    *,
    feasible: bool,
    estimated_cost: int | None,
    reason: str | None,
    today: date,
) -> None:
    budget = project.budget
    if budget.phase(today) not in (
        BudgetPhase.UPCOMING,
        BudgetPhase.SUBMISSION,
        BudgetPhase.ANALYSIS,
    ):
        raise BudgetError(_("Le vote a commencé : l'analyse des projets ne peut plus changer."))
    reason = (reason or "").strip() or None
    if not feasible and not reason:
        raise BudgetError(
            _("Expliquez publiquement pourquoi le projet n'est pas réalisable."), "reason"
        )
    if feasible:
        if estimated_cost is None or estimated_cost <= 0 or estimated_cost > MAX_COST:
            raise BudgetError(
                _("Indiquez le coût estimé par les services, en euros."), "estimated_cost"
            )
        pool = envelopes(budget).get(pool_of(budget, project))
        if pool is None or estimated_cost > pool:
            raise BudgetError(
                _("Ce coût dépasse l'enveloppe : le projet ne pourrait pas être retenu."),
                "estimated_cost",
            )
    previous = project.status
    project.status = ProjectStatus.FEASIBLE if feasible else ProjectStatus.UNFEASIBLE
    project.estimated_cost = estimated_cost if feasible else estimated_cost or None
    project.analysis_reason = reason
    project.analysed_at = clock.utcnow()
    project.analysed_by_id = actor.id
    db.session.flush()
    audit(
        "budgets.project_analysed",
        actor,
        "budget_project",
        project.id,
        status=project.status.value,
        estimated_cost=project.estimated_cost,
    )
    if project.author_id and previous != project.status:
        from participation.engagement.services import local_url, notify_user

        notify_user(
            project.author_id,
            kind="status.budget",
            title=_("Votre projet « %(title)s » a été analysé", title=project.title),
            body=status_label(project.status) + (f" : {reason}" if reason else ""),
            url=local_url("budgets.project", project_id=project.id),
        )
