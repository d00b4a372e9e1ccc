"""Answering a consultation: who may answer now, reading the posted answer sheet question
by question (conditions, required answers, maximum choices, ranks, numbers, dates), and
recording one response per account, editable while the survey is open in identified mode.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import selectinload

from core import clock
from core.db import db
from participation.accounts.models import User
from participation.surveys.models import (
    SCALE_MAX,
    SCALE_MIN,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)
from participation.surveys.services.common import (
    LONG_TEXT_MAX,
    MAX_ID,
    NUMBER_LIMIT,
    SHORT_TEXT_MAX,
    SurveyError,
    clean_text,
    one_line,
)
from participation.surveys.services.queries import option_index, ordered_questions


def answer_refusal(survey: Survey, user, today: date) -> str | None:
    """Why ``user`` may not answer now (None: they may, or edit their response)."""
    if not survey.is_published:
        return _("Cette consultation n'est pas publiée.")
    if today < survey.opens_on:
        return _("Cette consultation n'est pas encore ouverte.")
    if today > survey.closes_on:
        return _("Cette consultation est close : il n'est plus possible d'y répondre.")
    if user is None or not getattr(user, "is_authenticated", False):
        return _("Connectez-vous pour répondre à cette consultation.")
    if not user.is_active:
        return _("Votre compte ne permet pas de participer.")
    return None


def has_answered(survey: Survey, user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.get(SurveyParticipation, (survey.id, user.id)) is not None
        if survey.id
        else False
    )


def own_response(survey: Survey, user) -> SurveyResponse | None:
    """The user's response in an identified survey (never findable in an anonymous one)."""
    if survey.is_anonymous or user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        sa.select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.user_id == user.id)
        .options(selectinload(SurveyResponse.answers))
    )


ANONYMOUS_EDIT_REFUSAL = _l(
    "Vous avez déjà répondu à cette consultation. Les réponses sont anonymes : elles ne sont "
    "reliées à aucun compte, il est donc impossible de retrouver la vôtre pour la modifier."
)


@dataclass
class Sheet:
    """A parsed answer sheet: values per question id, errors per question id, and the
    questions skipped because their condition is not met."""

    values: dict[int, object] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    skipped: set[int] = field(default_factory=set)
    raw: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def field_name(question: SurveyQuestion, option: SurveyOption | None = None) -> str:
    return f"q{question.id}" if option is None else f"q{question.id}_o{option.id}"


def _getlist(formdata, name: str) -> list[str]:
    if hasattr(formdata, "getlist"):
        return [v for v in formdata.getlist(name)]
    value = formdata.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _chosen_options(value) -> set[int]:
    if value is None:
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, list):
        return set(value)
    return set()


def is_active(question: SurveyQuestion, values: dict[int, object], options) -> bool:
    """A conditional question counts only when its condition's answer includes the option
    (and that earlier question was itself active: its value is absent otherwise)."""
    if question.condition_option_id is None:
        return True
    found = options.get(question.condition_option_id)
    if found is None:
        return True
    target, _option = found
    return question.condition_option_id in _chosen_options(values.get(target.id))


def parse_sheet(survey: Survey, formdata) -> Sheet:
    """Read the posted form (a MultiDict or a dict of lists) question by question, in
    display order, so that conditions see the earlier answers."""
    sheet = Sheet()
    options = option_index(survey)
    for question in ordered_questions(survey):
        name = field_name(question)
        sheet.raw[name] = _getlist(formdata, name)
        if question.kind == QuestionKind.RANKING:
            for option in question.options:
                key = field_name(question, option)
                sheet.raw[key] = _getlist(formdata, key)
        if not is_active(question, sheet.values, options):
            sheet.skipped.add(question.id)
            continue
        try:
            value = _parse_value(question, formdata)
        except SurveyError as exc:
            sheet.errors[question.id] = str(exc)
            continue
        if value is None:
            if question.is_required:
                sheet.errors[question.id] = (
                    _("Classez chacun des choix.")
                    if question.kind == QuestionKind.RANKING
                    else _("Cette question est obligatoire.")
                )
            continue
        sheet.values[question.id] = value
    return sheet


