"""Follows, notifications, reports and moderation.

Services add and flush, never commit and never touch the request: the caller commits once.
E-mails and jobs are enqueued for after that commit (``core.jobs.enqueue_after_commit``).

Notification kinds. ``kind`` is a short string; its first dotted segment says which
preference of the user governs it (``"comment"`` and ``"comment.reply"`` both follow
``notify_comments``):

- ``answer`` / ``status``: the collectivité answered or changed a status → ``notify_answers``;
- ``comment`` / ``reply`` / ``argument``: someone contributed → ``notify_comments``;
- ``process`` / ``phase`` / ``debate``: news of a process → ``notify_processes``;
- anything else (``moderation``…) is always delivered in the notification centre.

The user's ``notification_frequency`` then decides the e-mail: ``immediate`` → one e-mail
per notification, sent by a job after the commit; ``daily`` → the daily digest
(:func:`participation.engagement.tasks.send_daily_digests`); ``never`` → none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from core import clock
from core.audit import record_action
from core.db import db
from core.jobs import enqueue_after_commit
from core.markdown import plain_text
from core.routing import TENANT_SITE
from core.security.redirects import safe_next_path
from participation.accounts.models import NotificationFrequency, User
from participation.debates.models import (
    COMMENT_PAGE_ARG,
    COMMENTS_PER_PAGE,
    Argument,
    Comment,
    Debate,
)
from participation.engagement.models import (
    Follow,
    Notification,
    Report,
    ReportReason,
    ReportStatus,
    TargetType,
)
from participation.processes.models import Process
from participation.proposals.models import Proposal
from tenants.context import TenantRef, current_tenant, tenant_job_id

#: What citizens can follow, and report.
FOLLOWABLE = frozenset({TargetType.PROCESS, TargetType.PROPOSAL, TargetType.DEBATE})
REPORTABLE = frozenset({TargetType.PROPOSAL, TargetType.ARGUMENT, TargetType.COMMENT})
MODERATED_MODELS: dict[TargetType, type] = {
    TargetType.PROPOSAL: Proposal,
    TargetType.ARGUMENT: Argument,
    TargetType.COMMENT: Comment,
}
TARGET_MODELS: dict[TargetType, type] = {
    TargetType.PROCESS: Process,
    TargetType.PROPOSAL: Proposal,
    TargetType.DEBATE: Debate,
    TargetType.ARGUMENT: Argument,
    TargetType.COMMENT: Comment,
    TargetType.USER: User,
}

KIND_PREFERENCES = {
    "answer": "notify_answers",
    "status": "notify_answers",
    "comment": "notify_comments",
    "reply": "notify_comments",
    "argument": "notify_comments",
    "process": "notify_processes",
    "phase": "notify_processes",
    "debate": "notify_processes",
}

REASON_LABELS = {
    ReportReason.SPAM: _l("Publicité ou spam"),
    ReportReason.ABUSE: _l("Insultes ou harcèlement"),
    ReportReason.HATE: _l("Propos haineux ou discriminatoires"),
    ReportReason.PERSONAL_DATA: _l("Données personnelles exposées"),
    ReportReason.OFF_TOPIC: _l("Hors sujet"),
    ReportReason.OTHER: _l("Autre raison (à préciser)"),
}

#: The public reason of content hidden because its author was blocked (the block reason
#: itself stays between the moderation and the person).
BLOCKED_CONTENT_REASON = "Le compte de son auteur a été bloqué par la modération."

UNSUBSCRIBE_PURPOSE = "unsubscribe"
TITLE_MAX = 300
URL_MAX = 500
QUEUE_LIMIT = 500


class EngagementError(Exception):
    """A rule was broken; the message is French and can be shown as it is."""


class ModerationError(EngagementError):
    pass


def _tenant() -> TenantRef:
    tenant = current_tenant()
    if tenant is None:
        raise RuntimeError("engagement services need a current tenant")
    return tenant


def _target_type(value: TargetType | str) -> TargetType:
    try:
        return TargetType(value)
    except ValueError as exc:
        raise EngagementError(_("Ce type de contenu n'existe pas.")) from exc


def get_target(target_type: TargetType | str, target_id: int):
    """The row a ``(target_type, target_id)`` pair points at, or None."""
    model = TARGET_MODELS.get(_target_type(target_type))
    return db.session.get(model, target_id) if model is not None else None


# --------------------------------------------------------------------------- follows


def follow(user_id: int, target_type: TargetType | str, target_id: int) -> bool:
    """Follow a process, a proposal or a debate. Idempotent; True if the follow is new."""
    target_type = _target_type(target_type)
    if target_type not in FOLLOWABLE:
        raise EngagementError(_("Ce contenu ne peut pas être suivi."))
    if get_target(target_type, target_id) is None:
        raise EngagementError(_("Ce contenu n'existe pas."))
    result = db.session.execute(
        pg_insert(Follow)
        .values(user_id=user_id, target_type=target_type, target_id=target_id)
        .on_conflict_do_nothing()
        .returning(Follow.user_id)
    )
    return result.first() is not None


def unfollow(user_id: int, target_type: TargetType | str, target_id: int) -> bool:
    """Stop following; True if there was a follow to remove."""
    result = db.session.execute(
        sa.delete(Follow)
        .where(
            Follow.user_id == user_id,
            Follow.target_type == _target_type(target_type),
            Follow.target_id == target_id,
        )
        .returning(Follow.user_id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def is_following(user_id: int | None, target_type: TargetType | str, target_id: int) -> bool:
    if not user_id:
        return False
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                Follow.user_id == user_id,
                Follow.target_type == _target_type(target_type),
                Follow.target_id == target_id,
            )
        )
        is True
    )


def follower_count(target_type: TargetType | str, target_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Follow.target_type == _target_type(target_type), Follow.target_id == target_id
        )
    )


# --------------------------------------------------------------------------- notifications


def preference_for(kind: str) -> str | None:
    """The ``User`` boolean that governs ``kind``, or None when it is always delivered."""
    return KIND_PREFERENCES.get((kind or "").split(".", 1)[0])


def _local_path(url: str | None) -> str | None:
    if not url:
        return None
    path = safe_next_path(url, default="")
    return path[:URL_MAX] if path else None


def _recipients(query: sa.Select, kind: str, exclude_user_id: int | None) -> sa.Select:
    query = query.where(
        User.deleted_at.is_(None),
        User.blocked_at.is_(None),
        User.is_active_account.is_(True),
    )
    preference = preference_for(kind)
    if preference is not None:
        query = query.where(getattr(User, preference).is_(True))
    if exclude_user_id is not None:
        query = query.where(User.id != exclude_user_id)
    return query


def _create_notifications(
    users: Iterable[User],
    *,
    kind: str,
    title: str,
    body: str,
    url: str | None,
    target_type: str | None = None,
    target_id: int | None = None,
) -> list[Notification]:
    users = list(users)
    title = (title or "").strip()[:TITLE_MAX]
    path = _local_path(url)
    created = [
        Notification(
            user_id=user.id,
            kind=kind[:50],
            title=title,
            body=body or "",
            url=path,
            target_type=str(target_type) if target_type else None,
            target_id=target_id,
        )
        for user in users
    ]
    if not created:
        return created
    db.session.add_all(created)
    db.session.flush()
    by_id = {user.id: user for user in users}
    for notification in created:
        user = by_id[notification.user_id]
        if user.notification_frequency == NotificationFrequency.IMMEDIATE and user.email:
            _schedule_immediate_email(notification)
    return created


def _schedule_immediate_email(notification: Notification) -> None:
    from participation.engagement.tasks import send_notification_email

    tenant = _tenant()
    enqueue_after_commit(
        send_notification_email,
        tenant.id,
        notification.id,
        queue="default",
        job_id=tenant_job_id(tenant.id, "notification-mail", notification.id),
        description=f"send_notification_email(t{tenant.id}, {notification.id})",
    )


def notify_followers(
    target_type: TargetType | str,
    target_id: int,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str | None = None,
    exclude_user_id: int | None = None,
) -> list[Notification]:
    """One notification per follower of the target who wants this kind of news.

    ``url`` is a local path (``/propositions/12``). Immediate followers get an e-mail each,
    sent once the caller's transaction commits; daily followers get it in their digest.
    """
    target_type = _target_type(target_type)
    query = _recipients(
        sa.select(User)
        .join(Follow, Follow.user_id == User.id)
        .where(Follow.target_type == target_type, Follow.target_id == target_id)
        .order_by(User.id),
        kind,
        exclude_user_id,
    )
    users = list(db.session.scalars(query))
    return _create_notifications(
        users,
        kind=kind,
        title=title,
        body=body,
        url=url,
        target_type=target_type.value,
        target_id=target_id,
    )


def notify_user(
    user_id: int,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str | None = None,
    target_type: TargetType | str | None = None,
    target_id: int | None = None,
) -> Notification | None:
    """Notify one person (a reply to their comment, an answer to their proposal…), if they
    want this kind of news; None otherwise."""
    query = _recipients(sa.select(User).where(User.id == user_id), kind, None)
    user = db.session.scalar(query)
    if user is None:
        return None
    created = _create_notifications(
        [user],
        kind=kind,
        title=title,
        body=body,
        url=url,
        target_type=str(target_type) if target_type else None,
        target_id=target_id,
    )
    return created[0]


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
    )


@dataclass
class NotificationPage:
    items: list[Notification]
    total: int
    unread: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def notifications_page(user_id: int, page: int = 1, per_page: int = 30) -> NotificationPage:
    """The user's notifications, unread first, then newest first."""
    page = max(1, page)
    counts = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Notification.read_at.is_(None)),
        ).where(Notification.user_id == user_id)
    ).one()
    items = list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(
                Notification.read_at.is_(None).desc(),
                Notification.created_at.desc(),
                Notification.id.desc(),
            )
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return NotificationPage(items, counts[0], counts[1], page, per_page)


