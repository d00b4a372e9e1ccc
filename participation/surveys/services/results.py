"""Results of a consultation: every figure from a few aggregate queries, cached in Redis
under a version of the responses, and who may see the results and the outcome page."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from redis.exceptions import RedisError

from core.db import db
from participation.surveys import visibility
from participation.surveys.models import (
    SCALE_MAX,
    SCALE_MIN,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)
from participation.surveys.services.common import TEXTS_SHOWN
from participation.surveys.services.queries import ordered_questions, question_numbers

log = logging.getLogger(__name__)


@dataclass
class ChoiceResult:
    option: SurveyOption
    count: int
    percent: float
    score: float | None = None  # ranking: Borda points
    average_rank: float | None = None


@dataclass
class QuestionResult:
    number: int
    question: SurveyQuestion
    respondents: int = 0
    choices: list[ChoiceResult] = field(default_factory=list)
    average: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    median: float | None = None
    distribution: list[tuple[int, int, float]] = field(default_factory=list)  # scale
    first_date: date | None = None
    last_date: date | None = None
    texts: list[str] = field(default_factory=list)
    text_count: int = 0


@dataclass
class Results:
    survey: Survey
    total: int
    questions: list[QuestionResult]
    with_texts: bool


def _percent(count: int, base: int) -> float:
    return round(100.0 * count / base, 1) if base else 0.0


def _median_of_distribution(distribution: list[tuple[int, int, float]]) -> float | None:
    """The median of a 1–5 distribution (five buckets, not the responses)."""
    total = sum(count for _value, count, _pct in distribution)
    if not total:
        return None

    def nth(n: int) -> int:  # the n-th smallest value, 0-based
        seen = 0
        for value, count, _pct in distribution:
            seen += count
            if n < seen:
                return value
        return distribution[-1][0]  # pragma: no cover

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


#: Aggregates of a survey are cached (Redis) under a version of its responses: the count,
#: the latest submission and the latest edit. A new or edited response changes the version,
#: so the cache is never stale for those; the TTL bounds the rare cases it cannot see (an
#: account deleted, with its identified response, and another response in the same instant).
RESULTS_CACHE_SECONDS = 600


def _results_version(survey: Survey) -> tuple[int, str]:
    total, last_submitted, last_edited = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.max(SurveyResponse.submitted_at),
            sa.func.max(SurveyResponse.edited_at),
        ).where(SurveyResponse.survey_id == survey.id)
    ).one()
    stamp = "|".join(
        str(value.timestamp()) if value is not None else "-"
        for value in (last_submitted, last_edited)
    )
    return total, f"{total}|{stamp}"


def _cache():
    from flask import current_app

    from core.redis_client import redis_connection

    return redis_connection(current_app)


def _cache_key(survey: Survey, version: str) -> str:
    from tenants.context import current_tenant

    tenant = current_tenant()
    return f"pnyx:t{tenant.id if tenant else 0}:survey:{survey.id}:results:{version}"


def _number(value) -> float | None:
    return float(value) if value is not None else None


def _query_aggregates(questions: list[SurveyQuestion]) -> dict:
    """The raw aggregates, as JSON-able lists, each query reading only the answer rows of
    the question kinds it serves."""
    a = SurveyAnswer
    of_kind = defaultdict(list)
    for question in questions:
        of_kind[question.kind.value].append(question.id)
    raw: dict[str, list] = {"counts": [], "multiple": [], "scale": [], "stats": []}
    choice_ids = [q.id for q in questions if q.kind.has_options]
    if choice_ids:
        raw["counts"] = [
            [q, o, n, int(rank_sum or 0)]
            for q, o, n, rank_sum in db.session.execute(
                sa.select(a.question_id, a.option_id, sa.func.count(), sa.func.sum(a.rank))
                .where(a.question_id.in_(choice_ids), a.option_id.is_not(None))
                .group_by(a.question_id, a.option_id)
            )
        ]
    if of_kind["multiple"]:
        raw["multiple"] = [
            [q, n]
            for q, n in db.session.execute(
                sa.select(a.question_id, sa.func.count(sa.distinct(a.response_id)))
                .where(a.question_id.in_(of_kind["multiple"]))
                .group_by(a.question_id)
            )
        ]
    if of_kind["scale"]:
        raw["scale"] = [
            [q, int(v), n]
            for q, v, n in db.session.execute(
                sa.select(a.question_id, a.number_value, sa.func.count())
                .where(a.question_id.in_(of_kind["scale"]))
                .group_by(a.question_id, a.number_value)
            )
            if v is not None
        ]
    other_ids = [
        *of_kind["number"],
        *of_kind["date"],
        *of_kind["short_text"],
        *of_kind["long_text"],
    ]
    if other_ids:
        raw["stats"] = [
            [
                q,
                n,
                _number(avg),
                _number(low),
                _number(high),
                _number(median),
                first.isoformat() if first else None,
                last.isoformat() if last else None,
                texts,
            ]
            for q, n, avg, low, high, median, first, last, texts in db.session.execute(
                sa.select(
                    a.question_id,
                    sa.func.count(),
                    sa.func.avg(a.number_value),
                    sa.func.min(a.number_value),
                    sa.func.max(a.number_value),
                    sa.func.percentile_cont(0.5).within_group(a.number_value),
                    sa.func.min(a.date_value),
                    sa.func.max(a.date_value),
                    sa.func.count(a.text_value),
                )
                .where(a.question_id.in_(other_ids))
                .group_by(a.question_id)
            )
        ]
    return raw


def _aggregates(survey: Survey, questions: list[SurveyQuestion], version: str) -> dict:
    key = _cache_key(survey, version)
    try:
        cached = _cache().get(key)
    except RedisError:  # the cache is an optimisation: compute when Redis is away
        log.warning("survey results cache unavailable", exc_info=True)
        cached = None
    if cached:
        return json.loads(cached)
    raw = _query_aggregates(questions)
    try:
        _cache().set(key, json.dumps(raw), ex=RESULTS_CACHE_SECONDS)
    except RedisError:
        log.warning("survey results cache unavailable", exc_info=True)
    return raw


def compute_results(survey: Survey, with_texts: bool = False) -> Results:
    """Every figure from a few aggregate queries (never a loop over the responses):

    1. counts and rank sums per option (choice and ranking questions; index-only);
    2. distinct respondents of multiple-choice questions (one row per chosen option);
    3. the 1–5 distribution of scales (average and median follow from it);
    4. count, average, median, minimum, maximum of numbers, first and last dates, count of
       free texts;
    5. (staff) the latest free-text answers.

    1–4 are cached under the version of the responses (see RESULTS_CACHE_SECONDS).
    A single-choice, scale, number, date or text question has at most one row per response,
    so its respondents are its row count; a ranking has one row per option and response.
    """
    questions = ordered_questions(survey)
    numbers = question_numbers(survey)
    total, version = _results_version(survey)
    by_id = {q.id: QuestionResult(numbers[q.id], q) for q in questions}
    if not questions or not total:
        return Results(survey, total, [by_id[q.id] for q in questions], with_texts)
    raw = _aggregates(survey, questions, version)
    counts = {(q, o): (n, rank_sum) for q, o, n, rank_sum in raw["counts"]}
    for qid, respondents in raw["multiple"]:
        if qid in by_id:
            by_id[qid].respondents = respondents
    scale_counts = {(q, v): n for q, v, n in raw["scale"]}
    for qid, rows_count, avg, low, high, median, first, last, texts in raw["stats"]:
        result = by_id.get(qid)
        if result is None:
            continue
        result.respondents = rows_count
        if result.question.kind == QuestionKind.NUMBER:
            result.average, result.minimum, result.maximum, result.median = avg, low, high, median
        result.first_date = date.fromisoformat(first) if first else None
        result.last_date = date.fromisoformat(last) if last else None
        result.text_count = texts
    for question in questions:
        result = by_id[question.id]
        if question.kind.has_options:
            size = len(question.options)
            option_counts = [counts.get((question.id, o.id), (0, 0)) for o in question.options]
            if question.kind == QuestionKind.SINGLE:
                result.respondents = sum(n for n, _rank_sum in option_counts)
            elif question.kind == QuestionKind.RANKING:
                result.respondents = max((n for n, _rank_sum in option_counts), default=0)
            for option, (count, rank_sum) in zip(question.options, option_counts, strict=True):
                choice = ChoiceResult(option, count, _percent(count, result.respondents))
                if question.kind == QuestionKind.RANKING:
                    # Borda: with n choices, rank r earns n − r points.
                    choice.score = count * size - rank_sum
                    choice.average_rank = round(rank_sum / count, 2) if count else None
                result.choices.append(choice)
            if question.kind == QuestionKind.RANKING:
                result.choices.sort(key=lambda c: (-(c.score or 0), c.option.position))
        elif question.kind == QuestionKind.SCALE:
            values = [
                scale_counts.get((question.id, v), 0) for v in range(SCALE_MIN, SCALE_MAX + 1)
            ]
            result.respondents = sum(values)
            result.distribution = [
                (value, count, _percent(count, result.respondents))
                for value, count in zip(range(SCALE_MIN, SCALE_MAX + 1), values, strict=True)
            ]
            if result.respondents:
                weighted = sum(v * n for v, n, _p in result.distribution)
                result.average = weighted / result.respondents
                result.median = _median_of_distribution(result.distribution)
                present = [v for v, n, _p in result.distribution if n]
                result.minimum, result.maximum = float(present[0]), float(present[-1])
    text_ids = [q.id for q in questions if q.kind.is_text]
    if with_texts and text_ids:
        a = SurveyAnswer
        ranked = (
            sa.select(
                a.question_id,
                a.text_value,
                sa.func.row_number()
                .over(partition_by=a.question_id, order_by=a.id.desc())
                .label("n"),
            )
            .where(a.question_id.in_(text_ids), a.text_value.is_not(None))
            .subquery()
        )
        rows = db.session.execute(
            sa.select(ranked.c.question_id, ranked.c.text_value)
            .where(ranked.c.n <= TEXTS_SHOWN)
            .order_by(ranked.c.question_id, ranked.c.n)
        )
        for qid, text in rows:
            by_id[qid].texts.append(text)
    return Results(survey, total, [by_id[q.id] for q in questions], with_texts)


def results_visible(survey: Survey, user) -> bool:
    if getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False):
        return True
    return visibility.results_are_public(survey)


def outcome_visible(survey: Survey, user) -> bool:
    if getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False):
        return bool(survey.outcome)
    return visibility.outcome_is_public(survey)
