"""Finding consultations (public lists, staff lists, those of a process or phase, response
counts) and the display order of a questionnaire (blocks, question numbers, conditions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.db import db
from participation.processes.models import Phase, Process, ProcessState
from participation.surveys import visibility
from participation.surveys.models import (
    Survey,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
)
from participation.surveys.services.common import is_valid_id


def get_survey(survey_id: int, lock: bool = False) -> Survey | None:
    """A survey with its sections, questions and options (four small queries)."""
    if not is_valid_id(survey_id):
        return None
    query = (
        sa.select(Survey)
        .where(Survey.id == survey_id)
        .options(
            selectinload(Survey.sections),
            selectinload(Survey.questions).selectinload(SurveyQuestion.options),
        )
    )
    if lock:
        query = query.with_for_update(of=Survey).execution_options(populate_existing=True)
    return db.session.scalar(query)


def public_surveys() -> list[Survey]:
    return list(
        db.session.scalars(
            visibility.published_surveys().order_by(Survey.closes_on.desc(), Survey.id.desc())
        )
    )


@dataclass
class SurveyGroups:
    open: list[Survey] = field(default_factory=list)
    upcoming: list[Survey] = field(default_factory=list)
    closed: list[Survey] = field(default_factory=list)


def grouped_public_surveys(today: date) -> SurveyGroups:
    groups = SurveyGroups()
    for survey in public_surveys():
        getattr(groups, survey.status(today)).append(survey)
    groups.open.sort(key=lambda s: (s.closes_on, s.id))
    groups.upcoming.sort(key=lambda s: (s.opens_on, s.id))
    return groups


def staff_surveys() -> list[Survey]:
    return list(db.session.scalars(sa.select(Survey).order_by(Survey.id.desc())))


def response_counts(survey_ids: list[int]) -> dict[int, int]:
    if not survey_ids:
        return {}
    rows = db.session.execute(
        sa.select(SurveyResponse.survey_id, sa.func.count())
        .where(SurveyResponse.survey_id.in_(survey_ids))
        .group_by(SurveyResponse.survey_id)
    )
    return dict(rows.all())


def count_responses(survey: Survey) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(SurveyResponse.survey_id == survey.id)
    )


def surveys_of_process(process: Process) -> list[Survey]:
    return list(
        db.session.scalars(
            visibility.published_surveys()
            .where(Survey.process_id == process.id)
            .order_by(Survey.opens_on, Survey.id)
        )
    )


def process_surveys(process: Process) -> list[Survey]:
    """For templates/surveys/_process_section.html (cached per request and process)."""
    from flask import g

    cache = g.setdefault("pnyx_process_surveys", {})
    if process.id not in cache:
        cache[process.id] = surveys_of_process(process)
    return cache[process.id]


def phase_surveys(process: Process, phase: Phase) -> list[Survey]:
    return [s for s in process_surveys(process) if s.phase_id == phase.id]


def process_choices() -> list[tuple[Process, list[Phase]]]:
    processes = db.session.scalars(
        sa.select(Process)
        .where(Process.state != ProcessState.ARCHIVED)
        .options(selectinload(Process.phases))
        .order_by(Process.title)
    )
    return [(p, list(p.phases)) for p in processes]


# --------------------------------------------------------------------------- ordering


@dataclass(frozen=True)
class Block:
    """A section of the form (``section`` None: the questions before the first section)."""

    section: SurveySection | None
    questions: list[tuple[int, SurveyQuestion]]


def ordered_questions(survey: Survey) -> list[SurveyQuestion]:
    """Display order: questions outside sections first, then each section in turn."""
    order = {None: (-1, 0)}
    for section in survey.sections:
        order[section.id] = (section.position, section.id)
    return sorted(
        survey.questions, key=lambda q: (order.get(q.section_id, (-1, 0)), q.position, q.id or 0)
    )


def blocks(survey: Survey) -> list[Block]:
    numbered = {q.id: n for n, q in enumerate(ordered_questions(survey), start=1)}
    result = []
    loose = [q for q in ordered_questions(survey) if q.section_id is None]
    if loose:
        result.append(Block(None, [(numbered[q.id], q) for q in loose]))
    for section in survey.sections:
        questions = [q for q in ordered_questions(survey) if q.section_id == section.id]
        result.append(Block(section, [(numbered[q.id], q) for q in questions]))
    return result


def question_numbers(survey: Survey) -> dict[int, int]:
    return {q.id: n for n, q in enumerate(ordered_questions(survey), start=1)}


def option_index(survey: Survey) -> dict[int, tuple[SurveyQuestion, SurveyOption]]:
    return {o.id: (q, o) for q in survey.questions for o in q.options}


def condition_of(survey: Survey, question: SurveyQuestion):
    """``(earlier question, option)`` the question depends on, or None."""
    if question.condition_option_id is None:
        return None
    return option_index(survey).get(question.condition_option_id)
