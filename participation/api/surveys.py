"""Surveys (consultations) in the API: published surveys, and their results once the
collectivité has published them (aggregates only: free-text answers are never served)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_babel import gettext as _

from core import clock
from core.errors import abort_with
from participation.api import cursor
from participation.api import schemas as s
from participation.api.registry import api_get, schema
from participation.api.views import CURSOR, ID_DOC, LIMIT, PROCESS_FILTER, bp, iso
from participation.surveys import services, visibility
from participation.surveys.models import QuestionKind, Survey

NUMBER = {"type": "number"}
QUESTION_KINDS = [kind.value for kind in QuestionKind]

SURVEY_FIELDS = {
    "id": s.INTEGER,
    "process_id": s.nullable(s.INTEGER),
    "title": s.STRING,
    "summary": s.STRING,
    "description": {"type": "string", "description": "Markdown."},
    "status": {"type": "string", "enum": ["upcoming", "open", "closed"]},
    "opens_on": s.DATE,
    "closes_on": s.DATE,
    "published_at": s.nullable(s.DATETIME),
    "results_published": {"type": "boolean"},
    "outcome": s.nullable(
        {
            "type": "string",
            "description": "« Vous avez dit, nous avons fait » (Markdown), une fois publié.",
        }
    ),
    "url": s.URL,
}
SURVEY = schema("Survey", s.obj(SURVEY_FIELDS))
QUESTION_RESULT = schema(
    "SurveyQuestionResult",
    s.obj(
        {
            "number": s.INTEGER,
            "text": s.STRING,
            "kind": {"type": "string", "enum": QUESTION_KINDS},
            "respondents": s.INTEGER,
            "choices": {
                "type": "array",
                "items": s.obj(
                    {
                        "label": s.STRING,
                        "count": s.INTEGER,
                        "percent": NUMBER,
                        "score": s.nullable(NUMBER),
                        "average_rank": s.nullable(NUMBER),
                    }
                ),
            },
            "average": s.nullable(NUMBER),
            "minimum": s.nullable(NUMBER),
            "maximum": s.nullable(NUMBER),
            "median": s.nullable(NUMBER),
            "distribution": {
                "type": "array",
                "items": s.obj({"value": s.INTEGER, "count": s.INTEGER, "percent": NUMBER}),
            },
        },
        "Résultats agrégés d'une question (jamais les réponses libres).",
    ),
)
SURVEY_DETAIL = schema(
    "SurveyDetail",
    s.obj(
        {
            **SURVEY_FIELDS,
            "results": s.nullable(
                s.obj(
                    {
                        "responses": s.INTEGER,
                        "questions": {"type": "array", "items": QUESTION_RESULT},
                    }
                )
            ),
        }
    ),
)
SURVEY_PAGE = schema("SurveyPage", s.page_of(SURVEY, "Une page de consultations."))


def survey_json(survey: Survey) -> dict:
    today = clock.paris_today()
    return {
        "id": survey.id,
        "process_id": survey.process_id,
        "title": survey.title,
        "summary": survey.summary or "",
        "description": survey.description or "",
        "status": survey.status(today),
        "opens_on": iso(survey.opens_on),
        "closes_on": iso(survey.closes_on),
        "published_at": iso(survey.published_at),
        "results_published": visibility.results_are_public(survey),
        "outcome": survey.outcome if visibility.outcome_is_public(survey) else None,
        "url": url_for("surveys.show", survey_id=survey.id, _external=True),
    }


def _number(value) -> float | None:
    return float(value) if value is not None else None


def results_json(survey: Survey) -> dict:
    results = services.compute_results(survey, with_texts=False)
    return {
        "responses": results.total,
        "questions": [
            {
                "number": q.number,
                "text": q.question.text,
                "kind": q.question.kind.value,
                "respondents": q.respondents,
                "choices": [
                    {
                        "label": c.option.label,
                        "count": c.count,
                        "percent": c.percent,
                        "score": _number(c.score),
                        "average_rank": _number(c.average_rank),
                    }
                    for c in q.choices
                ],
                "average": _number(q.average),
                "minimum": _number(q.minimum),
                "maximum": _number(q.maximum),
                "median": _number(q.median),
                "distribution": [
                    {"value": value, "count": count, "percent": percent}
                    for value, count, percent in q.distribution
                ],
            }
            for q in results.questions
        ],
    }


@api_get(
    bp,
    "/surveys",
    operation_id="listSurveys",
    summary="Consultations publiées",
    tag="Consultations",
    response=SURVEY_PAGE,
    params=(PROCESS_FILTER, LIMIT, CURSOR),
)
def list_surveys(params: dict[str, Any]):
    query = visibility.published_surveys()
    return jsonify(cursor.listing_json("surveys", query, Survey, params, survey_json))


@api_get(
    bp,
    "/surveys/<int:survey_id>",
    operation_id="getSurvey",
    summary="Une consultation et ses résultats publiés",
    tag="Consultations",
    response=SURVEY_DETAIL,
    path_params={"survey_id": ID_DOC},
    description="« results » est null tant que la collectivité n'a pas publié les résultats.",
)
def get_survey(params: dict[str, Any], survey_id: int):
    survey = services.get_survey(survey_id)
    if survey is None or not visibility.is_public(survey):
        abort_with(404, _("Cette consultation n'existe pas."))
    data = survey_json(survey)
    data["results"] = results_json(survey) if visibility.results_are_public(survey) else None
    return jsonify(data)
