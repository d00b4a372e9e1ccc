"""Business rules of the consultations: building a questionnaire, answering it (one response
per account, conditional questions, required answers, maximum choices), editing a response
while the survey is open (identified mode only), results aggregated in SQL, CSV export.

Services add and flush, never commit, never read ``request``; a broken rule raises
:class:`SurveyError` with a French message.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import selectinload

from core import clock
from core.audit import record_action
from core.csvexport import BOM, SafeWriter
from core.db import db
from participation.accounts.models import StaffRole, User
from participation.processes.models import Phase, Process, ProcessState
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
    SurveySection,
    SurveyState,
)

PARIS = ZoneInfo("Europe/Paris")
TITLE_MAX = 200
SUMMARY_MAX = 500
DESCRIPTION_MAX = 20_000
QUESTION_MAX = 500
HELP_MAX = 1000
OPTION_MAX = 200
MAX_OPTIONS = 30
SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 5000
NUMBER_LIMIT = Decimal("1e12")
TEXTS_SHOWN = 100  # free-text answers listed per question on the staff results page
MAX_ID = 2**31 - 1

MANAGERS = (StaffRole.ADMIN, StaffRole.MODERATOR)

KIND_LABELS = {
    QuestionKind.SINGLE: _l("Choix unique"),
    QuestionKind.MULTIPLE: _l("Choix multiple"),
    QuestionKind.SCALE: _l("Échelle de 1 à 5"),
    QuestionKind.RANKING: _l("Classement"),
    QuestionKind.SHORT_TEXT: _l("Texte court"),
    QuestionKind.LONG_TEXT: _l("Texte long"),
    QuestionKind.NUMBER: _l("Nombre"),
    QuestionKind.DATE: _l("Date"),
}
STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "upcoming": _l("À venir"),
    "open": _l("En cours"),
    "closed": _l("Terminée"),
}
AUDIT_ACTION_LABELS = {
    "surveys.created": _l("Consultation créée"),
    "surveys.updated": _l("Consultation modifiée"),
    "surveys.published": _l("Consultation publiée"),
    "surveys.deleted": _l("Consultation supprimée"),
    "surveys.section_saved": _l("Section de questionnaire enregistrée"),
    "surveys.section_deleted": _l("Section de questionnaire supprimée"),
    "surveys.question_saved": _l("Question de questionnaire enregistrée"),
    "surveys.question_deleted": _l("Question de questionnaire supprimée"),
    "surveys.question_moved": _l("Question de questionnaire déplacée"),
    "surveys.results_published": _l("Résultats d'une consultation publiés"),
    "surveys.results_unpublished": _l("Résultats d'une consultation retirés"),
    "surveys.outcome_saved": _l("« Vous avez dit, nous avons fait » enregistré"),
    "surveys.exported": _l("Réponses d'une consultation exportées (CSV)"),
}


class SurveyError(Exception):
    """A rule of the consultations was broken; the message is French and shown as is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def is_valid_id(value: int | None) -> bool:
    return value is not None and 0 < value <= MAX_ID


def is_manager(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_staff", False)
        and user.staff_role in MANAGERS
    )


def _audit(action: str, actor: User | None, survey_id: int | None, **details) -> None:
    record_action(
        action,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.display_name if actor is not None else "Plateforme Pnyx",
        target_type="survey",
        target_id=survey_id,
        **details,
    )


# --------------------------------------------------------------------------- lookups


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


def is_public(survey: Survey) -> bool:
    return survey.is_published


