"""Debates (arguments pour / contre) and comments."""

from __future__ import annotations

from flask import Flask

from core.routing import TENANT_SITE


def _comment_thread(target_type, target_id):
    from flask_login import current_user

    from participation.debates.services import comment_thread

    return comment_thread(target_type, target_id, viewer=current_user)


def _process_debates(process):
    from participation.debates.services import process_debates

    return process_debates(process)


def _can_manage_debates() -> bool:
    from flask_login import current_user

    from participation.debates.views import DEBATE_MANAGERS
    from participation.staff.permissions import role_allows

    return role_allows(current_user, DEBATE_MANAGERS)


def init_app(app: Flask) -> None:
    """Register the debate pages, the comment actions and their Jinja globals (idempotent):
    ``comment_thread(target_type, target_id)`` and ``process_debates(process)``."""
    from participation.debates import demo  # noqa: F401 - registers the demo seeder
    from participation.debates.views import bp, staff_bp

    if "debates" in app.blueprints:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp)  # subdomain=TENANT_SITE is set on the blueprint
    app.jinja_env.globals.update(
        comment_thread=_comment_thread,
        process_debates=_process_debates,
        can_manage_debates=_can_manage_debates,
    )
