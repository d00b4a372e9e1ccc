"""Notification e-mails: one per notification for "immediate" users, a daily digest for
"daily" users. Every e-mail carries a one-click unsubscribe link (RFC 8058).

The services enqueue :func:`send_notification_email` (``services.notifications``); this module
never imports the services back: what the digest selects is written here, the unsubscribe
links come from ``participation.engagement.unsubscribe``.

Both jobs are idempotent: a notification's ``emailed_at`` is set in the transaction that
enqueues its e-mail (delivered after the commit by ``core.mail``), under a row lock, so a
job run twice, or two digests at once, send nothing twice.

Scheduling the digest: ``flask engagement send-digests`` enqueues one job per active tenant
(run it from cron once a day, e.g. ``0 7 * * *``); ``--sync`` runs them in the process.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from urllib.parse import urljoin

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from core import clock
from core.db import db
from core.jobs import enqueue
from core.mail import send_mail
from participation.accounts.models import NotificationFrequency, User
from participation.engagement.models import Notification
from participation.engagement.unsubscribe import unsubscribe_token
from tenants.context import TenantRef, current_tenant, tenant_job, tenant_job_id
from tenants.listing import active_tenant_ids
from tenants.urls import tenant_url

log = logging.getLogger(__name__)

DIGEST_LOOKBACK = timedelta(days=7)
DIGEST_MAX_ITEMS = 50


def _absolute(tenant: TenantRef, path: str | None) -> str:
    home = tenant_url(tenant, "participation.home")
    if not path:
        return home
    return urljoin(home, path)


def mail_links(tenant: TenantRef, user: User) -> dict:
    """The unsubscribe and preferences links, and the RFC 2369/8058 headers."""
    unsubscribe = tenant_url(tenant, "engagement.unsubscribe", token=unsubscribe_token(user.id))
    return {
        "unsubscribe_url": unsubscribe,
        "preferences_url": tenant_url(tenant, "accounts.notifications"),
        "centre_url": tenant_url(tenant, "engagement.notifications"),
        "headers": {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


def _mailable(user: User | None) -> bool:
    return bool(
        user is not None
        and user.email
        and user.deleted_at is None
        and user.blocked_at is None
        and user.is_active_account
    )


@tenant_job
def send_notification_email(tenant_id: int, notification_id: int) -> bool:
    """E-mail one notification to an "immediate" user, once. True if a mail was sent."""
    notification = db.session.scalar(
        sa.select(Notification)
        .where(Notification.id == notification_id)
        .with_for_update(skip_locked=True)
    )
    if notification is None or notification.emailed_at is not None:
        db.session.rollback()
        return False
    user = db.session.get(User, notification.user_id)
    # The preference may have changed since the notification was made.
    if not _mailable(user) or user.notification_frequency != NotificationFrequency.IMMEDIATE:
        db.session.rollback()
        return False
    tenant = current_tenant()
    links = mail_links(tenant, user)
    send_mail(
        user.email,
        "notification_email",
        headers=links.pop("headers"),
        user=user,
        tenant=tenant,
        notification=notification,
        link=_absolute(tenant, notification.url),
        **links,
    )
    notification.emailed_at = clock.utcnow()
    db.session.commit()
    return True


@tenant_job
def send_daily_digests(tenant_id: int) -> int:
    """One digest e-mail per "daily" user who has news; returns how many were sent.

    Never an empty e-mail: a user whose notifications were all read, or taken by another
    run, gets nothing. Each user is committed on their own, so one failure does not resend
    the others' digests when the job is retried."""
    tenant = current_tenant()
    sent = 0
    user_ids = digest_candidates()
    db.session.rollback()
    for user_id in user_ids:
        try:
            if _send_digest(tenant, user_id):
                sent += 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("digest of user %s (tenant %s) failed", user_id, tenant_id)
            raise
    log.info("tenant %s: %s digest(s) sent", tenant_id, sent)
    return sent


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


def _send_digest(tenant: TenantRef, user_id: int) -> bool:
    user = db.session.scalar(sa.select(User).where(User.id == user_id).with_for_update())
    if not _mailable(user) or user.notification_frequency != NotificationFrequency.DAILY:
        return False
    notifications = claim_digest_notifications(user_id)
    if not notifications:
        return False
    shown = notifications[:DIGEST_MAX_ITEMS]
    links = mail_links(tenant, user)
    send_mail(
        user.email,
        "digest",
        headers=links.pop("headers"),
        user=user,
        tenant=tenant,
        items=[(n, _absolute(tenant, n.url)) for n in shown],
        count=len(notifications),
        more=len(notifications) - len(shown),
        **links,
    )
    now = clock.utcnow()
    for notification in notifications:
        notification.emailed_at = now
    db.session.flush()
    return True


# --------------------------------------------------------------------------- scheduling


def enqueue_daily_digests(slug: str | None = None, day: date | None = None) -> list[int]:
    """Enqueue today's digest job of every active tenant (one job id per tenant and day)."""
    day = day or date.today()
    tenant_ids = active_tenant_ids(slug)
    for tenant_id in tenant_ids:
        enqueue(
            send_daily_digests,
            tenant_id,
            queue="low",
            job_id=tenant_job_id(tenant_id, "daily-digest", day.isoformat()),
        )
    return tenant_ids


engagement_cli = AppGroup("engagement", help="Notifications and moderation.")


@engagement_cli.command("send-digests")
@click.option("--tenant", "slug", default=None, help="Only this tenant (slug).")
@click.option("--sync", is_flag=True, help="Send now in this process instead of enqueuing.")
def send_digests_command(slug: str | None, sync: bool) -> None:
    """Send the daily notification digests (run it once a day from cron)."""
    if sync:
        for tenant_id in active_tenant_ids(slug):
            count = send_daily_digests(tenant_id)
            click.echo(f"tenant {tenant_id}: {count} digest(s) sent")
        return
    tenant_ids = enqueue_daily_digests(slug)
    click.echo(f"{len(tenant_ids)} digest job(s) enqueued")


def init_app(app: Flask) -> None:
    if "engagement" not in app.cli.commands:
        app.cli.add_command(engagement_cli)
