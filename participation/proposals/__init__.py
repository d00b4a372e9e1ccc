"""Proposals (ideas), supports and the official answer workflow.

Public pages: ``/demarches/<id>/propositions`` (list), ``/propositions/<id>`` (page);
staff pages under ``/gestion/propositions``. ``init_app`` registers both blueprints on
the tenant site, the section of the process page, the staff menu's link, the audit labels
and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels
from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "proposals.status_changed": _l("Statut d'une proposition modifié"),
    "proposals.answered": _l("Réponse publiée sur une proposition"),
    "proposals.assigned": _l("Proposition affectée"),
    "proposals.exported": _l("Propositions exportées (CSV)"),
    "proposals.settings_updated": _l("Réglages des propositions modifiés"),
}
AUDIT_TARGET_LABELS = {"proposal": _l("Proposition")}


def init_app(app: Flask) -> None:
    """Register the proposal pages on the tenant site (idempotent)."""
    from participation.processes.sections import register_process_section
    from participation.proposals import (
        demo,  # noqa: F401 - registers its seeder
        opendata,  # noqa: F401 - registers its open-data datasets
        personal_data,  # noqa: F401 - registers its RGPD rules
        services,
        targets,  # noqa: F401 - registers what engagement may point at
    )
    from participation.proposals.views import bp, staff_bp

    if "proposals.show" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    register_process_section(
        app, "proposals", "proposals/_process_section.html", 10, services.process_summary
    )
    app.jinja_env.filters["proposal_status_label"] = services.status_label
    navigation.register_nav_entry(
        app,
        "staff",
        "staff_proposals.dashboard",
        _l("Propositions"),
        20,
        current=["staff_proposals."],
    )
    register_audit_labels(AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