def mark_read(user_id: int, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read (someone else's: None, as if absent)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return None
    if notification.read_at is None:
        notification.read_at = clock.utcnow()
        db.session.flush()
    return notification


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --------------------------------------------------------------------------- unsubscribe


def _unsubscribe_serializer(tenant: TenantRef | None = None) -> URLSafeSerializer:
    tenant = tenant or _tenant()
    # No expiry: an unsubscribe link must keep working in an old e-mail (RFC 8058).
    return URLSafeSerializer(
        current_app.secret_key, salt=f"pnyx-engagement:{UNSUBSCRIBE_PURPOSE}:tenant:{tenant.id}"
    )


def unsubscribe_token(user_id: int) -> str:
    return _unsubscribe_serializer().dumps({"u": user_id})


def user_for_unsubscribe_token(token: str) -> User | None:
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or user.is_deleted:
        return None
    return user


def unsubscribe(user: User) -> bool:
    """No more notification e-mails (the notification centre stays). True if it changed."""
    if user.notification_frequency == NotificationFrequency.NEVER:
        return False
    user.notification_frequency = NotificationFrequency.NEVER
    db.session.flush()
    return True


# --------------------------------------------------------------------------- reports


def report_content(
    reporter: User,
    target_type: TargetType | str,
    target_id: int,
    reason: ReportReason | str,
    details: str = "",
) -> Report:
    target_type = _target_type(target_type)
    if target_type not in REPORTABLE:
        raise EngagementError(_("Ce contenu ne peut pas être signalé."))
    target = get_target(target_type, target_id)
    if target is None or getattr(target, "deleted_at", None) is not None:
        raise EngagementError(_("Ce contenu n'existe pas ou a été supprimé."))
    if getattr(target, "author_id", None) == reporter.id:
        raise EngagementError(_("Vous ne pouvez pas signaler votre propre contribution."))
    try:
        reason = ReportReason(reason)
    except ValueError as exc:
        raise EngagementError(_("Choisissez la raison du signalement.")) from exc
    details = (details or "").strip()
    if reason == ReportReason.OTHER and not details:
        raise EngagementError(_("Précisez la raison du signalement."))
    already = db.session.scalar(
        sa.select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.status == ReportStatus.OPEN,
        )
    )
    if already is not None:
        raise EngagementError(
            _("Vous avez déjà signalé ce contenu : l'équipe de modération va l'examiner.")
        )
    report = Report(
        reporter_id=reporter.id,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details,
        status=ReportStatus.OPEN,
    )
    db.session.add(report)
    db.session.flush()
    return report


def _settle_reports(
    pairs: Iterable[tuple[TargetType, int]],
    status: ReportStatus,
    moderator: User,
    note: str | None,
) -> int:
    by_type: dict[TargetType, list[int]] = {}
    for target_type, target_id in pairs:
        by_type.setdefault(TargetType(target_type), []).append(target_id)
    if not by_type:
        return 0
    condition = sa.or_(
        *(
            sa.and_(Report.target_type == target_type, Report.target_id.in_(ids))
            for target_type, ids in by_type.items()
        )
    )
    result = db.session.execute(
        sa.update(Report)
        .where(Report.status == ReportStatus.OPEN, condition)
        .values(
            status=status,
            resolved_by_id=moderator.id,
            resolved_at=clock.utcnow(),
            resolution_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --------------------------------------------------------------------------- moderation


def _moderated(target_type: TargetType | str, target_id: int):
    target_type = _target_type(target_type)
    model = MODERATED_MODELS.get(target_type)
    if model is None:
        raise ModerationError(_("Ce contenu ne peut pas être masqué."))
    target = db.session.get(model, target_id)
    if target is None:
        raise ModerationError(_("Ce contenu n'existe pas."))
    return target_type, target


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Indiquez la raison : elle est affichée avec le contenu."))
    return reason


def _audit(action: str, moderator: User, target_type: str, target_id: int, **details) -> None:
    record_action(
        action,
        actor_id=moderator.id,
        actor_label=moderator.display_name,
        target_type=str(target_type),
        target_id=target_id,
        **details,
    )


def hide_content(target_type: TargetType | str, target_id: int, reason: str, moderator: User):
    """Hide a proposal, an argument or a comment with a public reason; the open reports on
    it are resolved and its author is told. Returns the hidden row."""
    reason = _reason(reason)
    target_type, target = _moderated(target_type, target_id)
    if target.hidden_at is not None:
        raise ModerationError(_("Ce contenu est déjà masqué."))
    target.hidden_at = clock.utcnow()
    target.hidden_reason = reason
    settled = _settle_reports([(target_type, target_id)], ReportStatus.RESOLVED, moderator, reason)
    _audit("moderation.hide", moderator, target_type, target_id, reason=reason, reports=settled)
    if target.author_id and target.author_id != moderator.id:
        notify_user(
            target.author_id,
            kind="moderation",
            title=_("Une de vos contributions a été masquée par la modération"),
            body=_("Raison indiquée : %(reason)s", reason=reason),
            url=target_url(target_type, target_id),
            target_type=target_type,
            target_id=target_id,
        )
    db.session.flush()
    return target


def restore_content(target_type: TargetType | str, target_id: int, reason: str, moderator: User):
    """Show hidden content again (the reason goes to the audit log)."""
    reason = _reason(reason)
    target_type, target = _moderated(target_type, target_id)
    if target.hidden_at is None:
        raise ModerationError(_("Ce contenu n'est pas masqué."))
    author = db.session.get(User, target.author_id) if target.author_id else None
    if author is not None and author.blocked_at is not None:
        raise ModerationError(
            _("Son auteur est bloqué : débloquez d'abord le compte pour rétablir ce contenu.")
        )
    previous = target.hidden_reason
    target.hidden_at = None
    target.hidden_reason = None
    _audit(
        "moderation.restore", moderator, target_type, target_id, reason=reason, previous=previous
    )
    db.session.flush()
    return target


def dismiss_reports(
    target_type: TargetType | str, target_id: int, note: str, moderator: User
) -> int:
    """Close the open reports on a target without acting on it."""
    target_type = _target_type(target_type)
    note = (note or "").strip() or None
    count = _settle_reports([(target_type, target_id)], ReportStatus.DISMISSED, moderator, note)
    if not count:
        raise ModerationError(_("Il n'y a aucun signalement ouvert sur ce contenu."))
    _audit("moderation.dismiss", moderator, target_type, target_id, note=note, reports=count)
    return count


def block_user(user: User, reason: str, moderator: User) -> dict[str, int]:
    """Block an account: log-in refused, sessions ended, every contribution hidden.

    The contributions hidden by the block carry ``hidden_at == blocked_at``, so unblocking
    shows again exactly those, not what was hidden separately. Returns the counts hidden.
    """
    reason = _reason(reason)
    if user.id == moderator.id:
        raise ModerationError(_("Vous ne pouvez pas bloquer votre propre compte."))
    if user.is_deleted:
        raise ModerationError(_("Ce compte a été supprimé."))
    if user.staff_role is not None:
        raise ModerationError(
            _(
                "Ce compte fait partie de l'équipe : un administrateur doit d'abord lui "
                "retirer son rôle."
            )
        )
    if user.blocked_at is not None:
        raise ModerationError(_("Ce compte est déjà bloqué."))
    blocked_at = clock.utcnow()
    user.blocked_at = blocked_at
    user.blocked_reason = reason
    user.end_all_sessions()
    hidden: dict[str, int] = {}
    pairs: list[tuple[TargetType, int]] = []
    for target_type, model in MODERATED_MODELS.items():
        ids = list(
            db.session.scalars(
                sa.update(model)
                .where(model.author_id == user.id, model.hidden_at.is_(None))
                .values(hidden_at=blocked_at, hidden_reason=BLOCKED_CONTENT_REASON)
                .returning(model.id)
                .execution_options(synchronize_session=False)
            )
        )
        hidden[target_type.value] = len(ids)
        pairs.extend((target_type, i) for i in ids)
    pairs.append((TargetType.USER, user.id))
    settled = _settle_reports(pairs, ReportStatus.RESOLVED, moderator, reason)
    if user.email:
        _mail_block_notice(user, reason)
    _audit(
        "moderation.block_user",
        moderator,
        "user",
        user.id,
        reason=reason,
        hidden=hidden,
        reports=settled,
    )
    db.session.flush()
    _expire_moderated()
    return hidden


def _mail_block_notice(user: User, reason: str) -> None:
    """The reason goes to the person (a statement of reasons), whatever their preferences."""
    from core.mail import send_mail
    from tenants.urls import tenant_url

    tenant = _tenant()
    charter_url = None
    if "accounts.charter" in current_app.view_functions:
        charter_url = tenant_url(tenant, "accounts.charter")
    send_mail(
        user.email,
        "notification_account_blocked",
        user=user,
        tenant=tenant,
        reason=reason,
        charter_url=charter_url,
    )


def unblock_user(user: User, reason: str, moderator: User) -> dict[str, int]:
    """Unblock an account and show again the contributions its block had hidden."""
    reason = _reason(reason)
    if user.blocked_at is None:
        raise ModerationError(_("Ce compte n'est pas bloqué."))
    blocked_at = user.blocked_at
    restored: dict[str, int] = {}
    for target_type, model in MODERATED_MODELS.items():
        result = db.session.execute(
            sa.update(model)
            .where(
                model.author_id == user.id,
                model.hidden_at == blocked_at,
                model.hidden_reason == BLOCKED_CONTENT_REASON,
            )
            .values(hidden_at=None, hidden_reason=None)
            .execution_options(synchronize_session=False)
        )
        restored[target_type.value] = result.rowcount or 0
    previous = user.blocked_reason
    user.blocked_at = None
    user.blocked_reason = None
    _audit(
        "moderation.unblock_user",
        moderator,
        "user",
        user.id,
        reason=reason,
        previous=previous,
        restored=restored,
    )
    db.session.flush()
    _expire_moderated()
    return restored


def _expire_moderated() -> None:
    """Bulk updates bypass the identity map: forget the moderated rows it holds."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, tuple(MODERATED_MODELS.values()) + (Report,)):
            db.session.expire(obj)


# --------------------------------------------------------------------------- queue


#: ``target_type -> (target_id -> local path or None)``; other packages may register the
#: page of their content (``register_target_url("proposal", lambda id: ...)``).
_target_urls: dict[str, Callable[[int], str | None]] = {}

#: Endpoints tried, in order, when no function is registered for a type.
_ENDPOINT_GUESSES = {
    TargetType.PROCESS: (("processes.show", "process_id"), ("processes.detail", "process_id")),
    TargetType.PROPOSAL: (
        ("proposals.show", "proposal_id"),
        ("proposals.detail", "proposal_id"),
    ),
    TargetType.DEBATE: (("debates.show", "debate_id"),),
}


def register_target_url(target_type: TargetType | str, func: Callable[[int], str | None]) -> None:
    _target_urls[str(_target_type(target_type))] = func


def local_url(endpoint: str, **values) -> str:
    """The path of a tenant page, in a request or in a job (no request context)."""
    if has_request_context():
        return url_for(endpoint, **values)
    adapter = current_app.url_map.bind(_tenant().primary_host or "localhost", subdomain=TENANT_SITE)
    return adapter.build(endpoint, values)


def _endpoint_url(target_type: TargetType, target_id: int) -> str | None:
    for endpoint, argument in _ENDPOINT_GUESSES.get(target_type, ()):
        if endpoint in current_app.view_functions:
            try:
                return local_url(endpoint, **{argument: target_id})
            except BuildError:
                continue
    return None


def target_url(target_type: TargetType | str, target_id: int) -> str | None:
    """The public page (local path) of a target, with an anchor for arguments and comments."""
    target_type = _target_type(target_type)
    registered = _target_urls.get(target_type.value)
    if registered is not None:
        return registered(target_id)
    if target_type == TargetType.ARGUMENT:
        argument = db.session.get(Argument, target_id)
        if argument is None:
            return None
        page = _endpoint_url(TargetType.DEBATE, argument.debate_id)
        return f"{page}#argument-{target_id}" if page else None
    if target_type == TargetType.COMMENT:
        comment = db.session.get(Comment, target_id)
        if comment is None:
            return None
        parent_type, parent_id = comment_parent(comment)
        page = target_url(parent_type, parent_id)
        return comment_url(comment, page) if page else None
    return _endpoint_url(target_type, target_id)


_COMMENT_TARGET_COLUMN = {
    TargetType.PROPOSAL: Comment.proposal_id,
    TargetType.DEBATE: Comment.debate_id,
    TargetType.PROCESS: Comment.process_id,
}


def comment_page(comment: Comment, per_page: int = COMMENTS_PER_PAGE) -> int:
    """The page of its thread where ``comment`` is shown: the page of its top-level
    comment. Top-level comments are listed oldest first, so this never changes."""
    root = comment
    while root.parent_id is not None:  # at most COMMENT_MAX_DEPTH - 1 steps
        parent = db.session.get(Comment, root.parent_id)
        if parent is None:
            break
        root = parent
    target_type, target_id = comment_parent(root)
    column = _COMMENT_TARGET_COLUMN[target_type]
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


def comment_parent(comment: Comment) -> tuple[TargetType, int]:
    if comment.proposal_id is not None:
        return TargetType.PROPOSAL, comment.proposal_id
    if comment.debate_id is not None:
        return TargetType.DEBATE, comment.debate_id
    return TargetType.PROCESS, comment.process_id


@dataclass
class QueueItem:
    target_type: TargetType
    target_id: int
    target: object | None
    reports: list[Report] = field(default_factory=list)

    @property
    def author(self) -> User | None:
        return getattr(self.target, "author", None)

    @property
    def preview(self) -> str:
        return content_preview(self.target)

    @property
    def reasons(self) -> list[str]:
        seen: list[str] = []
        for report in self.reports:
            label = str(REASON_LABELS[report.reason])
            if label not in seen:
                seen.append(label)
        return seen

    @property
    def first_reported_at(self) -> datetime:
        return min(r.created_at for r in self.reports)


def content_preview(target, limit: int = 300) -> str:
    if target is None:
        return ""
    if isinstance(target, Proposal):
        return plain_text(f"**{target.title}**\n\n{target.body}", limit)
    if isinstance(target, User):
        return target.public_name
    return plain_text(getattr(target, "body", ""), limit)


def load_targets(pairs: Iterable[tuple[TargetType, int]]) -> dict[tuple[TargetType, int], object]:
    """The rows of many targets with their authors: one query per kind of target."""
    by_type: dict[TargetType, set[int]] = {}
    for target_type, target_id in pairs:
        by_type.setdefault(TargetType(target_type), set()).add(target_id)
    found: dict[tuple[TargetType, int], object] = {}
    for target_type, ids in by_type.items():
        model = TARGET_MODELS[target_type]
        query = sa.select(model).where(model.id.in_(ids))
        if hasattr(model, "author"):
            query = query.options(joinedload(model.author))
        for row in db.session.scalars(query):
            found[(target_type, row.id)] = row
    return found


def moderation_queue(limit: int = QUEUE_LIMIT) -> list[QueueItem]:
    """Open reports grouped by target, the longest-waiting target first."""
    reports = list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.status == ReportStatus.OPEN)
            .options(joinedload(Report.reporter))
            .order_by(Report.created_at, Report.id)
            .limit(limit)
        )
    )
    items: dict[tuple[TargetType, int], QueueItem] = {}
    for report in reports:
        key = (report.target_type, report.target_id)
        if key not in items:
            items[key] = QueueItem(report.target_type, report.target_id, None)
        items[key].reports.append(report)
    targets = load_targets(items)
    for key, item in items.items():
        item.target = targets.get(key)
    return list(items.values())


def open_report_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Report.status == ReportStatus.OPEN))


def reports_on(target_type: TargetType | str, target_id: int) -> list[Report]:
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.target_type == _target_type(target_type), Report.target_id == target_id)
            .options(joinedload(Report.reporter))
            .order_by(Report.created_at.desc())
        )
    )


def blocked_users() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.blocked_at.is_not(None)).order_by(User.blocked_at.desc())
        )
    )


def contribution_counts(user_id: int) -> dict[str, int]:
    """How many proposals, arguments and comments a user wrote (hidden ones included)."""
    counts = {}
    for target_type, model in MODERATED_MODELS.items():
        counts[target_type.value] = db.session.scalar(
            sa.select(sa.func.count()).where(model.author_id == user_id)
        )
    return counts


# --------------------------------------------------------------------------- digests


DIGEST_LOOKBACK = timedelta(days=7)
DIGEST_MAX_ITEMS = 50


def digest_candidates() -> list[int]:
    """Users on the daily digest with at least one notification still to e-mail."""
    since = clock.utcnow() - DIGEST_LOOKBACK
    return list(
        db.session.scalars(
            sa.select(User.id)
            .where(
                User.notification_frequency == NotificationFrequency.DAILY,
                User.email.is_not(None),
                User.deleted_at.is_(None),
                User.blocked_at.is_(None),
                User.is_active_account.is_(True),
                sa.exists().where(
                    Notification.user_id == User.id,
                    Notification.emailed_at.is_(None),
                    Notification.read_at.is_(None),
                    Notification.created_at >= since,
                ),
            )
            .order_by(User.id)
        )
    )


def claim_digest_notifications(user_id: int) -> list[Notification]:
    """Lock and return the user's notifications for today's digest (SKIP LOCKED: a second
    run at the same time finds them taken and sends nothing)."""
    since = clock.utcnow() - DIGEST_LOOKBACK
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.emailed_at.is_(None),
                Notification.read_at.is_(None),
                Notification.created_at >= since,
            )
            .order_by(Notification.created_at, Notification.id)
            .with_for_update(skip_locked=True)
        )
    )
