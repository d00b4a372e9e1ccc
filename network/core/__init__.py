"""Networks, membership and the network pages (the sections build on them).

Platform-domain pages (no subdomain marker): ``/reseaux`` (list), ``/reseaux/<slug>``
(presentation, members and map, coordination), ``/operateur/reseaux`` (operator). The
tenant's side lives on the tenant host under ``/gestion/reseaux`` (``staff_network``).
The sections (practice library, forum, commitments, diagnostic, benchmarks) are packages
of their own, registered by ``network.init_app`` after this one: they build on it, it
never imports them.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels
from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "network.invitation_accepted": _l("Invitation d'un réseau acceptée"),
    "network.invitation_declined": _l("Invitation d'un réseau déclinée"),
    "network.left": _l("Réseau quitté"),
    "network.practice_adopted": _l("Pratique d'un réseau adoptée (démarche en brouillon)"),
}
AUDIT_TARGET_LABELS = {"network": _l("Réseau")}


MEMBERSHIP_STATUS_LABELS = {
    "invited": _l("Invitée"),
    "active": _l("Membre"),
    "declined": _l("A décliné"),
    "left": _l("A quitté le réseau"),
}


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
    if "network.index" in app.view_functions:
        return
    from flask_login import current_user

    from network.core import (
        access,
        personal_data,  # noqa: F401 - registers its RGPD rules
    )
    from network.core.staff_views import staff_bp
    from network.core.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    app.jinja_env.globals["network_can_view"] = lambda network, section: access.can_view(
        current_user, network, section
    )
    app.jinja_env.globals["membership_status_label"] = lambda status: str(
        MEMBERSHIP_STATUS_LABELS.get(status, status)
    )
    app.jinja_env.globals["my_networks"] = lambda: access.networks_of(current_user)
    app.jinja_env.globals["network_can_manage"] = lambda network: access.can_manage(
        current_user, network
    )

    from network.core import demo  # noqa: F401 - registers the demo seeder

    navigation.register_nav_entry(app, "platform", "network.index", _l("Réseaux"), 10)
    navigation.register_nav_entry(
        app, "staff", "staff_network.index", _l("Réseaux"), 80, current=["staff_network."]
    )
    register_audit_labels(AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
