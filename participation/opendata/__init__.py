"""Per-tenant open-data bundle (/open-data), rebuilt nightly."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