def _parse_value(question: SurveyQuestion, formdata):
    kind = question.kind
    raw = [v.strip() for v in _getlist(formdata, field_name(question)) if v and v.strip()]
    option_ids = {o.id for o in question.options}
    if kind == QuestionKind.SINGLE:
        if not raw:
            return None
        if len(raw) > 1:
            raise SurveyError(_("Un seul choix est possible."))
        choice = _int(raw[0])
        if choice not in option_ids:
            raise SurveyError(_("Ce choix n'existe pas."))
        return choice
    if kind == QuestionKind.MULTIPLE:
        chosen = []
        for value in raw:
            choice = _int(value)
            if choice not in option_ids:
                raise SurveyError(_("Ce choix n'existe pas."))
            if choice not in chosen:
                chosen.append(choice)
        if not chosen:
            return None
        if question.max_choices and len(chosen) > question.max_choices:
            raise SurveyError(_("Choisissez %(n)d réponses au plus.", n=question.max_choices))
        return chosen
    if kind == QuestionKind.SCALE:
        if not raw:
            return None
        value = _int(raw[0])
        if value is None or not SCALE_MIN <= value <= SCALE_MAX:
            raise SurveyError(_("Choisissez une valeur de 1 à 5."))
        return value
    if kind == QuestionKind.RANKING:
        ranks: dict[int, int] = {}
        for option in question.options:
            values = [
                v.strip() for v in _getlist(formdata, field_name(question, option)) if v.strip()
            ]
            if values:
                rank = _int(values[0])
                if rank is None or not 1 <= rank <= len(question.options):
                    raise SurveyError(
                        _(
                            "Chaque rang doit être compris entre 1 et %(n)d.",
                            n=len(question.options),
                        )
                    )
                ranks[option.id] = rank
        if not ranks:
            return None
        if len(ranks) != len(question.options):
            raise SurveyError(_("Classez chacun des choix, ou aucun."))
        if len(set(ranks.values())) != len(ranks):
            raise SurveyError(_("Chaque rang ne peut être donné qu'une fois."))
        return ranks
    if kind.is_text:
        text = clean_text(raw[0] if raw else "")
        limit = SHORT_TEXT_MAX if kind == QuestionKind.SHORT_TEXT else LONG_TEXT_MAX
        if len(text) > limit:
            raise SurveyError(_("Votre réponse ne peut pas dépasser %(n)d caractères.", n=limit))
        if kind == QuestionKind.SHORT_TEXT:
            text = one_line(text)
        return text or None
    if kind == QuestionKind.NUMBER:
        if not raw:
            return None
        text = raw[0].replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise SurveyError(_("Indiquez un nombre, par exemple 12 ou 3,5.")) from None
        if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
            raise SurveyError(_("Indiquez un nombre, par exemple 12 ou 3,5."))
        return number
    if kind == QuestionKind.DATE:
        if not raw:
            return None
        try:
            return date.fromisoformat(raw[0])
        except ValueError:
            match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw[0])
            if match:
                try:
                    return date(int(match[3]), int(match[2]), int(match[1]))
                except ValueError:
                    pass
            raise SurveyError(_("Indiquez une date, par exemple 14/07/2027.")) from None
    return None  # pragma: no cover - every kind is handled above


def _int(value: str) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -MAX_ID <= number <= MAX_ID else None


