"""Per-tenant open-data bundle (/open-data), rebuilt nightly."""

from __future__ import annotations

from flask import Flask

from core.routing import TENANT_SITE


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
    from participation.opendata import demo  # noqa: F401 - registers the seeder
    from participation.opendata.tasks import opendata_cli
    from participation.opendata.views import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp, subdomain=TENANT_SITE)
    if "opendata" not in app.cli.commands:
        app.cli.add_command(opendata_cli)
