"""What the public sees of the consultations, decided here once for the pages, the API and
the open data: a published survey (a draft is the staff's alone). Its results and its
« Vous avez dit, nous avons fait » each have their own publication date."""

from __future__ import annotations

import sqlalchemy as sa

from participation.surveys.models import Survey, SurveyState


def is_public(survey: Survey) -> bool:
    return survey.is_published


def published_clause():
    """SQL twin of :func:`is_public`."""
    return Survey.state == SurveyState.PUBLISHED


def published_surveys() -> sa.Select:
    return sa.select(Survey).where(published_clause())


def results_are_public(survey: Survey) -> bool:
    """Its results (aggregates, never a free-text answer) are published."""
    return is_public(survey) and survey.results_published_at is not None


def outcome_is_public(survey: Survey) -> bool:
    """Its « Vous avez dit, nous avons fait » is published."""
    return is_public(survey) and survey.outcome_published_at is not None
