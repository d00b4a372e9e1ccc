"""Open-data datasets of the other participation tools (surveys, participatory budgets,
meetings, reports of local problems): the public part of each, no personal data.

Each tool's datasets are registered only when its package is present."""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db
from participation.opendata.services import ID, Dataset, Field, _url, iso, register_dataset

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- surveys


SURVEY_FIELDS = (
    ID,
    Field("demarche_id", "entier", "La démarche, s'il y en a une."),
    Field("titre", "texte", "Titre."),
    Field("resume", "texte", "Résumé."),
    Field("ouverture", "date", "Premier jour pour répondre."),
    Field("cloture", "date", "Dernier jour pour répondre."),
    Field("resultats_publies", "booléen", "« oui » si les résultats sont publics."),
    Field(
        "vous_avez_dit_nous_avons_fait",
        "texte",
        "Ce que la collectivité a décidé (Markdown), une fois publié.",
    ),
    Field("url", "url", "Page de la consultation."),
)


SURVEY_RESULT_FIELDS = (
    Field("consultation_id", "entier", "La consultation (consultations.csv)."),
    Field("question_numero", "entier", "Numéro de la question."),
    Field("question", "texte", "Texte de la question."),
    Field(
        "type",
        "texte",
        "single, multiple, scale (1 à 5), ranking, short_text, long_text, number ou date.",
    ),
    Field("repondants", "entier", "Personnes ayant répondu à la question."),
    Field("option", "texte", "Choix proposé, ou valeur de l'échelle ; vide sinon."),
    Field("nombre", "entier", "Réponses pour ce choix ou cette valeur."),
    Field("pourcentage", "décimal", "Part des répondants à la question."),
    Field("moyenne", "décimal", "Moyenne (échelles et nombres)."),
)


def _register_surveys() -> None:
    from participation.surveys import services
    from participation.surveys.models import Survey, SurveyState

    def published():
        return db.session.scalars(
            sa.select(Survey).where(Survey.state == SurveyState.PUBLISHED).order_by(Survey.id)
        )

    def survey_rows():
        for survey in published():
            yield (
                survey.id,
                survey.process_id or "",
                survey.title,
                survey.summary or "",
                iso(survey.opens_on),
                iso(survey.closes_on),
                "oui" if survey.results_published_at else "non",
                survey.outcome if survey.outcome_published_at else "",
                _url("surveys.show", survey_id=survey.id),
            )

    def result_rows():
        for survey in published():
            if survey.results_published_at is None:
                continue
            results = services.compute_results(survey, with_texts=False)
            for q in results.questions:
                base = (survey.id, q.number, q.question.text, q.question.kind.value, q.respondents)
                if q.choices:
                    for choice in q.choices:
                        yield (*base, choice.option.label, choice.count, choice.percent, "")
                elif q.distribution:
                    for value, count, percent in q.distribution:
                        yield (*base, value, count, percent, q.average or "")
                else:
                    yield (*base, "", "", "", q.average if q.average is not None else "")

    register_dataset(
        Dataset(
            "consultations.csv",
            "Consultations (questionnaires) publiées",
            SURVEY_FIELDS,
            survey_rows,
        )
    )
    register_dataset(
        Dataset(
            "consultations-resultats.csv",
            "Résultats publiés des consultations (agrégats, jamais les réponses libres)",
            SURVEY_RESULT_FIELDS,
            result_rows,
        )
    )


# --------------------------------------------------------------------------- budgets


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


def _register_budgets() -> None:
    from participation.budgets import services
    from participation.budgets.models import Budget, BudgetProject, ProjectStatus

    def published():
        return list(
            db.session.scalars(
                sa.select(Budget).where(Budget.published_at.is_not(None)).order_by(Budget.id)
            )
        )

    def budget_rows():
        today = clock.paris_today()
        for budget in published():
            yield (
                budget.id,
                budget.process_id or "",
                budget.title,
                budget.envelope,
                budget.rule.value,
                budget.phase(today).value,
                iso(budget.vote_starts_on),
                iso(budget.vote_ends_on),
                _url("budgets.show", budget_id=budget.id),
            )

    def project_rows():
        today = clock.paris_today()
        for budget in published():
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

    register_dataset(
        Dataset("budgets.csv", "Budgets participatifs publiés", BUDGET_FIELDS, budget_rows)
    )
    register_dataset(
        Dataset(
            "budgets-projets.csv",
            "Projets des budgets participatifs, analyse et résultats",
            BUDGET_PROJECT_FIELDS,
            project_rows,
        )
    )


