"""The network layer: on the platform domain, reading only the public schema."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from network import benchmarks, commitments, core, diagnostic, forum, library

    core.init_app(app)
    library.init_app(app)
    forum.init_app(app)
    commitments.init_app(app)
    diagnostic.init_app(app)
    benchmarks.init_app(app)
