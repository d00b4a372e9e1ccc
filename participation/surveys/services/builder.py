"""The questionnaire builder of the staff: a survey's fields and dates, its publication,
the publication of its results and outcome, its sections and questions (options, maximum
choices, conditions on earlier answers, order). Questions are frozen once someone answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from core import clock
from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.processes.models import Phase, Process
from participation.surveys.models import (
    InvalidSurveyTransition,
    QuestionKind,
    Survey,
    SurveyOption,
    SurveyQuestion,
    SurveySection,
)
from participation.surveys.services.common import (
    AUDIT_TARGET,
    DESCRIPTION_MAX,
    HELP_MAX,
    MAX_OPTIONS,
    OPTION_MAX,
    QUESTION_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    SurveyError,
    clean_text,
    one_line,
)
from participation.surveys.services.queries import (
    count_responses,
    option_index,
    ordered_questions,
    question_numbers,
)


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
    title = one_line(fields.title)
    if len(title) < 3:
        raise SurveyError(_("Donnez un titre d'au moins 3 caractères."), "title")
    if len(title) > TITLE_MAX:
        raise SurveyError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    summary = one_line(fields.summary)
    if len(summary) > SUMMARY_MAX:
        raise SurveyError(_("Le résumé ne peut pas dépasser 500 caractères."), "summary")
    description = clean_text(fields.description)
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
    audit("surveys.created", actor, AUDIT_TARGET, survey.id, title=survey.title)
    return survey


def update_survey(survey: Survey, fields: SurveyFields, actor: User) -> bool:
    values = _clean_survey_fields(fields, survey)
    changed = {k: v for k, v in values.items() if getattr(survey, k) != v}
    for key, value in changed.items():
        setattr(survey, key, value)
    if changed:
        db.session.flush()
        audit(
            "surveys.updated",
            actor,
            AUDIT_TARGET,
            survey.id,
            fields=sorted(changed),
        )
    return bool(changed)


def publish_survey(survey: Survey, actor: User) -> None:
    try:
        survey.publish()
    except InvalidSurveyTransition as exc:
        raise SurveyError(str(exc)) from None
    db.session.flush()
    audit("surveys.published", actor, AUDIT_TARGET, survey.id, title=survey.title)


def delete_survey(survey: Survey, actor: User) -> None:
    if survey.is_published:
        raise SurveyError(_("Seule une consultation en brouillon peut être supprimée."))
    audit("surveys.deleted", actor, AUDIT_TARGET, survey.id, title=survey.title)
    db.session.delete(survey)
    db.session.flush()


def set_results_published(survey: Survey, published: bool, actor: User) -> bool:
    if published and not survey.is_published:
        raise SurveyError(_("Publiez d'abord la consultation."))
    if published == (survey.results_published_at is not None):
        return False
    survey.results_published_at = clock.utcnow() if published else None
    db.session.flush()
    audit(
        "surveys.results_published" if published else "surveys.results_unpublished",
        actor,
        AUDIT_TARGET,
        survey.id,
    )
    return True


def save_outcome(survey: Survey, text: str, publish: bool, actor: User) -> bool:
    text = clean_text(text)
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
        audit("surveys.outcome_saved", actor, AUDIT_TARGET, survey.id, published=publish)
    return changed


# sections


def _next_position(items) -> int:
    return max((item.position for item in items), default=0) + 1


def save_section(
    survey: Survey, section: SurveySection | None, title: str, description: str, actor: User
) -> SurveySection:
    title = one_line(title)
    if not title:
        raise SurveyError(_("Donnez un titre à la section."), "title")
    if len(title) > TITLE_MAX:
        raise SurveyError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    description = clean_text(description)
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
    audit(
        "surveys.section_saved", actor, AUDIT_TARGET, survey.id, section_id=section.id, title=title
    )
    return section


def delete_section(survey: Survey, section: SurveySection, actor: User) -> None:
    """Its questions stay, moved before the first section."""
    _check_editable(survey)
    for question in survey.questions:
        if question.section_id == section.id:
            question.section_id = None
    audit("surveys.section_deleted", actor, AUDIT_TARGET, survey.id, section_id=section.id)
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
        label = one_line(line)
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
    text = one_line(fields.text)
    if not text:
        raise SurveyError(_("Écrivez la question."), "text")
    if len(text) > QUESTION_MAX:
        raise SurveyError(_("La question ne peut pas dépasser 500 caractères."), "text")
    help_text = clean_text(fields.help_text)
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
    question.scale_min_label = one_line(fields.scale_min_label)[:80] if kind == "scale" else ""
    question.scale_max_label = one_line(fields.scale_max_label)[:80] if kind == "scale" else ""
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
    audit(
        "surveys.question_saved",
        actor,
        AUDIT_TARGET,
        survey.id,
        question_id=question.id,
        kind=kind.value,
    )
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
    audit("surveys.question_deleted", actor, AUDIT_TARGET, survey.id, question_id=question.id)
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
    audit(
        "surveys.question_moved",
        actor,
        AUDIT_TARGET,
        survey.id,
        question_id=question.id,
        to=direction,
    )
    return True