def public_surveys() -> list[Survey]:
    return list(
        db.session.scalars(
            sa.select(Survey)
            .where(Survey.state == SurveyState.PUBLISHED)
            .order_by(Survey.closes_on.desc(), Survey.id.desc())
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
            sa.select(Survey)
            .where(Survey.process_id == process.id, Survey.state == SurveyState.PUBLISHED)
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


# --------------------------------------------------------------------------- builder


def _clean(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _check_editable(survey: Survey) -> None:
    """Questions can change only while nobody has answered (results would lie otherwise)."""
    if count_responses(survey):
        raise SurveyError(
            _(
                "Cette consultation a déjà reçu des réponses : ses questions ne peuvent plus "
                "être modifiées."
            )
        )


@dataclass
class SurveyFields:
    title: str
    summary: str
    description: str
    opens_on: date | None
    closes_on: date | None
    is_anonymous: bool
    process_id: int | None = None
    phase_id: int | None = None


def _clean_survey_fields(fields: SurveyFields, survey: Survey | None) -> dict:
    title = _one_line(fields.title)
    if len(title) < 3:
        raise SurveyError(_("Donnez un titre d'au moins 3 caractères."), "title")
    if len(title) > TITLE_MAX:
        raise SurveyError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    summary = _one_line(fields.summary)
    if len(summary) > SUMMARY_MAX:
        raise SurveyError(_("Le résumé ne peut pas dépasser 500 caractères."), "summary")
    description = _clean(fields.description)
    if len(description) > DESCRIPTION_MAX:
        raise SurveyError(_("La présentation est trop longue."), "description")
    if fields.opens_on is None:
        raise SurveyError(_("Indiquez la date d'ouverture."), "opens_on")
    if fields.closes_on is None:
        raise SurveyError(_("Indiquez la date de clôture."), "closes_on")
    if fields.closes_on < fields.opens_on:
        raise SurveyError(_("La date de clôture doit suivre la date d'ouverture."), "closes_on")
    process_id, phase_id = fields.process_id, fields.phase_id
    if phase_id is not None:
        phase = db.session.get(Phase, phase_id)
        if phase is None:
            raise SurveyError(_("Cette phase n'existe pas."), "phase_id")
        process_id = phase.process_id
    if process_id is not None and db.session.get(Process, process_id) is None:
        raise SurveyError(_("Cette démarche n'existe pas."), "process_id")
    values = {
        "title": title,
        "summary": summary,
        "description": description,
        "opens_on": fields.opens_on,
        "closes_on": fields.closes_on,
        "process_id": process_id,
        "phase_id": phase_id,
    }
    if (
        survey is not None
        and survey.is_anonymous != fields.is_anonymous
        and count_responses(survey)
    ):
        raise SurveyError(
            _(
                "Le mode (anonyme ou identifié) ne peut plus changer : des personnes ont "
                "déjà répondu en connaissant ce mode."
            ),
            "is_anonymous",
        )
    values["is_anonymous"] = fields.is_anonymous
    return values


def create_survey(fields: SurveyFields, actor: User) -> Survey:
    survey = Survey(created_by_id=actor.id, **_clean_survey_fields(fields, None))
    db.session.add(survey)
    db.session.flush()
    _audit("surveys.created", actor, survey.id, title=survey.title)
    return survey


def update_survey(survey: Survey, fields: SurveyFields, actor: User) -> bool:
    values = _clean_survey_fields(fields, survey)
    changed = {k: v for k, v in values.items() if getattr(survey, k) != v}
    for key, value in changed.items():
        setattr(survey, key, value)
    if changed:
        db.session.flush()
        _audit(
            "surveys.updated",
            actor,
            survey.id,
            fields=sorted(changed),
        )
    return bool(changed)


def publish_survey(survey: Survey, actor: User) -> None:
    from participation.surveys.models import InvalidSurveyTransition

    try:
        survey.publish()
    except InvalidSurveyTransition as exc:
        raise SurveyError(str(exc)) from None
    db.session.flush()
    _audit("surveys.published", actor, survey.id, title=survey.title)


def delete_survey(survey: Survey, actor: User) -> None:
    if survey.is_published:
        raise SurveyError(_("Seule une consultation en brouillon peut être supprimée."))
    _audit("surveys.deleted", actor, survey.id, title=survey.title)
    db.session.delete(survey)
    db.session.flush()


def set_results_published(survey: Survey, published: bool, actor: User) -> bool:
    if published and not survey.is_published:
        raise SurveyError(_("Publiez d'abord la consultation."))
    if published == (survey.results_published_at is not None):
        return False
    survey.results_published_at = clock.utcnow() if published else None
    db.session.flush()
    _audit(
        "surveys.results_published" if published else "surveys.results_unpublished",
        actor,
        survey.id,
    )
    return True


def save_outcome(survey: Survey, text: str, publish: bool, actor: User) -> bool:
    text = _clean(text)
    if len(text) > DESCRIPTION_MAX:
        raise SurveyError(_("Le texte est trop long."), "outcome")
    if publish and not text:
        raise SurveyError(_("Écrivez ce que la collectivité a décidé avant de publier."), "outcome")
    if publish and not survey.is_published:
        raise SurveyError(_("Publiez d'abord la consultation."), "outcome")
    was_published = survey.outcome_published_at is not None
    changed = text != survey.outcome or publish != was_published
    survey.outcome = text
    if publish and not was_published:
        survey.outcome_published_at = clock.utcnow()
    elif not publish:
        survey.outcome_published_at = None
    if changed:
        db.session.flush()
        _audit("surveys.outcome_saved", actor, survey.id, published=publish)
    return changed


# sections


def _next_position(items) -> int:
    return max((item.position for item in items), default=0) + 1


def save_section(
    survey: Survey, section: SurveySection | None, title: str, description: str, actor: User
) -> SurveySection:
    title = _one_line(title)
    if not title:
        raise SurveyError(_("Donnez un titre à la section."), "title")
    if len(title) > TITLE_MAX:
        raise SurveyError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    description = _clean(description)
    if len(description) > HELP_MAX * 5:
        raise SurveyError(_("La description est trop longue."), "description")
    if section is None:
        section = SurveySection(
            title=title, description=description, position=_next_position(survey.sections)
        )
        survey.sections.append(section)
    else:
        section.title, section.description = title, description
    db.session.flush()
    _audit("surveys.section_saved", actor, survey.id, section_id=section.id, title=title)
    return section


def delete_section(survey: Survey, section: SurveySection, actor: User) -> None:
    """Its questions stay, moved before the first section."""
    _check_editable(survey)
    for question in survey.questions:
        if question.section_id == section.id:
            question.section_id = None
    _audit("surveys.section_deleted", actor, survey.id, section_id=section.id)
    survey.sections.remove(section)
    db.session.flush()


# questions


@dataclass
class QuestionFields:
    kind: str
    text: str
    help_text: str = ""
    is_required: bool = False
    section_id: int | None = None
    options: str = ""  # one per line
    max_choices: int | None = None
    scale_min_label: str = ""
    scale_max_label: str = ""
    condition_option_id: int | None = None


def parse_option_lines(text: str) -> list[str]:
    labels: list[str] = []
    for line in (text or "").splitlines():
        label = _one_line(line)
        if label and label not in labels:
            labels.append(label)
    return labels


def condition_choices(survey: Survey, question: SurveyQuestion | None) -> list[tuple]:
    """Options of choice questions placed before ``question`` (or before the end, for a
    new question), as ``(option, question number, question)``."""
    ordered = ordered_questions(survey)
    numbers = question_numbers(survey)
    if question is not None and question in ordered:
        ordered = ordered[: ordered.index(question)]
    return [
        (option, numbers[q.id], q)
        for q in ordered
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
        for option in q.options
    ]


def save_question(
    survey: Survey, question: SurveyQuestion | None, fields: QuestionFields, actor: User
) -> SurveyQuestion:
    _check_editable(survey)
    try:
        kind = QuestionKind(fields.kind)
    except ValueError:
        raise SurveyError(_("Choisissez un type de question."), "kind") from None
    text = _one_line(fields.text)
    if not text:
        raise SurveyError(_("Écrivez la question."), "text")
    if len(text) > QUESTION_MAX:
        raise SurveyError(_("La question ne peut pas dépasser 500 caractères."), "text")
    help_text = _clean(fields.help_text)
    if len(help_text) > HELP_MAX:
        raise SurveyError(_("L'aide ne peut pas dépasser 1 000 caractères."), "help_text")
    if fields.section_id is not None and fields.section_id not in {s.id for s in survey.sections}:
        raise SurveyError(_("Cette section n'existe pas."), "section_id")
    labels = parse_option_lines(fields.options) if kind.has_options else []
    if kind.has_options:
        if len(labels) < 2:
            raise SurveyError(_("Indiquez au moins deux choix, un par ligne."), "options")
        if len(labels) > MAX_OPTIONS:
            raise SurveyError(_("30 choix au plus."), "options")
        if any(len(label) > OPTION_MAX for label in labels):
            raise SurveyError(_("Un choix ne peut pas dépasser 200 caractères."), "options")
    max_choices = fields.max_choices if kind == QuestionKind.MULTIPLE else None
    if max_choices is not None and not 1 <= max_choices <= len(labels):
        raise SurveyError(
            _("Le nombre maximum de choix doit être compris entre 1 et %(n)d.", n=len(labels)),
            "max_choices",
        )
    moved = question is not None and question.section_id != fields.section_id
    if question is None:
        question = SurveyQuestion(kind=kind)
        siblings = [q for q in survey.questions if q.section_id == fields.section_id]
        question.position = _next_position(siblings)
        survey.questions.append(question)
    elif moved:
        siblings = [
            q for q in survey.questions if q.section_id == fields.section_id and q is not question
        ]
        question.position = _next_position(siblings)
    question.kind = kind
    question.text = text
    question.help_text = help_text
    question.is_required = bool(fields.is_required)
    question.section_id = fields.section_id
    question.max_choices = max_choices
    question.scale_min_label = _one_line(fields.scale_min_label)[:80] if kind == "scale" else ""
    question.scale_max_label = _one_line(fields.scale_max_label)[:80] if kind == "scale" else ""
    _sync_options(question, labels)
    db.session.flush()
    # The condition is checked against the order the question now has.
    if fields.condition_option_id is not None:
        allowed = {option.id for option, _n, _q in condition_choices(survey, question)}
        if fields.condition_option_id not in allowed:
            raise SurveyError(
                _("La condition doit porter sur un choix d'une question placée avant celle-ci."),
                "condition_option_id",
            )
    question.condition_option_id = fields.condition_option_id
    _check_conditions(survey)
    db.session.flush()
    _audit("surveys.question_saved", actor, survey.id, question_id=question.id, kind=kind.value)
    return question


def _sync_options(question: SurveyQuestion, labels: list[str]) -> None:
    """Keep the options whose label stays (conditions keep pointing at them)."""
    existing = {option.label: option for option in question.options}
    kept = []
    for position, label in enumerate(labels, start=1):
        option = existing.pop(label, None) or SurveyOption(label=label)
        option.position = position
        kept.append(option)
    question.options[:] = kept


def _check_conditions(survey: Survey) -> None:
    """Every condition points at an option of an earlier choice question."""
    numbers = question_numbers(survey)
    options = option_index(survey)
    for question in survey.questions:
        if question.condition_option_id is None:
            continue
        found = options.get(question.condition_option_id)
        if found is None:
            question.condition_option_id = None
            continue
        target, _option = found
        if target.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            raise SurveyError(
                _(
                    "La question %(n)d dépend d'une question qui n'est plus à choix.",
                    n=numbers[question.id],
                )
            )
        if numbers[target.id] >= numbers[question.id]:
            raise SurveyError(
                _(
                    "La question %(n)d dépend de la question %(m)d, qui doit rester placée "
                    "avant elle.",
                    n=numbers[question.id],
                    m=numbers[target.id],
                )
            )


def delete_question(survey: Survey, question: SurveyQuestion, actor: User) -> None:
    _check_editable(survey)
    option_ids = {o.id for o in question.options}
    for other in survey.questions:
        if other.condition_option_id in option_ids:
            other.condition_option_id = None
    _audit("surveys.question_deleted", actor, survey.id, question_id=question.id)
    survey.questions.remove(question)
    db.session.flush()


def move_question(survey: Survey, question: SurveyQuestion, direction: str, actor: User) -> bool:
    """Swap with the neighbour inside its section; refused if a condition would break."""
    _check_editable(survey)
    siblings = sorted(
        (q for q in survey.questions if q.section_id == question.section_id),
        key=lambda q: (q.position, q.id),
    )
    index = siblings.index(question)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(siblings):
        return False
    for position, item in enumerate(siblings, start=1):
        item.position = position
    other = siblings[other_index]
    question.position, other.position = other.position, question.position
    _check_conditions(survey)
    db.session.flush()
    _audit("surveys.question_moved", actor, survey.id, question_id=question.id, to=direction)
    return True


# --------------------------------------------------------------------------- answering


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
        text = _clean(raw[0] if raw else "")
        limit = SHORT_TEXT_MAX if kind == QuestionKind.SHORT_TEXT else LONG_TEXT_MAX
        if len(text) > limit:
            raise SurveyError(_("Votre réponse ne peut pas dépasser %(n)d caractères.", n=limit))
        if kind == QuestionKind.SHORT_TEXT:
            text = _one_line(text)
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


# --------------------------------------------------------------------------- results


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
    import json
    import logging

    from redis.exceptions import RedisError

    key = _cache_key(survey, version)
    try:
        cached = _cache().get(key)
    except RedisError:  # the cache is an optimisation: compute when Redis is away
        logging.getLogger(__name__).warning("survey results cache unavailable", exc_info=True)
        cached = None
    if cached:
        return json.loads(cached)
    raw = _query_aggregates(questions)
    try:
        _cache().set(key, json.dumps(raw), ex=RESULTS_CACHE_SECONDS)
    except RedisError:
        logging.getLogger(__name__).warning("survey results cache unavailable", exc_info=True)
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
    return survey.is_published and survey.results_published_at is not None


def outcome_visible(survey: Survey, user) -> bool:
    if getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False):
        return bool(survey.outcome)
    return survey.is_published and survey.outcome_published_at is not None


# --------------------------------------------------------------------------- export


def export_csv(survey: Survey, actor: User) -> tuple[str, int]:
    """The responses, one row each, for French Excel (BOM, ``;``). Anonymous surveys
    carry no account data at all; identified ones the display name only (no e-mail)."""
    questions = ordered_questions(survey)
    numbers = question_numbers(survey)
    labels = {o.id: o.label for q in questions for o in q.options}
    buffer = io.StringIO()
    buffer.write(BOM)
    # Every cell is neutralised there (CSV injection): the answers are citizens' text.
    writer = SafeWriter(buffer, delimiter=";")
    header = [_("Réponse n°"), _("Reçue le"), _("Canal")]
    if not survey.is_anonymous:
        header.append(_("Participant·e"))
    header += [f"Q{numbers[q.id]}. {q.text}" for q in questions]
    writer.writerow(header)
    query = (
        sa.select(SurveyResponse.id, SurveyResponse.submitted_at, SurveyResponse.channel)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyResponse.id)
    )
    if not survey.is_anonymous:
        query = query.add_columns(User.display_name, User.deleted_at).outerjoin(
            User, User.id == SurveyResponse.user_id
        )
    responses = db.session.execute(query).all()
    answers: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    rows = db.session.execute(
        sa.select(
            SurveyAnswer.response_id,
            SurveyAnswer.question_id,
            SurveyAnswer.option_id,
            SurveyAnswer.rank,
            SurveyAnswer.number_value,
            SurveyAnswer.date_value,
            SurveyAnswer.text_value,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyAnswer.response_id, SurveyAnswer.rank, SurveyAnswer.id)
    )
    for response_id, qid, option_id, rank, number, day, text in rows:
        if option_id is not None:
            value = labels.get(option_id, "")
            if rank is not None:
                value = f"{rank}. {value}"
        elif number is not None:
            value = format(number.normalize(), "f").replace(".", ",")
        elif day is not None:
            value = day.strftime("%d/%m/%Y")
        else:
            value = text
        answers[response_id][qid].append(value)
    channel_labels = {"web": _("En ligne"), "paper": _("Papier")}
    for number, row in enumerate(responses, start=1):
        response_id, submitted, channel = row[0], row[1], row[2]
        cells = [
            number,
            submitted.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
            channel_labels.get(channel, channel),
        ]
        if not survey.is_anonymous:
            name, deleted = row[3], row[4]
            cells.append(User.ANONYMOUS_NAME if deleted or name is None else name)
        cells += [" | ".join(str(v) for v in answers[response_id].get(q.id, [])) for q in questions]
        writer.writerow(cells)
    _audit("surveys.exported", actor, survey.id, responses=len(responses))
    return buffer.getvalue(), len(responses)


# --------------------------------------------------------------------------- RGPD export


def rgpd_section(user: User) -> tuple[str, list] | None:
    """For the account's data export: the identified responses with their answers, and
    the anonymous surveys answered (their answers are not linked to the account)."""
    surveys = db.session.execute(
        sa.select(Survey.id, Survey.title, Survey.is_anonymous)
        .join(SurveyParticipation, SurveyParticipation.survey_id == Survey.id)
        .where(SurveyParticipation.user_id == user.id)
        .order_by(Survey.id)
    ).all()
    if not surveys:
        return None
    out = []
    for survey_id, title, anonymous in surveys:
        item: dict = {"consultation": title, "anonyme": anonymous}
        if anonymous:
            item["réponses"] = (
                "Réponses anonymes : elles ne sont reliées à aucun compte et ne peuvent donc "
                "pas être retrouvées."
            )
        else:
            survey = get_survey(survey_id)
            response = own_response(survey, user)
            if response is not None:
                labels = {o.id: o.label for q in survey.questions for o in q.options}
                numbers = question_numbers(survey)
                texts = {q.id: q.text for q in survey.questions}
                answers = []
                for answer in sorted(
                    response.answers, key=lambda a: (numbers.get(a.question_id, 0), a.rank or 0)
                ):
                    value = (
                        labels.get(answer.option_id)
                        if answer.option_id is not None
                        else answer.number_value
                        if answer.number_value is not None
                        else answer.date_value or answer.text_value
                    )
                    answers.append(
                        {
                            "question": texts.get(answer.question_id),
                            "réponse": str(value) if isinstance(value, Decimal) else value,
                            **({"rang": answer.rank} if answer.rank else {}),
                        }
                    )
                item["envoyée le"] = response.submitted_at
                item["réponses"] = answers
        out.append(item)
    return "consultations.json", out
