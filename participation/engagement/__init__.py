"""Follows, notifications, comments' model and moderation: what the features' pages share.

Engagement sits below processes, proposals and debates and never imports them: they register
their content types (``services.register_target``) from their own ``targets`` module.
"""

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


def init_app(app: Flask) -> None:
    """Register follows, reports, the notification centre, unsubscribe links and the
    moderation pages, their Jinja globals (``is_following``, ``viewer_is_staff``), their menu
    links (the notifications with their unread count) and ``flask engagement`` (idempotent)."""
    from participation.engagement import tasks
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
