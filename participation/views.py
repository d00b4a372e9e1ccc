"""The tenant's home page (processes come with the participation issue)."""

from __future__ import annotations

from flask import Blueprint, render_template

from tenants.context import current_tenant

bp = Blueprint("participation", __name__)


@bp.get("/")
def home():
    return render_template("participation/home.html", tenant=current_tenant())
