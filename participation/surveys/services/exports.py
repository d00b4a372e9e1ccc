"""What leaves a consultation as a file: the staff's CSV of the responses (through the one
CSV writer, ``core.csvexport``) and the section of a person's RGPD data export."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from core import clock
from core.audit import audit
from core.csvexport import excel_csv
from core.db import db
from participation.accounts.models import User
from participation.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
)
from participation.surveys.services.answering import own_response
from participation.surveys.services.common import AUDIT_TARGET
from participation.surveys.services.queries import get_survey, ordered_questions, question_numbers

# --------------------------------------------------------------------------- CSV export


def _answer_texts(survey: Survey, labels: dict[int, str]) -> dict[int, dict[int, list]]:
    """Every answer of the survey as the text of its cell, by response and question."""
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
    return answers


def export_csv(survey: Survey, actor: User) -> tuple[str, int]:
    """The responses, one row each, for French Excel (BOM, ``;``). Anonymous surveys
    carry no account data at all; identified ones the display name only (no e-mail)."""
    questions = ordered_questions(survey)
    numbers = question_numbers(survey)
    labels = {o.id: o.label for q in questions for o in q.options}
    header = [_("Réponse n°"), _("Reçue le"), _("Canal")]
    if not survey.is_anonymous:
        header.append(_("Participant·e"))
    header += [f"Q{numbers[q.id]}. {q.text}" for q in questions]
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
    answers = _answer_texts(survey, labels)
    channel_labels = {"web": _("En ligne"), "paper": _("Papier")}
    rows = []
    for number, row in enumerate(responses, start=1):
        response_id, submitted, channel = row[0], row[1], row[2]
        cells = [
            number,
            submitted.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M"),
            channel_labels.get(channel, channel),
        ]
        if not survey.is_anonymous:
            name, deleted = row[3], row[4]
            cells.append(User.ANONYMOUS_NAME if deleted or name is None else name)
        cells += [" | ".join(str(v) for v in answers[response_id].get(q.id, [])) for q in questions]
        rows.append(cells)
    # Every cell is neutralised there (CSV injection): the answers are citizens' text.
    body = excel_csv(header, rows)
    audit("surveys.exported", actor, AUDIT_TARGET, survey.id, responses=len(responses))
    return body, len(responses)


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