# --------------------------------------------------------------------------- meetings

MEETING_FIELDS = (
    ID,
    Field("demarche_id", "entier", "La démarche, s'il y en a une."),
    Field("titre", "texte", "Titre."),
    Field("description", "texte", "Présentation (Markdown)."),
    Field("debut", "date-heure", "Début."),
    Field("fin", "date-heure", "Fin."),
    Field("adresse", "texte", "Lieu."),
    Field("lien_visio", "url", "Lien de participation à distance."),
    Field("places", "entier", "Nombre de places ; vide : sans limite."),
    Field("inscrits", "entier", "Inscriptions confirmées."),
    Field("annulee_le", "date-heure", "Date d'annulation, le cas échéant."),
    Field("compte_rendu", "texte", "Compte rendu publié (Markdown)."),
    Field("url", "url", "Page de la réunion."),
)


def _register_meetings() -> None:
    from participation.meetings import services
    from participation.meetings.models import Meeting

    def meeting_rows():
        meetings = list(
            db.session.scalars(
                sa.select(Meeting).where(Meeting.published_at.is_not(None)).order_by(Meeting.id)
            )
        )
        counts = services.counts([m.id for m in meetings])
        for meeting in meetings:
            yield (
                meeting.id,
                meeting.process_id or "",
                meeting.title,
                meeting.description or "",
                iso(meeting.starts_at),
                iso(meeting.ends_at),
                meeting.address or "",
                meeting.online_url or "",
                "" if meeting.capacity is None else meeting.capacity,
                counts[meeting.id].confirmed,
                iso(meeting.cancelled_at),
                meeting.minutes if meeting.minutes_published_at else "",
                _url("meetings.show", meeting_id=meeting.id),
            )

    register_dataset(Dataset("reunions.csv", "Réunions publiques", MEETING_FIELDS, meeting_rows))


# --------------------------------------------------------------------------- problems

PROBLEM_FIELDS = (
    ID,
    Field("categorie", "texte", "Catégorie."),
    Field("description", "texte", "Description du problème."),
    Field("adresse", "texte", "Adresse indiquée."),
    Field("latitude", "décimal", "Latitude WGS 84."),
    Field("longitude", "décimal", "Longitude WGS 84."),
    Field("statut", "texte", "new, acknowledged, in_progress, resolved ou rejected."),
    Field("motif", "texte", "Motif d'un signalement rejeté."),
    Field("cree_le", "date-heure", "Date du signalement."),
    Field("resolu_le", "date-heure", "Date de résolution."),
    Field("url", "url", "Page du signalement."),
)


def _register_problems() -> None:
    from participation.problems import services
    from participation.problems.models import ProblemReport, ProblemStatus

    def problem_rows():
        reports = db.session.scalars(
            sa.select(ProblemReport)
            .where(services._public_clause())
            .options(joinedload(ProblemReport.category))
            .order_by(ProblemReport.id)
            .execution_options(yield_per=1000)
        )
        for report in reports:
            yield (
                report.id,
                report.category.name,
                report.description,
                report.address or "",
                "" if report.latitude is None else report.latitude,
                "" if report.longitude is None else report.longitude,
                report.status.value,
                report.status_reason if report.status == ProblemStatus.REJECTED else "",
                iso(report.created_at),
                iso(report.resolved_at),
                _url("problems.show", report_id=report.id),
            )

    register_dataset(
        Dataset(
            "signalements.csv",
            "Signalements de problèmes dans l'espace public",
            PROBLEM_FIELDS,
            problem_rows,
        )
    )


def register_all() -> None:
    for register in (_register_surveys, _register_budgets, _register_meetings, _register_problems):
        with contextlib.suppress(ImportError):
            register()
