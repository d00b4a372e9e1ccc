"""Proposals (ideas), supports and the official answer workflow.

Public pages: ``/demarches/<id>/propositions`` (list), ``/propositions/<id>`` (page);
staff pages under ``/gestion/propositions``. ``init_app`` registers both blueprints on
the tenant site, the template helpers the process page uses, and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "proposals.status_changed": _l("Statut d'une proposition modifié"),
    "proposals.answered": _l("Réponse publiée sur une proposition"),
    "proposals.assigned": _l("Proposition affectée"),
    "proposals.exported": _l("Propositions exportées (CSV)"),
    "proposals.settings_updated": _l("Réglages des propositions modifiés"),
}


def init_app(app: Flask) -> None:
    """Register the proposal pages on the tenant site (idempotent)."""
    from participation.proposals import (
        demo,  # noqa: F401 - registers its seeder
        personal_data,  # noqa: F401 - registers its RGPD rules
        services,
        targets,  # noqa: F401 - registers what engagement may point at
    )
    from participation.proposals.views import bp, staff_bp

    if "proposals.show" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    # For templates/proposals/_process_section.html, included by the process page.
    app.jinja_env.globals["proposal_summary"] = services.process_summary
    app.jinja_env.filters["proposal_status_label"] = services.status_label
    _label_audit_actions()


def _label_audit_actions() -> None:
    """Give the staff audit log French names for our actions."""
    try:
        from participation.staff import views as staff_views
    except ImportError:  # pragma: no cover - the staff package is part of the product
        return
    for action, label in AUDIT_ACTION_LABELS.items():
        staff_views.ACTION_LABELS.setdefault(action, label)
    staff_views.TARGET_LABELS.setdefault("proposal", _l("Proposition"))
