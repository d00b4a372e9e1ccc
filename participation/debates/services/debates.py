"""Debates: a question, arguments pour / contre with one level of replies.

Services add and flush, never commit and never touch the request. Rules broken raise
:class:`DebateError` with a French message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from core import clock
from core.audit import audit
from core.db import db
from core.markdown import plain_text
from participation.accounts.models import User
from participation.debates.models import Argument, Debate, DebateState, Side
from participation.engagement import services as engagement
from participation.engagement.comments import Comment
from participation.engagement.models import TargetType
from participation.processes.models import Process, ProcessState

QUESTION_MAX = 300
ARGUMENT_MAX = 2000
#: Processes whose pages are public: a draft is seen by the staff only.
PUBLIC_PROCESS_STATES = frozenset({ProcessState.PUBLISHED, ProcessState.ARCHIVED})


class DebateError(Exception):
    """A rule of debates or comments was broken; the message is French."""


def checked_text(value: str | None, maximum: int, empty: str, too_long: str) -> str:
    """``value`` stripped; :class:`DebateError` with ``empty`` or ``too_long`` otherwise."""
    value = (value or "").strip()
    if not value:
        raise DebateError(empty)
    if len(value) > maximum:
        raise DebateError(too_long)
    return value


def announce_contribution(
    target_type: TargetType,
    target_id: int,
    *,
    kind: str,
    title: str,
    excerpt: str,
    url: str | None,
    author: User,
    parent,
    reply_title: str,
    reply: tuple[TargetType, int],
) -> None:
    """Tell the followers of the target of a new argument or comment, and the author of the
    ``parent`` it answers (once: not a second time when they follow the target too)."""
    notified = engagement.notify_followers(
        target_type,
        target_id,
        kind=kind,
        title=title,
        body=excerpt,
        url=url,
        exclude_user_id=author.id,
    )
    if (
        parent is not None
        and parent.author_id
        and parent.author_id != author.id
        and parent.author_id not in {n.user_id for n in notified}
    ):
        engagement.notify_user(
            parent.author_id,
            kind="reply",
            title=reply_title,
            body=excerpt,
            url=url,
            target_type=reply[0],
            target_id=reply[1],
        )


def _question(question: str | None) -> str:
    return checked_text(
        question,
        QUESTION_MAX,
        _("Indiquez la question du débat."),
        _("La question ne doit pas dépasser %(n)s caractères.", n=QUESTION_MAX),
    )


# --------------------------------------------------------------------------- debates


def debate_is_public(debate: Debate) -> bool:
    return debate.process is not None and debate.process.state in PUBLIC_PROCESS_STATES


def can_argue(debate: Debate, on: date | None = None) -> bool:
    """New arguments and comments: the debate is open and the process's phase allows it."""
    return debate.state == DebateState.OPEN and debate.process.allows(
        "debate", on or clock.paris_today()
    )


def closed_reason(debate: Debate, on: date | None = None) -> str | None:
    """Why arguments cannot be added today (French), or None when they can."""
    if debate.state != DebateState.OPEN:
        return _("Ce débat est clos : il n'est plus possible d'ajouter d'arguments.")
    if not debate.process.allows("debate", on or clock.paris_today()):
        return _("La phase actuelle de la démarche ne permet pas d'ajouter d'arguments.")
    return None


def list_processes() -> list[Process]:
    return list(db.session.scalars(sa.select(Process).order_by(Process.title)))


def staff_debates() -> list[tuple[Debate, int]]:
    """Every debate with its number of arguments, for the staff list."""
    counts = (
        sa.select(Argument.debate_id, sa.func.count().label("n"))
        .group_by(Argument.debate_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Debate, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.debate_id == Debate.id)
        .options(joinedload(Debate.process))
        .order_by(Debate.created_at.desc(), Debate.id.desc())
    )
    return [(debate, count) for debate, count in rows]


@dataclass
class DebateSummary:
    debate: Debate
    pour: int = 0
    contre: int = 0


