"""Comments on processes, proposals and debates, threaded to ``COMMENT_MAX_DEPTH`` levels:
writing, editing within a window, deleting, and the paged thread a page shows.

The model is ``participation.engagement.comments.Comment`` (moderation hides comments too);
the threads and their rules are this package's. Rules broken raise
:class:`~participation.debates.services.debates.DebateError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db
from core.markdown import plain_text, render_markdown
from participation.accounts.models import User
from participation.debates.models import Debate
from participation.debates.services.debates import (
    PUBLIC_PROCESS_STATES,
    DebateError,
    announce_contribution,
    checked_text,
    closed_reason,
    delete_by_author,
)
from participation.engagement import services as engagement
from participation.engagement.comments import COMMENT_MAX_DEPTH, COMMENTS_PER_PAGE, Comment
from participation.engagement.models import TargetType
from participation.processes.models import Process
from participation.proposals.models import Proposal
from tenants import cache as tenant_values
from tenants.models import TenantSetting

tenant_values.watch(TenantSetting)

COMMENT_MAX = 5000
EDIT_WINDOW_SETTING = "comment_edit_window_minutes"
DEFAULT_EDIT_WINDOW_MINUTES = 15

COMMENTABLE: dict[TargetType, type] = {
    TargetType.PROCESS: Process,
    TargetType.PROPOSAL: Proposal,
    TargetType.DEBATE: Debate,
}
_COMMENT_COLUMN = {
    TargetType.PROCESS: "process_id",
    TargetType.PROPOSAL: "proposal_id",
    TargetType.DEBATE: "debate_id",
}


def _is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))


def _comment_body(body: str | None) -> str:
    return checked_text(
        body,
        COMMENT_MAX,
        _("Écrivez votre commentaire."),
        _("Un commentaire ne doit pas dépasser %(n)s caractères.", n=COMMENT_MAX),
    )


# --------------------------------------------------------------------------- comments


def _stored_edit_window():
    setting = db.session.get(TenantSetting, EDIT_WINDOW_SETTING)
    return setting.value if setting is not None else None


def edit_window_minutes() -> int:
    # Read with every comment thread: cached per process and tenant (tenants.cache).
    value = tenant_values.cached("comment_edit_window", _stored_edit_window)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return DEFAULT_EDIT_WINDOW_MINUTES
    return int(value)


def _target_type(value: TargetType | str) -> TargetType:
    try:
        target_type = TargetType(value)
    except ValueError as exc:
        raise DebateError(_("On ne peut pas commenter ce contenu.")) from exc
    if target_type not in COMMENTABLE:
        raise DebateError(_("On ne peut pas commenter ce contenu."))
    return target_type


def comment_target(target_type: TargetType | str, target_id: int):
    target_type = _target_type(target_type)
    model = COMMENTABLE[target_type]
    return db.session.get(model, target_id)


def _process_of(target) -> Process | None:
    return target if isinstance(target, Process) else getattr(target, "process", None)


def target_is_public(target) -> bool:
    process = _process_of(target)
    if process is None or process.state not in PUBLIC_PROCESS_STATES:
        return False
    if isinstance(target, Proposal):
        return target.hidden_at is None and target.withdrawn_at is None
    return True


def commenting_closed_reason(target, on: date | None = None) -> str | None:
    """Why a comment cannot be added on ``target`` today (French), None when it can."""
    on = on or clock.paris_today()
    if target is None or not target_is_public(target):
        return _("Les commentaires ne sont pas ouverts ici.")
    if isinstance(target, Debate):
        return closed_reason(target, on)
    if not _process_of(target).allows("comment", on):
        return _("La phase actuelle de la démarche ne permet pas de commenter.")
    return None


def target_label(target) -> str:
    if isinstance(target, Debate):
        return target.question
    return getattr(target, "title", "")


def create_comment(
    author: User,
    target_type: TargetType | str,
    target_id: int,
    body: str,
    parent_id: int | None = None,
    url: str | None = None,
) -> Comment:
    """A comment, or a reply (``parent_id``) no deeper than ``COMMENT_MAX_DEPTH`` levels.

    The followers of the target are told, and the author of the parent comment too."""
    target_type = _target_type(target_type)
    target = comment_target(target_type, target_id)
    reason = commenting_closed_reason(target)
    if reason:
        raise DebateError(reason)
    body = _comment_body(body)
    column = _COMMENT_COLUMN[target_type]
    depth = 0
    parent = None
    if parent_id:
        parent = db.session.get(Comment, parent_id)
        if parent is None or getattr(parent, column) != target_id:
            raise DebateError(_("Le commentaire auquel vous répondez n'est pas sur cette page."))
        if parent.deleted_at is not None or parent.hidden_at is not None:
            raise DebateError(
                _("Ce commentaire n'est plus visible : vous ne pouvez pas y répondre.")
            )
        depth = parent.depth + 1
        if depth >= COMMENT_MAX_DEPTH:
            raise DebateError(
                _("On ne peut pas répondre à ce niveau : répondez plutôt au commentaire parent.")
            )
    comment = Comment(
        parent_id=parent.id if parent else None,
        depth=depth,
        author_id=author.id,
        body=body,
        **{column: target_id},
    )
    db.session.add(comment)
    db.session.flush()
    page = url or engagement.target_url(target_type, target_id)
    link = engagement.comment_url(comment, page) if page else None
    announce_contribution(
        target_type,
        target_id,
        kind="comment",
        title=_("Nouveau commentaire sur « %(title)s »", title=target_label(target)),
        excerpt=plain_text(body, 200),
        url=link,
        author=author,
        parent=parent,
        reply_title=_("%(name)s a répondu à votre commentaire", name=author.public_name),
        reply=(TargetType.COMMENT, comment.id),
    )
    return comment


def edit_deadline(comment: Comment) -> datetime:
    return comment.created_at + timedelta(minutes=edit_window_minutes())


def can_edit_comment(
    comment: Comment, user, now: datetime | None = None, window: int | None = None
) -> bool:
    if not getattr(user, "is_authenticated", False) or comment.author_id != user.id:
        return False
    if comment.deleted_at is not None or comment.hidden_at is not None:
        return False
    minutes = edit_window_minutes() if window is None else window
    return (now or clock.utcnow()) <= comment.created_at + timedelta(minutes=minutes)


def edit_comment(comment: Comment, user: User, body: str) -> Comment:
    if comment.author_id != user.id:
        raise DebateError(_("Seul l'auteur d'un commentaire peut le modifier."))
    if comment.deleted_at is not None or comment.hidden_at is not None:
        raise DebateError(_("Ce commentaire ne peut plus être modifié."))
    minutes = edit_window_minutes()
    if clock.utcnow() > comment.created_at + timedelta(minutes=minutes):
        raise DebateError(
            _(
                "Un commentaire ne peut être modifié que pendant %(n)s minutes après sa "
                "publication.",
                n=minutes,
            )
        )
    comment.body = _comment_body(body)
    comment.edited_at = clock.utcnow()
    db.session.flush()
    return comment


def delete_comment(comment: Comment, user: User) -> None:
    """Soft delete by the author: "Commentaire supprimé" stays in place, replies too."""
    delete_by_author(
        comment,
        user,
        _("Seul l'auteur d'un commentaire peut le supprimer."),
        _("Ce commentaire est déjà supprimé."),
    )


@lru_cache(maxsize=4096)
def _comment_html(body: str) -> Markup:
    # A comment's HTML depends on its text only: popular threads are read far more often
    # than written, so the Markdown rendering and nh3 pass are done once per text and
    # process (Markup is an immutable str).
    return render_markdown(body)


@dataclass
class CommentNode:
    comment: Comment
    children: list[CommentNode] = field(default_factory=list)
    can_reply: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_report: bool = False

    @property
    def html(self) -> Markup:
        return _comment_html(self.comment.body or "")


@dataclass
class CommentThread:
    target_type: TargetType
    target_id: int
    roots: list[CommentNode]
    count: int
    closed_reason: str | None
    edit_window: int
    viewer_is_staff: bool
    max_depth: int = COMMENT_MAX_DEPTH
    page: int = 1
    pages: int = 1
    per_page: int = COMMENTS_PER_PAGE
    text: object | None = None  # the page's translated strings (debates.views.ThreadText)
    base_url: str = ""  # the target's page, where the thread's links lead
    viewer_logged_in: bool = False

    @property
    def open(self) -> bool:
        return self.closed_reason is None

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _thread_counts(column, target_id: int):
    """``(visible comments, top-level comments)`` of a target, as two scalar subqueries."""
    visible = (
        sa.select(sa.func.count())
        .where(column == target_id, Comment.deleted_at.is_(None), Comment.hidden_at.is_(None))
        .correlate(None)  # its own scan of the target's comments, not the outer row
        .scalar_subquery()
    )
    roots = (
        sa.select(sa.func.count())
        .where(column == target_id, Comment.parent_id.is_(None))
        .correlate(None)
        .scalar_subquery()
    )
    return visible, roots


def _page_comments(
    column, target_id: int, page: int, per_page: int
) -> tuple[list[Comment], int, int] | None:
    """The ``page``-th slice of top-level comments of a target, oldest first, with every
    reply below them (a recursive CTE bounded by the target), authors joined, and the
    thread's counts: one query whatever the depth and the number of replies. None when
    the page is empty (no comment, or past the last page)."""
    roots = (
        sa.select(Comment.id)
        .where(column == target_id, Comment.parent_id.is_(None))
        .order_by(Comment.created_at, Comment.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .cte("page_roots")
    )
    tree = sa.select(roots.c.id).cte("page_tree", recursive=True)
    tree = tree.union_all(
        sa.select(Comment.id).where(column == target_id, Comment.parent_id == tree.c.id)
    )
    visible, root_count = _thread_counts(column, target_id)
    rows = db.session.execute(
        sa.select(Comment, visible, root_count)
        .where(Comment.id.in_(sa.select(tree.c.id)))
        .options(joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    if not rows:
        return None
    return [row[0] for row in rows], rows[0][1], rows[0][2]


def comment_thread(
    target_type: TargetType | str,
    target_id: int,
    viewer=None,
    page: int | None = 1,
    per_page: int = COMMENTS_PER_PAGE,
) -> CommentThread:
    """One page of the comments of a target as a tree: ``per_page`` top-level comments
    (oldest first) with all their replies, authors loaded, with what ``viewer`` may do on
    each. A page out of range shows the nearest one. A bounded number of queries whatever
    the size of the thread: the page with the counts, the target and the edit window
    setting (both usually at hand already); a page out of range costs two more."""
    target_type = _target_type(target_type)
    target = comment_target(target_type, target_id)
    column = getattr(Comment, _COMMENT_COLUMN[target_type])
    page = max(1, page or 1)
    found = _page_comments(column, target_id, page, per_page)
    if found is None and page > 1:
        # Past the last page (or a stale link): show the last one.
        _visible, roots = _thread_counts(column, target_id)
        root_count = db.session.execute(sa.select(roots)).scalar_one()
        page = max(1, -(-root_count // per_page))
        found = _page_comments(column, target_id, page, per_page)
    comments, visible_count, root_count = found if found is not None else ([], 0, 0)
    pages = max(1, -(-root_count // per_page))
    reason = commenting_closed_reason(target)
    window = edit_window_minutes()
    now = clock.utcnow()
    logged_in = bool(getattr(viewer, "is_authenticated", False))
    viewer_id = viewer.id if logged_in else None
    nodes: dict[int, CommentNode] = {}
    for comment in comments:
        visible = comment.deleted_at is None and comment.hidden_at is None
        nodes[comment.id] = CommentNode(
            comment,
            can_reply=reason is None and visible and comment.depth + 1 < COMMENT_MAX_DEPTH,
            can_edit=can_edit_comment(comment, viewer, now, window) if logged_in else False,
            can_delete=logged_in and comment.author_id == viewer_id and comment.deleted_at is None,
            can_report=logged_in and visible and comment.author_id != viewer_id,
        )
    roots: list[CommentNode] = []
    # Attached once every node exists: a reply stamped in the same instant as its parent
    # still lands under it.
    for comment in comments:
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        (parent.children if parent is not None else roots).append(nodes[comment.id])
    return CommentThread(
        target_type,
        target_id,
        roots,
        visible_count,
        reason,
        window,
        _is_staff(viewer),
        page=page,
        pages=pages,
        per_page=per_page,
        viewer_logged_in=logged_in,
    )


# --------------------------------------------------------------------------- loading


def get_comment(comment_id: int) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.author))
    )
