"""Public meetings: registration, waiting list, reminders, .ics, minutes.

Public pages: ``/reunions`` and ``/reunions/<id>`` (registration, ``.ics``); staff pages
under ``/gestion/reunions``. ``init_app`` registers both blueprints, the process page's
sections (templates/meetings/_process_section.html, _phase_summary.html), the menus' links,
the audit labels, the ``flask meetings`` commands and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels
from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "meetings.created": _l("Réunion publique créée"),
    "meetings.updated": _l("Réunion publique modifiée"),
    "meetings.published": _l("Réunion publique publiée"),
    "meetings.cancelled": _l("Réunion publique annulée"),
    "meetings.minutes_saved": _l("Compte rendu de réunion enregistré"),
    "meetings.proposal_entered": _l("Proposition saisie lors d'une réunion"),
}
AUDIT_TARGET_LABELS = {"meeting": _l("Réunion publique")}


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
    from participation.processes.sections import register_phase_summary, register_process_section

    if "meetings.index" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    register_process_section(
        app,
        "meetings",
        "meetings/_process_section.html",
        50,
        lambda process: services.meetings_of_process(process.id),
    )
    register_phase_summary(
        app,
        "meetings",
        "meetings/_phase_summary.html",
        40,
        lambda _process, phase: services.meetings_of_process(phase.process_id, phase.id),
    )
    app.jinja_env.globals["meeting_when"] = services.when_text
    tasks.init_app(app)
    navigation.register_nav_entry(app, "tenant", "meetings.index", _l("Réunions"), 40)
    navigation.register_nav_entry(
        app, "staff", "staff_meetings.index", _l("Réunions"), 60, current=["staff_meetings."]
    )
    register_audit_labels(AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
