"""Participatory budgets: projects, analysis, vote, results, follow-up.

Public pages under ``/budgets-participatifs`` (blueprint ``budgets``), staff pages under
``/gestion/budgets`` (blueprint ``staff_budgets``). ``init_app`` registers both on the tenant
site, the sections of the process page, the menus' links, the audit labels and the demo
seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels
from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "budgets.created": _l("Budget participatif créé"),
    "budgets.updated": _l("Budget participatif modifié"),
    "budgets.published": _l("Budget participatif publié"),
    "budgets.project_analysed": _l("Projet de budget participatif analysé"),
    "budgets.census_imported": _l("Liste des habitants importée (budget participatif)"),
    "budgets.eligibility_approved": _l("Inscription au vote validée"),
    "budgets.eligibility_rejected": _l("Inscription au vote refusée"),
    "budgets.paper_ballot_recorded": _l("Bulletin papier enregistré"),
    "budgets.progress_updated": _l("Avancement d'un projet modifié"),
    "budgets.milestone_added": _l("Étape de réalisation ajoutée"),
    "budgets.milestone_done": _l("Étape de réalisation terminée"),
    "budgets.milestone_reopened": _l("Étape de réalisation rouverte"),
    "budgets.update_posted": _l("Actualité de réalisation publiée"),
}
AUDIT_TARGET_LABELS = {
    "budget": _l("Budget participatif"),
    "budget_project": _l("Projet de budget participatif"),
    "budget_eligibility": _l("Inscription au vote"),
}


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder (idempotent)."""
    from participation.budgets import (
        demo,  # noqa: F401 - registers its seeder
        opendata,  # noqa: F401 - registers its open-data datasets
        personal_data,  # noqa: F401 - registers its RGPD rules
        services,
    )
    from participation.budgets.views import bp, staff_bp
    from participation.processes.sections import register_phase_summary, register_process_section

    if "budgets.index" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    register_process_section(
        app, "budgets", "budgets/_process_section.html", 40, services.process_budgets
    )
    # The phase's kind decides whether there is anything to say (the template checks it).
    register_phase_summary(
        app,
        "budgets",
        "budgets/_phase_summary.html",
        30,
        lambda process, _phase: services.process_budgets(process),
    )
    app.jinja_env.globals["budget_phase_label"] = services.phase_label
    app.jinja_env.filters["euros"] = services.euros
    app.jinja_env.filters["budget_status_label"] = services.status_label
    navigation.register_nav_entry(app, "tenant", "budgets.index", _l("Budgets participatifs"), 30)
    navigation.register_nav_entry(
        app,
        "staff",
        "staff_budgets.index",
        _l("Budgets participatifs"),
        50,
        current=["staff_budgets."],
    )
    register_audit_labels(AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
