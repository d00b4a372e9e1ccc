"""Forum of a network: questions and answers between the agents of member territories,
with e-mail notifications to the question's author and participants (sent after commit,
through the mail job). Services add and flush, never commit."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination

from core import clock
from core.db import db
from core.mail import send_mail
from network.core import access
from network.core.models import Network
from network.forum.models import ForumAnswer, ForumQuestion
from tenants.platform.models import PlatformUser

PER_PAGE = 30


class ForumError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def can_post(user, network: Network) -> bool:
    """Agents of active member territories, the coordination and the evaluators."""
    return (
        access.member_tenant_id(user, network) is not None
        or access.is_coordinator(user, network)
        or access.is_evaluator(user, network)
    )


def _clean_body(body: str | None, field: str = "body") -> str:
    text = (body or "").strip()
    if not text:
        raise ForumError(_("Écrivez votre message."), field)
    if len(text) > 10000:
        raise ForumError(_("Un message ne peut pas dépasser 10 000 caractères."), field)
    return text


def ask_question(network: Network, title: str, body: str, actor: PlatformUser) -> ForumQuestion:
    title = " ".join((title or "").split())
    if not title:
        raise ForumError(_("Indiquez votre question en une phrase."), "title")
    if len(title) > 200:
        raise ForumError(_("La question ne peut pas dépasser 200 caractères."), "title")
    question = ForumQuestion(
        network_id=network.id,
        author_id=actor.id,
        author_tenant_id=access.member_tenant_id(actor, network),
        title=title,
        body=_clean_body(body),
    )
    db.session.add(question)
    db.session.flush()
    return question


def participants(question: ForumQuestion) -> list[PlatformUser]:
    """The question's author and everybody who answered, once each, still active."""
    seen: dict[int, PlatformUser] = {}
    for user in [question.author, *(answer.author for answer in question.answers)]:
        if user is not None and user.is_active and user.id not in seen:
            seen[user.id] = user
    return list(seen.values())


def answer_question(
    question: ForumQuestion, body: str, actor: PlatformUser, link: str
) -> ForumAnswer:
    """Add the answer and mail the other participants (delivered once committed)."""
    network = question.network
    answer = ForumAnswer(
        question_id=question.id,
        author_id=actor.id,
        author_tenant_id=access.member_tenant_id(actor, network),
        body=_clean_body(body),
    )
    question.answers.append(answer)
    question.last_activity_at = clock.utcnow()
    db.session.flush()
    for user in participants(question):
        if user.id == actor.id:
            continue
        send_mail(
            user.email,
            "network_forum_answer",
            recipient=user,
            is_author=user.id == question.author_id,
            question=question,
            network=network,
            answer_author=actor,
            answer_tenant=answer.author_tenant,
            link=link,
        )
    return answer


def questions(network: Network, page: int = 1) -> Pagination:
    """One page of the network's questions, the most recently active first (a page below
    1 is the first, a page past the last is empty)."""
    return db.paginate(
        sa.select(ForumQuestion)
        .where(ForumQuestion.network_id == network.id)
        .order_by(ForumQuestion.last_activity_at.desc(), ForumQuestion.id.desc()),
        page=max(page, 1),
        per_page=PER_PAGE,
        error_out=False,
    )


def answer_counts(question_ids: list[int]) -> dict[int, int]:
    if not question_ids:
        return {}
    rows = db.session.execute(
        sa.select(ForumAnswer.question_id, sa.func.count())
        .where(ForumAnswer.question_id.in_(question_ids))
        .group_by(ForumAnswer.question_id)
    )
    return dict(rows.all())


def get_question(network: Network, question_id: int) -> ForumQuestion | None:
    return db.session.scalar(
        sa.select(ForumQuestion).where(
            ForumQuestion.id == question_id, ForumQuestion.network_id == network.id
        )
    )


def can_delete(user, post: ForumQuestion | ForumAnswer, network: Network) -> bool:
    """Authors remove their own messages (while they may still post); the coordination
    and the operators moderate."""
    account_id = getattr(user, "id", None)
    own = account_id is not None and post.author_id == account_id and can_post(user, network)
    return own or access.can_manage(user, network)


def delete_post(post: ForumQuestion | ForumAnswer, actor: PlatformUser) -> None:
    from tenants.platform.services import record_platform_action

    kind = "question" if isinstance(post, ForumQuestion) else "answer"
    record_platform_action(
        f"network.forum_{kind}_deleted",
        actor.id,
        f"forum_{kind}",
        post.id,
        author_id=post.author_id,
    )
    if isinstance(post, ForumAnswer):
        post.question.answers.remove(post)
    else:
        db.session.delete(post)
    db.session.flush()
