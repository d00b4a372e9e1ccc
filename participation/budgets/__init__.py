"""Participatory budgets: projects, analysis, vote, results, follow-up.

Public pages under ``/budgets-participatifs`` (blueprint ``budgets``), staff pages under
``/gestion/budgets`` (blueprint ``staff_budgets``). ``init_app`` registers both on the tenant
site, the helpers the process page uses, the audit labels and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

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


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder (idempotent)."""
    from participation.budgets import (
        demo,  # noqa: F401 - registers its seeder
        opendata,  # noqa: F401 - registers its open-data datasets
        personal_data,  # noqa: F401 - registers its RGPD rules
        services,
    )
    from participation.budgets.views import bp, staff_bp

    if "budgets.index" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    # For templates/budgets/_process_section.html and _phase_summary.html.
    app.jinja_env.globals["budget_summary"] = services.process_budgets
    app.jinja_env.globals["budget_phase_label"] = services.phase_label
    app.jinja_env.filters["euros"] = services.euros
    app.jinja_env.filters["budget_status_label"] = services.status_label
    _label_audit_actions()


def _label_audit_actions() -> None:
    try:
        from participation.staff import views as staff_views
    except ImportError:  # pragma: no cover
        return
    for action, label in AUDIT_ACTION_LABELS.items():
        staff_views.ACTION_LABELS.setdefault(action, label)
    staff_views.TARGET_LABELS.setdefault("budget", _l("Budget participatif"))
    staff_views.TARGET_LABELS.setdefault("budget_project", _l("Projet de budget participatif"))
    staff_views.TARGET_LABELS.setdefault("budget_eligibility", _l("Inscription au vote"))
