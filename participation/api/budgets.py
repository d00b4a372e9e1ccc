"""Participatory budgets in the API: published budgets, their projects with the analysis,
and the vote results once the results phase has begun (as on the budget's page)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db
from core.errors import abort_with
from participation.api import cursor
from participation.api import schemas as s
from participation.api.registry import api_get, schema
from participation.api.views import (
    CURSOR,
    ID_DOC,
    LIMIT,
    PROCESS_FILTER,
    author,
    bp,
    iso,
    labelled,
)
from participation.budgets import services, visibility
from participation.budgets.models import (
    Budget,
    BudgetPhase,
    BudgetProject,
    ProjectStatus,
    VotingRule,
)

EUROS = {"type": "integer", "description": "Montant en euros."}

BUDGET_FIELDS = {
    "id": s.INTEGER,
    "process_id": s.nullable(s.INTEGER),
    "title": s.STRING,
    "description": {"type": "string", "description": "Markdown."},
    "envelope": EUROS,
    "split_by_neighbourhood": {"type": "boolean"},
    "rule": {"type": "string", "enum": [rule.value for rule in VotingRule]},
    "phase": {"type": "string", "enum": [phase.value for phase in BudgetPhase]},
    "submission_starts_on": s.DATE,
    "submission_ends_on": s.DATE,
    "vote_starts_on": s.DATE,
    "vote_ends_on": s.DATE,
    "implementation_starts_on": s.DATE,
    "url": s.URL,
}
BUDGET = schema("Budget", s.obj(BUDGET_FIELDS))
PROJECT = schema(
    "BudgetProject",
    s.obj(
        {
            "id": s.INTEGER,
            "title": s.STRING,
            "description": {"type": "string", "description": "Markdown."},
            "author": s.AUTHOR,
            "neighbourhood": s.nullable(s.LABELLED),
            "proposed_cost": EUROS,
            "estimated_cost": s.nullable(EUROS),
            "status": {"type": "string", "enum": [status.value for status in ProjectStatus]},
            "status_label": s.STRING,
            "analysis_reason": s.nullable(s.STRING),
            "progress": {"type": "integer", "description": "Avancement de la réalisation, en %."},
            "votes": s.nullable({"type": "integer", "description": "Null avant les résultats."}),
            "rank": s.nullable(s.INTEGER),
            "retained": s.nullable({"type": "boolean"}),
            "created_at": s.DATETIME,
        }
    ),
)
BUDGET_DETAIL = schema(
    "BudgetDetail",
    s.obj(
        {
            **BUDGET_FIELDS,
            "projects": {"type": "array", "items": PROJECT},
            "results": s.nullable(
                s.obj(
                    {
                        "ballots": s.INTEGER,
                        "voters": s.INTEGER,
                        "online": s.INTEGER,
                        "paper": s.INTEGER,
                        "eligible_population": s.nullable(s.INTEGER),
                        "pools": {
                            "type": "array",
                            "items": s.obj(
                                {
                                    "neighbourhood": s.nullable(s.LABELLED),
                                    "envelope": EUROS,
                                    "spent": EUROS,
                                }
                            ),
                        },
                    }
                )
            ),
        }
    ),
)
BUDGET_PAGE = schema("BudgetPage", s.page_of(BUDGET, "Une page de budgets participatifs."))


def budget_json(budget: Budget) -> dict:
    return {
        "id": budget.id,
        "process_id": budget.process_id,
        "title": budget.title,
        "description": budget.description or "",
        "envelope": budget.envelope,
        "split_by_neighbourhood": budget.split_by_neighbourhood,
        "rule": budget.rule.value,
        "phase": budget.phase(clock.paris_today()).value,
        "submission_starts_on": iso(budget.submission_starts_on),
        "submission_ends_on": iso(budget.submission_ends_on),
        "vote_starts_on": iso(budget.vote_starts_on),
        "vote_ends_on": iso(budget.vote_ends_on),
        "implementation_starts_on": iso(budget.implementation_starts_on),
        "url": url_for("budgets.show", budget_id=budget.id, _external=True),
    }


def project_json(project: BudgetProject, result) -> dict:
    return {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "author": author(project.author),
        "neighbourhood": labelled(project.neighbourhood),
        "proposed_cost": project.proposed_cost,
        "estimated_cost": project.estimated_cost,
        "status": project.status.value,
        "status_label": services.status_label(project.status),
        "analysis_reason": (
            project.analysis_reason if project.status == ProjectStatus.UNFEASIBLE else None
        ),
        "progress": project.progress,
        "votes": result.votes if result else None,
        "rank": result.rank if result else None,
        "retained": result.retained if result else None,
        "created_at": iso(project.created_at),
    }


@api_get(
    bp,
    "/budgets",
    operation_id="listBudgets",
    summary="Budgets participatifs publiés",
    tag="Budgets participatifs",
    response=BUDGET_PAGE,
    params=(PROCESS_FILTER, LIMIT, CURSOR),
)
def list_budgets(params: dict[str, Any]):
    query = visibility.published_budgets()
    return jsonify(cursor.listing_json("budgets", query, Budget, params, budget_json))


@api_get(
    bp,
    "/budgets/<int:budget_id>",
    operation_id="getBudget",
    summary="Un budget participatif, ses projets et, après le vote, ses résultats",
    tag="Budgets participatifs",
    response=BUDGET_DETAIL,
    path_params={"budget_id": ID_DOC},
    description="Les voix, le rang et « retained » sont null tant que les résultats ne "
    "sont pas publics ; « results » aussi.",
)
def get_budget(params: dict[str, Any], budget_id: int):
    budget = services.get_budget(budget_id)
    if budget is None or not visibility.is_public(budget):
        abort_with(404, _("Ce budget participatif n'existe pas."))
    data = budget_json(budget)
    results = None
    by_project: dict[int, object] = {}
    if services.results_public(budget, clock.paris_today()):
        results = services.compute_results(budget)
        by_project = {row.project.id: row for pool in results.pools for row in pool.rows}
    projects = db.session.scalars(
        sa.select(BudgetProject)
        .where(BudgetProject.budget_id == budget.id)
        .options(joinedload(BudgetProject.author), joinedload(BudgetProject.neighbourhood))
        .order_by(BudgetProject.created_at, BudgetProject.id)
    )
    data["projects"] = [project_json(p, by_project.get(p.id)) for p in projects]
    data["results"] = (
        {
            "ballots": results.ballots,
            "voters": results.voters,
            "online": results.online,
            "paper": results.paper,
            "eligible_population": results.eligible_population,
            "pools": [
                {
                    "neighbourhood": labelled(pool.neighbourhood),
                    "envelope": pool.envelope,
                    "spent": pool.spent,
                }
                for pool in results.pools
            ],
        }
        if results is not None
        else None
    )
    return jsonify(data)
