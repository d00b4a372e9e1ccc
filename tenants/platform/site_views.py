"""Pages of the platform site (the platform domain itself)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("platform", __name__)


@bp.get("/")
def home():
    return render_template("platform/home.html")
