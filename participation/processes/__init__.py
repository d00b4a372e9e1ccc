"""Participatory processes ("démarches") and their phases: the public pages (``/demarches``)
and the staff pages (``/gestion/demarches``, ``/gestion/themes``)."""

from __future__ import annotations

from flask import Flask

from core.routing import TENANT_SITE


def init_app(app: Flask) -> None:
    """Register the process pages on the tenant site (idempotent)."""
    from participation.processes import (
        demo,  # noqa: F401 - registers its seeder
        personal_data,  # noqa: F401 - registers its RGPD rules
        targets,  # noqa: F401 - registers what engagement may point at
    )
    from participation.processes.views import bp, staff_bp

    if "processes.index" in app.view_functions:
        return  # already set up (the lead's init and a test fixture may both call this)
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    _label_audit_actions()


def _label_audit_actions() -> None:
    """Give the staff audit log French names for our actions and targets."""
    from participation.processes.services import AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS
    from participation.staff import views as staff_views

    for action, label in AUDIT_ACTION_LABELS.items():
        staff_views.ACTION_LABELS.setdefault(action, label)
    for target, label in AUDIT_TARGET_LABELS.items():
        staff_views.TARGET_LABELS.setdefault(target, label)
