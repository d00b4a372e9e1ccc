"""Public meetings: registration, waiting list, reminders, .ics, minutes.

Public pages: ``/reunions`` and ``/reunions/<id>`` (registration, ``.ics``); staff pages
under ``/gestion/reunions``. ``init_app`` registers both blueprints, the helpers of the
process page's sections (templates/meetings/_process_section.html, _phase_summary.html),
the ``flask meetings`` commands and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "meetings.created": _l("Réunion publique créée"),
    "meetings.updated": _l("Réunion publique modifiée"),
    "meetings.published": _l("Réunion publique publiée"),
    "meetings.cancelled": _l("Réunion publique annulée"),
    "meetings.minutes_saved": _l("Compte rendu de réunion enregistré"),
    "meetings.proposal_entered": _l("Proposition saisie lors d'une réunion"),
}


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder (idempotent)."""
    from participation.meetings import (
        demo,  # noqa: F401 - registers its seeder
        opendata,  # noqa: F401 - registers its open-data datasets
        personal_data,  # noqa: F401 - registers its RGPD rules
        services,
        tasks,
    )
    from participation.meetings.views import bp, staff_bp

    if "meetings.index" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    app.jinja_env.globals["meetings_of_process"] = services.meetings_of_process
    app.jinja_env.globals["meeting_when"] = services.when_text
    tasks.init_app(app)
    _label_audit_actions()


def _label_audit_actions() -> None:
    try:
        from participation.staff import views as staff_views
    except ImportError:  # pragma: no cover - the staff package is part of the product
        return
    for action, label in AUDIT_ACTION_LABELS.items():
        staff_views.ACTION_LABELS.setdefault(action, label)
    staff_views.TARGET_LABELS.setdefault("meeting", _l("Réunion publique"))
