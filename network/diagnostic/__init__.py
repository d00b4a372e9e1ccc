"""Democratic self-diagnostic (``network_diagnostic``) at ``/reseaux/<slug>/autodiagnostic``:
the coordinator defines dimensions × levels, each member territory answers once a year,
a radar chart compares a territory with the network's median."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
    if "network_diagnostic.index" in app.view_functions:
        return
    from network.diagnostic import (
        demo,  # noqa: F401 - registers the demo seeder
        personal_data,  # noqa: F401 - registers its RGPD rules
    )
    from network.diagnostic.views import bp

    app.register_blueprint(bp)
