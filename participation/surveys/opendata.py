"""The open-data datasets of the consultations: ``consultations.csv`` (the published ones,
``participation.surveys.visibility``) and ``consultations-resultats.csv`` (their published
results, aggregates only: never a free-text answer)."""

from __future__ import annotations

from core.db import db
from participation.opendata import services as opendata
from participation.opendata.services import ID, Dataset, Field
from participation.surveys import services, visibility
from participation.surveys.models import Survey

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


def _published():
    return db.session.scalars(visibility.published_surveys().order_by(Survey.id))


def survey_rows():
    for survey in _published():
        yield (
            survey.id,
            survey.process_id or "",
            survey.title,
            survey.summary or "",
            opendata.iso(survey.opens_on),
            opendata.iso(survey.closes_on),
            "oui" if visibility.results_are_public(survey) else "non",
            survey.outcome if visibility.outcome_is_public(survey) else "",
            opendata.page_url("surveys.show", survey_id=survey.id),
        )


def result_rows():
    for survey in _published():
        if not visibility.results_are_public(survey):
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


opendata.register_dataset(
    Dataset(
        "consultations.csv",
        "Consultations (questionnaires) publiées",
        SURVEY_FIELDS,
        survey_rows,
    )
)
opendata.register_dataset(
    Dataset(
        "consultations-resultats.csv",
        "Résultats publiés des consultations (agrégats, jamais les réponses libres)",
        SURVEY_RESULT_FIELDS,
        result_rows,
    )
)
