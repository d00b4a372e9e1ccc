"""The open-data datasets of the participatory budgets: ``budgets.csv`` (the published ones,
``participation.budgets.visibility``) and ``budgets-projets.csv`` (their projects, the
analysis, and the votes once the results are public)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db
from participation.budgets import services, visibility
from participation.budgets.models import Budget, BudgetProject, ProjectStatus
from participation.opendata import services as opendata
from participation.opendata.services import ID, Dataset, Field

BUDGET_FIELDS = (
    ID,
    Field("demarche_id", "entier", "La démarche, s'il y en a une."),
    Field("titre", "texte", "Titre."),
    Field("enveloppe", "entier", "Enveloppe totale, en euros."),
    Field("regle", "texte", "knapsack (dans l'enveloppe) ou approval (nombre de choix)."),
    Field(
        "phase",
        "texte",
        "upcoming, submission, analysis, vote, results ou implementation, au jour de l'export.",
    ),
    Field("vote_debut", "date", "Premier jour du vote."),
    Field("vote_fin", "date", "Dernier jour du vote."),
    Field("url", "url", "Page du budget."),
)
BUDGET_PROJECT_FIELDS = (
    ID,
    Field("budget_id", "entier", "Le budget (budgets.csv)."),
    Field("titre", "texte", "Titre."),
    Field("description", "texte", "Description (Markdown)."),
    Field("quartier", "texte", "Quartier."),
    Field("cout_propose", "entier", "Coût proposé, en euros."),
    Field("cout_estime", "entier", "Coût estimé par la collectivité, en euros."),
    Field("statut", "texte", "submitted, feasible ou unfeasible."),
    Field("motif", "texte", "Motif d'un projet jugé non réalisable."),
    Field("avancement", "entier", "Avancement de la réalisation, en %."),
    Field("voix", "entier", "Voix obtenues ; vide avant la publication des résultats."),
    Field("retenu", "booléen", "« oui » si le projet est lauréat ; vide avant."),
)


def _published() -> list[Budget]:
    return list(db.session.scalars(visibility.published_budgets().order_by(Budget.id)))


def budget_rows():
    today = clock.paris_today()
    for budget in _published():
        yield (
            budget.id,
            budget.process_id or "",
            budget.title,
            budget.envelope,
            budget.rule.value,
            budget.phase(today).value,
            opendata.iso(budget.vote_starts_on),
            opendata.iso(budget.vote_ends_on),
            opendata.page_url("budgets.show", budget_id=budget.id),
        )


def project_rows():
    today = clock.paris_today()
    for budget in _published():
        results = {}
        if services.results_public(budget, today):
            computed = services.compute_results(budget)
            results = {row.project.id: row for pool in computed.pools for row in pool.rows}
        projects = db.session.scalars(
            sa.select(BudgetProject)
            .where(BudgetProject.budget_id == budget.id)
            .options(joinedload(BudgetProject.neighbourhood))
            .order_by(BudgetProject.id)
        )
        for project in projects:
            row = results.get(project.id)
            yield (
                project.id,
                budget.id,
                project.title,
                project.description,
                project.neighbourhood.name if project.neighbourhood else "",
                project.proposed_cost,
                "" if project.estimated_cost is None else project.estimated_cost,
                project.status.value,
                project.analysis_reason if project.status == ProjectStatus.UNFEASIBLE else "",
                project.progress,
                row.votes if row else "",
                ("oui" if row.retained else "non") if row else "",
            )


opendata.register_dataset(
    Dataset("budgets.csv", "Budgets participatifs publiés", BUDGET_FIELDS, budget_rows)
)
opendata.register_dataset(
    Dataset(
        "budgets-projets.csv",
        "Projets des budgets participatifs, analyse et résultats",
        BUDGET_PROJECT_FIELDS,
        project_rows,
    )
)
