"""Public read-only JSON API under /api/v1 with its OpenAPI document."""

from __future__ import annotations

import importlib
import logging

from flask import Flask

from core.routing import TENANT_SITE

log = logging.getLogger(__name__)

#: The endpoints of the other participation tools, each in its own module: a tool whose
#: package is absent from a build simply has no endpoint (and no documentation).
TOOL_MODULES = ("surveys", "budgets", "meetings", "problems")


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
    from core.extensions import csrf
    from participation.api.views import bp

    if bp.name in app.blueprints:
        return
    for name in TOOL_MODULES:
        try:
            importlib.import_module(f"participation.api.{name}")
        except ImportError as exc:  # pragma: no cover - a build without that tool
            log.info("API: no %s endpoints (%s)", name, exc)
    # Read-only (GET): nothing for a CSRF token to protect.
    csrf.exempt(bp)
    app.register_blueprint(bp, subdomain=TENANT_SITE)
