"""Participatory processes ("démarches") and their phases: the public pages (``/demarches``)
and the staff pages (``/gestion/demarches``, ``/gestion/themes``).

The process page takes sections from the other features: ``participation.processes.sections``
is their registry, which ``init_app`` installs."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels
from core.routing import TENANT_SITE


def init_app(app: Flask) -> None:
    """Register the process pages on the tenant site (idempotent)."""
    from participation.processes import (
        demo,  # noqa: F401 - registers its seeder
        opendata,  # noqa: F401 - registers its open-data datasets
        personal_data,  # noqa: F401 - registers its RGPD rules
        sections,
        targets,  # noqa: F401 - registers what engagement may point at
    )
    from participation.processes.services import AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS
    from participation.processes.views import bp, staff_bp

    if "processes.index" in app.view_functions:
        return  # already set up (the lead's init and a test fixture may both call this)
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    sections.init_app(app)
    navigation.register_nav_entry(app, "tenant", "processes.index", _l("Démarches"), 10)
    navigation.register_nav_entry(
        app, "staff", "staff_processes.index", _l("Démarches"), 10, current=["staff_processes."]
    )
    register_audit_labels(AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
