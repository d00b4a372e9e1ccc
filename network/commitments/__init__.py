"""Commitments of the member territories (``network_commitments``): the board at
``/reseaux/<slug>/engagements``, declaration and progress reports by the territory's
platform accounts, comments by the network's coordinators and evaluators."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
    if "network_commitments.board" in app.view_functions:
        return
    from network.commitments import (
        demo,  # noqa: F401 - registers the demo seeder
        personal_data,  # noqa: F401 - registers its RGPD rules
    )
    from network.commitments.views import bp

    app.register_blueprint(bp)
