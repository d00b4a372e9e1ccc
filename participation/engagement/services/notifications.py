"""Notifications: who is told of what, the notification centre, and the e-mail it triggers.

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

from collections.abc import Iterable

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from core import clock
from core.db import db
from core.jobs import enqueue_after_commit
from core.security.redirects import safe_next_path
from participation.accounts.models import NotificationFrequency, User
from participation.engagement.models import Follow, Notification, TargetType
from participation.engagement.services.targets import as_target_type, required_tenant
from participation.engagement.tasks import send_notification_email
from tenants.context import tenant_job_id

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

TITLE_MAX = 300
URL_MAX = 500


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
    tenant = required_tenant()
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
    target_type = as_target_type(target_type)
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


# --------------------------------------------------------------------------- the centre


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
    )


def notifications_page(user_id: int, page: int = 1, per_page: int = 30) -> Pagination:
    """The user's notifications, unread first, then newest first (a page past the last one
    is empty)."""
    return db.paginate(
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(
            Notification.read_at.is_(None).desc(),
            Notification.created_at.desc(),
            Notification.id.desc(),
        ),
        page=page,
        per_page=per_page,
        error_out=False,
    )


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
