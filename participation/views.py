"""The tenant's home page: the open, upcoming and finished processes."""

from __future__ import annotations

from flask import Blueprint, render_template

from core import clock
from tenants.context import current_tenant

bp = Blueprint("participation", __name__)


@bp.get("/")
def home():
    from participation.processes import services

    groups = services.home_groups(clock.paris_today())
    return render_template("participation/home.html", tenant=current_tenant(), groups=groups)
