"""Consultations and surveys (questionnaires, results, « Vous avez dit, nous avons fait »).

Public pages: ``/consultations`` (list), ``/consultations/<id>`` (page, answer form,
results, outcome); staff pages under ``/gestion/consultations``. ``init_app`` registers
both blueprints on the tenant site, the helpers the process page uses, and the demo seeder.
"""

from __future__ import annotations

from flask import Flask

from core.routing import TENANT_SITE


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder (idempotent)."""
    from core import charts
    from participation.surveys import (
        demo,  # noqa: F401 - registers its seeder
        opendata,  # noqa: F401 - registers its open-data datasets
        services,
    )
    from participation.surveys.views import bp, staff_bp

    if "surveys.index" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    charts.init_app(app)  # already done by core.app; harmless when repeated
    # For templates/surveys/_process_section.html and _phase_summary.html.
    app.jinja_env.globals["process_surveys"] = services.process_surveys
    app.jinja_env.globals["phase_surveys"] = services.phase_surveys
    app.jinja_env.globals["survey_status_labels"] = services.STATUS_LABELS
    _label_audit_actions()
    from participation.surveys import personal_data  # noqa: F401 - registers its RGPD rules


def _label_audit_actions() -> None:
    """Give the staff audit log French names for our actions."""
    try:
        from flask_babel import lazy_gettext as _l

        from participation.staff import views as staff_views
        from participation.surveys.services import AUDIT_ACTION_LABELS
    except ImportError:  # pragma: no cover - the staff package is part of the product
        return
    for action, label in AUDIT_ACTION_LABELS.items():
        staff_views.ACTION_LABELS.setdefault(action, label)
    staff_views.TARGET_LABELS.setdefault("survey", _l("Consultation"))
