"""Public read-only JSON API under /api/v1 with its OpenAPI document."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
