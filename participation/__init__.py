"""Everything inside one collectivité's space (tenant schema)."""

from __future__ import annotations

from flask import Flask

from core.routing import TENANT_SITE


def init_app(app: Flask) -> None:
    from participation.views import bp

    app.register_blueprint(bp, subdomain=TENANT_SITE)
