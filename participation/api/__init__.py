"""Public read-only JSON API under /api/v1 with its OpenAPI document."""

from __future__ import annotations

import importlib

from flask import Flask

from core.routing import TENANT_SITE

#: The endpoints of the other participation tools, each in its own module of this package
#: (``participation.api.surveys``…); every tool is part of the product.
TOOL_MODULES = ("surveys", "budgets", "meetings", "problems")


def init_app(app: Flask) -> None:
    """Register the API's blueprint, with every tool's endpoints declared on it."""
    from core.extensions import csrf
    from participation.api.views import bp

    if bp.name in app.blueprints:
        return
    for name in TOOL_MODULES:
        importlib.import_module(f"participation.api.{name}")
    # Read-only (GET): nothing for a CSRF token to protect.
    csrf.exempt(bp)
    app.register_blueprint(bp, subdomain=TENANT_SITE)