def process_debates(process: Process | int) -> list[DebateSummary]:
    """The debates of a process with their counts of arguments pour / contre (visible top-level
    arguments only), open ones first: two queries."""
    process_id = process if isinstance(process, int) else process.id
    debates = list(
        db.session.scalars(
            sa.select(Debate)
            .where(Debate.process_id == process_id)
            .order_by(Debate.state, Debate.created_at.desc(), Debate.id.desc())
        )
    )
    if not debates:
        return []
    summaries = {d.id: DebateSummary(d) for d in debates}
    rows = db.session.execute(
        sa.select(Argument.debate_id, Argument.side, sa.func.count())
        .where(
            Argument.debate_id.in_(summaries),
            Argument.parent_id.is_(None),
            Argument.hidden_at.is_(None),
            Argument.deleted_at.is_(None),
        )
        .group_by(Argument.debate_id, Argument.side)
    )
    for debate_id, side, count in rows:
        setattr(summaries[debate_id], "pour" if side == Side.FOR else "contre", count)
    return list(summaries.values())


def public_debates() -> list[DebateSummary]:
    """Debates of the public processes, open ones first (for /debats)."""
    debates = list(
        db.session.scalars(
            sa.select(Debate)
            .join(Process, Process.id == Debate.process_id)
            .where(Process.state.in_(PUBLIC_PROCESS_STATES))
            .options(joinedload(Debate.process))
            .order_by(Debate.state, Debate.created_at.desc())
            .limit(200)
        )
    )
    return [DebateSummary(d) for d in debates]


def create_debate(process: Process, question: str, description: str, author: User) -> Debate:
    question = _question(question)
    if process.state == ProcessState.ARCHIVED:
        raise DebateError(_("Cette démarche est archivée : on ne peut plus y ouvrir de débat."))
    debate = Debate(
        process_id=process.id,
        question=question,
        description=(description or "").strip(),
        state=DebateState.OPEN,
        created_by_id=author.id,
    )
    db.session.add(debate)
    db.session.flush()
    engagement.follow(author.id, TargetType.DEBATE, debate.id)
    audit("debate.created", author, "debate", debate.id, question=question, process=process.id)
    if process.state == ProcessState.PUBLISHED:
        engagement.notify_followers(
            TargetType.PROCESS,
            process.id,
            kind="debate",
            title=_("Nouveau débat : %(question)s", question=question),
            body=_(
                "Un débat vient d'être ouvert dans la démarche « %(title)s ».", title=process.title
            ),
            url=engagement.local_url("debates.show", debate_id=debate.id),
            exclude_user_id=author.id,
        )
    return debate


def update_debate(
    debate: Debate, question: str, description: str, process: Process, actor: User
) -> Debate:
    question = _question(question)
    changes = {}
    if debate.question != question:
        changes["question"] = [debate.question, question]
    if debate.description != (description or "").strip():
        changes["description"] = True
    if debate.process_id != process.id:
        has_arguments = db.session.scalar(
            sa.select(sa.literal(True)).where(Argument.debate_id == debate.id).limit(1)
        )
        if has_arguments:
            raise DebateError(
                _("Ce débat a déjà des arguments : il ne peut plus changer de démarche.")
            )
        changes["process"] = [debate.process_id, process.id]
    debate.question = question
    debate.description = (description or "").strip()
    debate.process_id = process.id
    db.session.flush()
    if changes:
        audit("debate.updated", actor, "debate", debate.id, changes=changes)
    return debate


def _set_state(debate: Debate, state: DebateState, actor: User, action: str, already: str):
    if debate.state == state:
        raise DebateError(already)
    debate.state = state
    db.session.flush()
    audit(action, actor, "debate", debate.id)


def close_debate(debate: Debate, actor: User) -> None:
    _set_state(debate, DebateState.CLOSED, actor, "debate.closed", _("Ce débat est déjà clos."))


def reopen_debate(debate: Debate, actor: User) -> None:
    _set_state(debate, DebateState.OPEN, actor, "debate.reopened", _("Ce débat est déjà ouvert."))


# --------------------------------------------------------------------------- arguments


@dataclass
class ArgumentNode:
    argument: Argument
    replies: list[Argument] = field(default_factory=list)


