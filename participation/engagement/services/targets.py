"""The registry of targets: what follows, reports, moderation and notifications may point at.

They name their target by ``(TargetType, id)``. Engagement does not import the features that
own those rows: each feature registers its content types with :func:`register_target` from a
small ``targets`` module of its own, imported by its ``init_app`` (processes, proposals,
debates). Comments and accounts are engagement's own and are registered at the end of this
module.

A registered target says which model holds it, where its public page is, and what citizens
and moderators may do with it (follow, report, hide). Nothing here is per application: the
registry is filled once per process and registering again replaces the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from core.db import db
from core.markdown import plain_text
from core.routing import TENANT_SITE
from participation.accounts.models import User
from participation.engagement.comments import COMMENT_PAGE_ARG, COMMENTS_PER_PAGE, Comment
from participation.engagement.models import TargetType
from tenants.context import TenantRef, current_tenant

#: ``target_id -> local path of its public page``, or None when it has none (here).
TargetUrl = Callable[[int], str | None]
#: ``(row, limit) -> plain text`` shown to moderators and reporters.
TargetPreview = Callable[[Any, int], str]


class EngagementError(Exception):
    """A rule was broken; the message is French and can be shown as it is."""


def required_tenant() -> TenantRef:
    tenant = current_tenant()
    if tenant is None:
        raise RuntimeError("engagement services need a current tenant")
    return tenant


def as_target_type(value: TargetType | str) -> TargetType:
    """``value`` as a :class:`TargetType`; an unknown one is an :class:`EngagementError`."""
    try:
        return TargetType(value)
    except ValueError as exc:
        raise EngagementError(_("Ce type de contenu n'existe pas.")) from exc


@dataclass(frozen=True)
class Target:
    """One kind of content engagement may point at."""

    kind: TargetType
    model: type
    url: TargetUrl
    followable: bool = False  # citizens may follow it (and hear of its news)
    reportable: bool = False  # citizens may report it to the moderators
    moderated: bool = False  # moderators may hide it; blocking its author hides it
    preview: TargetPreview | None = None  # default: the plain text of its ``body``


_registry: dict[TargetType, Target] = {}


def register_target(
    kind: TargetType | str,
    model: type,
    *,
    url: TargetUrl | None = None,
    followable: bool = False,
    reportable: bool = False,
    moderated: bool = False,
    preview: TargetPreview | None = None,
) -> Target:
    """Tell engagement about a kind of content (idempotent: a second call replaces it).

    ``url`` gives the public page of a row, see :func:`page_url`; ``moderated`` models need
    ``author_id``, ``hidden_at`` and ``hidden_reason`` columns."""
    target = Target(
        TargetType(kind),
        model,
        url or _no_page,
        followable=followable,
        reportable=reportable,
        moderated=moderated,
        preview=preview,
    )
    _registry[target.kind] = target
    return target


def _no_page(target_id: int) -> None:
    return None


def registered_targets() -> list[Target]:
    """Every registered kind in the order of :class:`TargetType`, whatever the order the
    features registered them in."""
    order = list(TargetType)
    return sorted(_registry.values(), key=lambda target: order.index(target.kind))


def registered_target(kind: TargetType | str) -> Target | None:
    return _registry.get(as_target_type(kind))


def is_followable(kind: TargetType | str) -> bool:
    target = registered_target(kind)
    return target is not None and target.followable


def is_reportable(kind: TargetType | str) -> bool:
    target = registered_target(kind)
    return target is not None and target.reportable


def moderated_models() -> dict[TargetType, type]:
    """The models moderators may hide, by kind (proposals, arguments, comments)."""
    return {target.kind: target.model for target in registered_targets() if target.moderated}


# --------------------------------------------------------------------------- lookups


def get_target(target_type: TargetType | str, target_id: int):
    """The row a ``(target_type, target_id)`` pair points at, or None."""
    target = registered_target(target_type)
    return db.session.get(target.model, target_id) if target is not None else None


def load_targets(pairs: Iterable[tuple[TargetType, int]]) -> dict[tuple[TargetType, int], object]:
    """The rows of many targets with their authors: one query per kind of target."""
    by_type: dict[TargetType, set[int]] = {}
    for kind, target_id in pairs:
        by_type.setdefault(TargetType(kind), set()).add(target_id)
    found: dict[tuple[TargetType, int], object] = {}
    for kind, ids in by_type.items():
        target = _registry.get(kind)
        if target is None:
            continue
        model = target.model
        query = sa.select(model).where(model.id.in_(ids))
        if hasattr(model, "author"):
            query = query.options(joinedload(model.author))
        for row in db.session.scalars(query):
            found[(kind, row.id)] = row
    return found


def content_preview(target, limit: int = 300) -> str:
    if target is None:
        return ""
    for registered in _registry.values():
        if registered.preview is not None and isinstance(target, registered.model):
            return registered.preview(target, limit)
    return plain_text(getattr(target, "body", ""), limit)


# --------------------------------------------------------------------------- pages


def local_url(endpoint: str, **values) -> str:
    """The path of a tenant page, in a request or in a job (no request context)."""
    if has_request_context():
        return url_for(endpoint, **values)
    adapter = current_app.url_map.bind(
        required_tenant().primary_host or "localhost", subdomain=TENANT_SITE
    )
    return adapter.build(endpoint, values)


def page_url(endpoint: str, argument: str) -> TargetUrl:
    """A target's ``url``: the page ``endpoint`` with the id as ``argument``, or None when
    the application has no such page (a feature left out)."""

    def url(target_id: int) -> str | None:
        if endpoint not in current_app.view_functions:
            return None
        try:
            return local_url(endpoint, **{argument: target_id})
        except BuildError:
            return None

    return url


def target_url(target_type: TargetType | str, target_id: int) -> str | None:
    """The public page (local path) of a target, with an anchor for arguments and comments."""
    target = registered_target(target_type)
    return target.url(target_id) if target is not None else None


# --------------------------------------------------------------------------- comments

_COMMENT_TARGET_COLUMN = {
    TargetType.PROPOSAL: Comment.proposal_id,
    TargetType.DEBATE: Comment.debate_id,
    TargetType.PROCESS: Comment.process_id,
}


def comment_parent(comment: Comment) -> tuple[TargetType, int]:
    if comment.proposal_id is not None:
        return TargetType.PROPOSAL, comment.proposal_id
    if comment.debate_id is not None:
        return TargetType.DEBATE, comment.debate_id
    return TargetType.PROCESS, comment.process_id


def comment_page(comment: Comment, per_page: int = COMMENTS_PER_PAGE) -> int:
    """The page of its thread where ``comment`` is shown: the page of its top-level
    comment. Top-level comments are listed oldest first, so this never changes."""
    root = comment
    while root.parent_id is not None:  # at most COMMENT_MAX_DEPTH - 1 steps
        parent = db.session.get(Comment, root.parent_id)
        if parent is None:
            break
        root = parent
    kind, target_id = comment_parent(root)
    column = _COMMENT_TARGET_COLUMN[kind]
    before = db.session.scalar(
        sa.select(sa.func.count()).where(
            column == target_id,
            Comment.parent_id.is_(None),
            sa.tuple_(Comment.created_at, Comment.id) < sa.tuple_(root.created_at, root.id),
        )
    )
    return before // per_page + 1


def comment_url(comment: Comment, page: str) -> str:
    """``page`` (the local path of the comment's target) opened on the thread's page that
    shows ``comment``, scrolled to it."""
    parts = urlsplit(page.split("#", 1)[0])
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != COMMENT_PAGE_ARG
    ]
    number = comment_page(comment)
    if number > 1:
        query.append((COMMENT_PAGE_ARG, str(number)))
    return urlunsplit(parts._replace(query=urlencode(query), fragment=f"commentaire-{comment.id}"))


def _comment_target_url(comment_id: int) -> str | None:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        return None
    page = target_url(*comment_parent(comment))
    return comment_url(comment, page) if page else None


register_target(
    TargetType.COMMENT, Comment, url=_comment_target_url, reportable=True, moderated=True
)
register_target(TargetType.USER, User, preview=lambda user, limit: user.public_name)
