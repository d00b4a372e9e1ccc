"""Consultations and surveys (questionnaires, results, « Vous avez dit, nous avons fait »).

Public pages: ``/consultations`` (list), ``/consultations/<id>`` (page, answer form,
results, outcome); staff pages under ``/gestion/consultations``. ``init_app`` registers
both blueprints on the tenant site, the sections of the process page, the menus' links,
the audit labels and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels
from core.routing import TENANT_SITE

#: The survey actions' names are with the services (participation/surveys/services/common.py).
AUDIT_TARGET_LABELS = {"survey": _l("Consultation")}


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder (idempotent)."""
    from core import charts
    from participation.processes.sections import register_phase_summary, register_process_section
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
    register_process_section(
        app, "surveys", "surveys/_process_section.html", 30, services.process_surveys
    )
    register_phase_summary(
        app, "surveys", "surveys/_phase_summary.html", 20, services.phase_surveys
    )
    app.jinja_env.globals["survey_status_labels"] = services.STATUS_LABELS
    navigation.register_nav_entry(app, "tenant", "surveys.index", _l("Consultations"), 20)
    navigation.register_nav_entry(
        app, "staff", "staff_surveys.index", _l("Consultations"), 40, current=["staff_surveys."]
    )
    register_audit_labels(services.AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
    from participation.surveys import personal_data  # noqa: F401 - registers its RGPD rules
