"""Follows, notifications, comments' model and moderation: what the features' pages share.

Engagement sits below processes, proposals and debates and never imports them: they register
their content types (``services.register_target``) from their own ``targets`` module.
"""

from __future__ import annotations

from flask import Flask, has_request_context

from core.routing import TENANT_SITE


class _LazyUnreadCount:
    """The unread count of the nav, queried only if a template shows it."""

    def __init__(self) -> None:
        self._value: int | None = None

    @property
    def value(self) -> int:
        if self._value is None:
            self._value = _unread_count()
        return self._value

    def __bool__(self) -> bool:
        return self.value > 0

    def __int__(self) -> int:
        return self.value

    def __str__(self) -> str:
        return str(self.value)


def _unread_count() -> int:
    from flask_login import current_user

    from participation.engagement.services import unread_count
    from tenants.context import current_tenant

    if not has_request_context() or current_tenant() is None:
        return 0
    if not current_user.is_authenticated:
        return 0
    return unread_count(current_user.id)


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
    moderation pages, their Jinja globals (``is_following``, ``viewer_is_staff``), the
    ``unread_notifications`` context variable and ``flask engagement`` (idempotent)."""
    from participation.engagement import tasks
    from participation.engagement.views import bp, staff_bp

    if "engagement" in app.blueprints:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp)  # subdomain=TENANT_SITE is set on the blueprint
    app.jinja_env.globals.update(is_following=_is_following, viewer_is_staff=_viewer_is_staff)

    @app.context_processor
    def _notification_count():
        return {"unread_notifications": _LazyUnreadCount()}

    tasks.init_app(app)
    # Registers the export and erasure of follows, notifications, reports, comments.
    from participation.engagement import personal_data  # noqa: F401
