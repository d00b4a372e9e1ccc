"""Follows, notifications and moderation."""

from __future__ import annotations

from flask import Flask, has_request_context

from core.routing import TENANT_SITE


def _unread_count() -> int:
    from flask_login import current_user

    from participation.engagement.services import unread_count
    from tenants.context import current_tenant

    if not has_request_context() or current_tenant() is None:
        return 0
    if not current_user.is_authenticated:
        return 0
    return unread_count(current_user.id)


def _unread_badge() -> str | None:
    """After "Notifications" in the menu: how many are unread (queried only when shown)."""
    from flask_babel import ngettext

    count = _unread_count()
    return ngettext("%(num)s non lue", "%(num)s non lues", count) if count else None


def _is_following(target_type, target_id) -> bool:
    from flask_login import current_user

    from participation.engagement.services import is_following

    if not current_user.is_authenticated:
        return False
    return is_following(current_user.id, target_type, target_id)


def _viewer_is_staff() -> bool:
    from flask_login import current_user

    return bool(has_request_context() and current_user.is_authenticated and current_user.is_staff)


def _export_sections():
    """What the RGPD export ("Télécharger mes données") adds about a user."""
    import sqlalchemy as sa

    from core.db import db
    from participation.debates.models import Argument, Comment
    from participation.engagement.models import Follow, Notification, Report

    def engagement_contributions(user):
        comments = db.session.scalars(sa.select(Comment).where(Comment.author_id == user.id))
        arguments = db.session.scalars(sa.select(Argument).where(Argument.author_id == user.id))
        return "commentaires_et_arguments.json", {
            "commentaires": [
                {
                    "id": c.id,
                    "texte": c.body,
                    "publie_le": c.created_at,
                    "modifie_le": c.edited_at,
                    "supprime_le": c.deleted_at,
                    "masque_le": c.hidden_at,
                    "raison_du_masquage": c.hidden_reason,
                }
                for c in comments
            ],
            "arguments": [
                {
                    "id": a.id,
                    "debat": a.debate_id,
                    "position": a.side,
                    "texte": a.body,
                    "publie_le": a.created_at,
                    "supprime_le": a.deleted_at,
                    "masque_le": a.hidden_at,
                }
                for a in arguments
            ],
        }

    def engagement_follows_and_notifications(user):
        follows = db.session.scalars(sa.select(Follow).where(Follow.user_id == user.id))
        notifications = db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc())
        )
        reports = db.session.scalars(sa.select(Report).where(Report.reporter_id == user.id))
        return "suivis_notifications_signalements.json", {
            "suivis": [
                {"type": f.target_type, "id": f.target_id, "depuis": f.created_at} for f in follows
            ],
            "notifications": [
                {
                    "titre": n.title,
                    "texte": n.body,
                    "lien": n.url,
                    "recue_le": n.created_at,
                    "lue_le": n.read_at,
                    "envoyee_par_e_mail_le": n.emailed_at,
                }
                for n in notifications
            ],
            "signalements_faits": [
                {
                    "type": r.target_type,
                    "id": r.target_id,
                    "raison": r.reason,
                    "precisions": r.details,
                    "le": r.created_at,
                    "statut": r.status,
                }
                for r in reports
            ],
        }

    return [engagement_contributions, engagement_follows_and_notifications]


def init_app(app: Flask) -> None:
    """Register follows, reports, the notification centre, unsubscribe links and the
    moderation pages, their Jinja globals (``is_following``, ``viewer_is_staff``), their menu
    links (the notifications with their unread count) and ``flask engagement`` (idempotent)."""
    from participation.engagement import demo, tasks  # noqa: F401 - demo registers its seeder
    from participation.engagement.views import bp, staff_bp

    if "engagement" in app.blueprints:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp)  # subdomain=TENANT_SITE is set on the blueprint
    app.jinja_env.globals.update(is_following=_is_following, viewer_is_staff=_viewer_is_staff)
    _register_links(app)
    tasks.init_app(app)
    # Registers the export and erasure of follows, notifications, reports, comments.
    from participation.engagement import personal_data  # noqa: F401


def _register_links(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from core import navigation
    from participation.accounts.models import StaffRole
    from participation.staff.permissions import role_allows

    navigation.register_nav_entry(
        app,
        "tenant",
        "engagement.notifications",
        _l("Notifications"),
        80,
        visible=navigation.signed_in,
        badge=_unread_badge,
    )
    navigation.register_nav_entry(
        app,
        "staff",
        "staff_moderation.queue",
        _l("Modération"),
        90,
        visible=lambda user: role_allows(user, (StaffRole.MODERATOR,)),
        current=["staff_moderation."],
    )
