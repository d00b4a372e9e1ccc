"""Practice library of a network: ``/reseaux/<slug>/pratiques`` (blueprint
``network_library``), with attachments, comments, French full-text search and the adoption
of a process template by a member territory (``network.library.tasks``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from network.library import (  # noqa: F401 - they register their rules and seeder
        demo,
        personal_data,
    )
    from network.library.views import bp
    from participation.processes.services import ACTION_LABELS

    if "network_library.index" in app.view_functions:
        return
    app.register_blueprint(bp)
    app.jinja_env.globals["phase_kind_label"] = _kind_label
    app.jinja_env.globals["adopted_process_url"] = _adopted_process_url
    app.jinja_env.filters["network_action_label"] = lambda action: str(
        ACTION_LABELS.get(action, action)
    )


def _kind_label(kind: str) -> str:
    from participation.processes.models import PhaseKind
    from participation.processes.services import PHASE_KIND_LABELS

    try:
        return str(PHASE_KIND_LABELS[PhaseKind(kind)])
    except ValueError:
        return kind


def _adopted_process_url(adoption) -> str | None:
    """The draft's staff page on the adopting tenant's host (None while it is not made)."""
    from tenants.urls import tenant_url

    if adoption.process_id is None or adoption.tenant is None:
        return None
    try:
        return tenant_url(adoption.tenant, "staff_processes.show", process_id=adoption.process_id)
    except Exception:  # noqa: BLE001 - a link is a convenience: never break the page for it
        return None
