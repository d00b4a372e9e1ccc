"""Reports of local problems (signalements): map, triage, statuses.

Public pages: ``/signalements`` (map and list), ``/signalements/<id>``, the report form
``/signalements/nouveau``; staff pages under ``/gestion/signalements`` (triage, categories).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels
from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "problems.status_changed": _l("Statut d'un signalement modifié"),
    "problems.assigned": _l("Signalement confié à un service"),
    "problems.hidden": _l("Signalement masqué"),
    "problems.restored": _l("Signalement rendu visible"),
    "problems.category_created": _l("Catégorie de signalement créée"),
    "problems.category_updated": _l("Catégorie de signalement modifiée"),
}
AUDIT_TARGET_LABELS = {
    "problem_report": _l("Signalement"),
    "problem_category": _l("Catégorie de signalement"),
}


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder (idempotent)."""
    from participation.problems import (
        demo,  # noqa: F401 - registers its seeder
        opendata,  # noqa: F401 - registers its open-data datasets
        personal_data,  # noqa: F401 - registers its RGPD rules
    )
    from participation.problems.views import bp, staff_bp

    if "problems.index" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    navigation.register_nav_entry(app, "tenant", "problems.index", _l("Signalements"), 50)
    navigation.register_nav_entry(
        app, "staff", "staff_problems.index", _l("Signalements"), 70, current=["staff_problems."]
    )
    register_audit_labels(AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
