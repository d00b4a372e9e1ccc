"""Debates (arguments pour / contre) and comments."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.routing import TENANT_SITE


def _comment_thread(target_type, target_id):
    from flask import request
    from flask_login import current_user

    from core.routing import arg_int
    from participation.debates.services import comment_thread
    from participation.debates.views import ThreadText
    from participation.engagement.comments import COMMENT_PAGE_ARG
    from participation.engagement.services import target_url

    page = arg_int(COMMENT_PAGE_ARG, 1)
    thread = comment_thread(target_type, target_id, viewer=current_user, page=page)
    # The target's own page, also when a form error re-renders it under a POST route.
    thread.base_url = target_url(thread.target_type, thread.target_id) or request.path
    thread.text = ThreadText(thread.base_url)
    return thread


def _comment_page_url(thread, page: int) -> str:
    """The thread's page (the target's page, its other arguments kept when it is the
    current one) opened on the comments' ``page`` (no argument for the first)."""
    from urllib.parse import urlencode

    from flask import request

    from participation.engagement.comments import COMMENT_PAGE_ARG

    args = []
    if request.method == "GET" and request.path == thread.base_url:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != COMMENT_PAGE_ARG]
    if page > 1:
        args.append((COMMENT_PAGE_ARG, str(page)))
    query = f"?{urlencode(args)}" if args else ""
    return f"{thread.base_url}{query}#commentaires"


def _process_section(process) -> dict:
    """What the process page's debates section shows: the process's debates, and whether
    the viewer may open one there."""
    from flask_login import current_user

    from participation.debates.services import process_debates
    from participation.debates.views import DEBATE_MANAGERS
    from participation.staff.permissions import role_allows

    return {
        "debates": process_debates(process),
        "manage": role_allows(current_user, DEBATE_MANAGERS),
    }


def init_app(app: Flask) -> None:
    """Register the debate pages, the comment actions and their Jinja globals (idempotent):
    ``comment_thread(target_type, target_id)`` (the page of the thread named by the
    ``?commentaires=`` argument) and ``comment_page_url(thread, n)``; the debates section
    of the process page and the staff menu's link."""
    from participation.debates import (
        demo,  # noqa: F401 - registers the demo seeder
        engagement_demo,  # noqa: F401 - registers its seeder (follows, reports)
        opendata,  # noqa: F401 - registers its open-data datasets
        personal_data,  # noqa: F401 - registers its RGPD rules
        targets,  # noqa: F401 - registers what engagement may point at
    )
    from participation.debates.views import bp, staff_bp
    from participation.processes.sections import register_process_section

    if "debates" in app.blueprints:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp)  # subdomain=TENANT_SITE is set on the blueprint
    app.jinja_env.globals.update(
        comment_thread=_comment_thread,
        comment_page_url=_comment_page_url,
    )
    register_process_section(app, "debates", "debates/_process_section.html", 20, _process_section)
    navigation.register_nav_entry(
        app, "staff", "staff_debates.manage", _l("Débats"), 30, current=["staff_debates."]
    )