def _answer_rows(survey: Survey, response_id: int, values: dict[int, object]) -> list[dict]:
    kinds = {q.id: q.kind for q in survey.questions}
    rows = []
    for question_id, value in values.items():
        kind = kinds[question_id]
        base = {
            "response_id": response_id,
            "question_id": question_id,
            "option_id": None,
            "rank": None,
            "number_value": None,
            "date_value": None,
            "text_value": None,
        }
        if kind == QuestionKind.SINGLE:
            rows.append({**base, "option_id": value})
        elif kind == QuestionKind.MULTIPLE:
            rows.extend({**base, "option_id": option_id} for option_id in value)
        elif kind == QuestionKind.RANKING:
            rows.extend(
                {**base, "option_id": option_id, "rank": rank} for option_id, rank in value.items()
            )
        elif kind in (QuestionKind.SCALE, QuestionKind.NUMBER):
            rows.append({**base, "number_value": Decimal(value)})
        elif kind == QuestionKind.DATE:
            rows.append({**base, "date_value": value})
        else:
            rows.append({**base, "text_value": value})
    return rows


def submit_response(
    survey: Survey, user: User, sheet: Sheet, today: date | None = None, channel: str = "web"
) -> SurveyResponse:
    """Record ``user``'s response, or replace their answers in an identified survey.

    One response per account: the participation row's primary key decides (an
    ``INSERT … ON CONFLICT DO NOTHING`` that inserted nothing means someone — maybe this
    same person in another tab — answered first).
    """
    today = today or clock.paris_today()
    refusal = answer_refusal(survey, user, today)
    if refusal:
        raise SurveyError(refusal)
    if not sheet.ok:
        raise SurveyError(_("Le questionnaire contient des erreurs."))
    existing = own_response(survey, user)
    if existing is not None:
        existing.edited_at = clock.utcnow()
        db.session.execute(sa.delete(SurveyAnswer).where(SurveyAnswer.response_id == existing.id))
        rows = _answer_rows(survey, existing.id, sheet.values)
        if rows:
            db.session.execute(sa.insert(SurveyAnswer), rows)
        db.session.flush()
        db.session.expire(existing, ["answers"])
        return existing
    inserted = db.session.execute(
        pg_insert(SurveyParticipation)
        .values(survey_id=survey.id, user_id=user.id)
        .on_conflict_do_nothing()
        .returning(SurveyParticipation.user_id)
    ).scalar()
    if inserted is None:
        if survey.is_anonymous:
            raise SurveyError(str(ANONYMOUS_EDIT_REFUSAL))
        raise SurveyError(_("Vous avez déjà répondu à cette consultation."))
    if survey.is_anonymous:
        # To the hour only: a precise time could be matched with the account's activity.
        submitted = sa.func.date_trunc("hour", sa.func.now())
        response = SurveyResponse(
            survey_id=survey.id, user_id=None, channel=channel, submitted_at=submitted
        )
    else:
        response = SurveyResponse(survey_id=survey.id, user_id=user.id, channel=channel)
    db.session.add(response)
    db.session.flush()
    rows = _answer_rows(survey, response.id, sheet.values)
    if rows:
        db.session.execute(sa.insert(SurveyAnswer), rows)
    return response


def sheet_from_response(survey: Survey, response: SurveyResponse | None) -> dict[str, list[str]]:
    """The form's values for an existing response (to pre-fill the edit form)."""
    raw: dict[str, list[str]] = defaultdict(list)
    if response is None:
        return raw
    kinds = {q.id: q for q in survey.questions}
    for answer in response.answers:
        question = kinds.get(answer.question_id)
        if question is None:
            continue
        name = f"q{question.id}"
        if question.kind == QuestionKind.RANKING:
            raw[f"{name}_o{answer.option_id}"] = [str(answer.rank)]
        elif question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            raw[name].append(str(answer.option_id))
        elif question.kind == QuestionKind.SCALE:
            raw[name] = [str(int(answer.number_value))]
        elif question.kind == QuestionKind.NUMBER:
            raw[name] = [format(answer.number_value.normalize(), "f").replace(".", ",")]
        elif question.kind == QuestionKind.DATE:
            raw[name] = [answer.date_value.isoformat()]
        else:
            raw[name] = [answer.text_value or ""]
    return raw
