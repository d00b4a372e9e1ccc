"""The tenant's home page: the open, upcoming and finished processes."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from core import clock
from tenants.context import current_tenant

bp = Blueprint("participation", __name__)


@bp.get("/")
def home():
    groups = []
    # The process pages may not be registered (an app wired without them): no cards, then.
    if "processes.show" in current_app.view_functions:
        from participation.processes import services

        groups = services.home_groups(clock.paris_today())
    return render_template("participation/home.html", tenant=current_tenant(), groups=groups)