def debate_columns(debate: Debate) -> dict[Side, list[ArgumentNode]]:
    """The arguments of a debate by side, each with its replies, authors loaded: one query."""
    arguments = list(
        db.session.scalars(
            sa.select(Argument)
            .where(Argument.debate_id == debate.id)
            .options(joinedload(Argument.author))
            .order_by(Argument.created_at, Argument.id)
        )
    )
    nodes: dict[int, ArgumentNode] = {}
    columns: dict[Side, list[ArgumentNode]] = {Side.FOR: [], Side.AGAINST: []}
    for argument in arguments:
        if argument.parent_id is None:
            nodes[argument.id] = ArgumentNode(argument)
            columns[argument.side].append(nodes[argument.id])
    for argument in arguments:
        if argument.parent_id is not None and argument.parent_id in nodes:
            nodes[argument.parent_id].replies.append(argument)
    return columns


def add_argument(
    debate: Debate,
    author: User,
    side: Side | str | None,
    body: str,
    parent_id: int | None = None,
    url: str | None = None,
) -> Argument:
    """An argument pour or contre, or a reply to one (one level, the parent's side)."""
    reason = closed_reason(debate)
    if reason:
        raise DebateError(reason)
    body = checked_text(
        body,
        ARGUMENT_MAX,
        _("Écrivez votre argument."),
        _("Un argument ne doit pas dépasser %(n)s caractères.", n=ARGUMENT_MAX),
    )
    parent = None
    if parent_id:
        parent = db.session.get(Argument, parent_id)
        if parent is None or parent.debate_id != debate.id:
            raise DebateError(_("L'argument auquel vous répondez n'existe pas dans ce débat."))
        if parent.parent_id is not None:
            raise DebateError(_("On ne peut pas répondre à une réponse."))
        if parent.deleted_at is not None or parent.hidden_at is not None:
            raise DebateError(_("Cet argument n'est plus visible : vous ne pouvez pas y répondre."))
        side = parent.side
    else:
        try:
            side = Side(side)
        except ValueError as exc:
            raise DebateError(_("Choisissez si votre argument est pour ou contre.")) from exc
    argument = Argument(
        debate_id=debate.id,
        parent_id=parent.id if parent else None,
        side=side,
        author_id=author.id,
        body=body,
    )
    db.session.add(argument)
    db.session.flush()
    url = url or engagement.local_url("debates.show", debate_id=debate.id)
    url = f"{url.split('#', 1)[0]}#argument-{argument.id}"
    announce_contribution(
        TargetType.DEBATE,
        debate.id,
        kind="argument",
        title=_("Nouvel argument dans le débat « %(question)s »", question=debate.question),
        excerpt=plain_text(body, 200),
        url=url,
        author=author,
        parent=parent,
        reply_title=_("%(name)s a répondu à votre argument", name=author.public_name),
        reply=(TargetType.ARGUMENT, argument.id),
    )
    return argument


def delete_by_author(row: Argument | Comment, user: User, not_author: str, already: str) -> None:
    """Soft delete of an argument or a comment by its author: it shows as deleted in place,
    its replies stay. ``not_author`` and ``already`` are the French refusals."""
    if row.author_id != user.id:
        raise DebateError(not_author)
    if row.deleted_at is not None:
        raise DebateError(already)
    row.deleted_at = clock.utcnow()
    row.body = ""  # the author wanted it gone: nothing is kept
    db.session.flush()


def delete_argument(argument: Argument, user: User) -> None:
    """The author removes their argument: it shows "Argument supprimé", replies stay."""
    delete_by_author(
        argument,
        user,
        _("Seul l'auteur d'un argument peut le supprimer."),
        _("Cet argument est déjà supprimé."),
    )


# --------------------------------------------------------------------------- loading


def get_debate(debate_id: int) -> Debate | None:
    return db.session.scalar(
        sa.select(Debate)
        .where(Debate.id == debate_id)
        .options(joinedload(Debate.process).selectinload(Process.phases))
    )


def get_argument(argument_id: int) -> Argument | None:
    return db.session.scalar(
        sa.select(Argument)
        .where(Argument.id == argument_id)
        .options(joinedload(Argument.author), selectinload(Argument.debate))
    )
