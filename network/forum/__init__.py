"""Forum of a network: questions and answers between the agents of member territories
(``/reseaux/<slug>/forum``, blueprint ``network_forum``), with e-mail notifications."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from network.forum import (  # noqa: F401 - they register their rules and seeder
        demo,
        personal_data,
    )
    from network.forum.views import bp

    if "network_forum.index" in app.view_functions:
        return
    app.register_blueprint(bp)
