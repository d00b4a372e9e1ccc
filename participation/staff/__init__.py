"""The staff side of a collectivité's space: roles, invitations, second factor, services,
quartiers, audit log and branding (pages under /gestion, the theme at /theme.css).

``init_app`` also fills the registries this package shares with the features: the staff
home's cards (``participation.staff.home``), the menus (``core.navigation``) and the names of
its audit-log actions (``core.audit``)."""

from __future__ import annotations

from functools import partial

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.audit import register_audit_labels

AUDIT_ACTION_LABELS = {
    "staff.invitation_created": _l("Invitation envoyée"),
    "staff.invitation_revoked": _l("Invitation annulée"),
    "staff.invitation_accepted": _l("Invitation acceptée"),
    "staff.member_updated": _l("Rôle ou services modifiés"),
    "staff.member_removed": _l("Membre retiré de l'équipe"),
    "staff.service_created": _l("Service créé"),
    "staff.service_updated": _l("Service modifié"),
    "staff.service_deleted": _l("Service supprimé"),
    "staff.neighbourhood_created": _l("Quartier ajouté"),
    "staff.neighbourhood_updated": _l("Quartier modifié"),
    "staff.neighbourhood_deleted": _l("Quartier supprimé"),
    "staff.settings_updated": _l("Paramètres modifiés"),
    "staff.two_factor_enrolled": _l("Double authentification activée"),
    "staff.recovery_codes_regenerated": _l("Codes de secours régénérés"),
    "staff.login": _l("Connexion à l'administration"),
    "staff.two_factor_failed": _l("Code de vérification refusé"),
}
AUDIT_TARGET_LABELS = {
    "user": _l("Compte"),
    "invitation": _l("Invitation"),
    "service": _l("Service"),
    "neighbourhood": _l("Quartier"),
    "settings": _l("Paramètres"),
}


def init_app(app: Flask) -> None:
    from participation.staff import (  # noqa: F401 - demo registers its seeder
        branding,
        demo,
        personal_data,  # noqa: F401 - registers its RGPD rules
    )
    from participation.staff.tasks import enqueue_first_admin_invitation
    from participation.staff.views import bp
    from tenants.signals import first_admin_named

    # The tenancy names a new space's first administrator; the staff side invites them.
    first_admin_named.connect(enqueue_first_admin_invitation)
    if "staff" in app.blueprints:
        return  # already set up (the lead's init and a test fixture may both call this)
    app.register_blueprint(bp)  # subdomain=TENANT_SITE is set on the blueprint
    branding.init_app(app)
    register_audit_labels(AUDIT_ACTION_LABELS, AUDIT_TARGET_LABELS)
    _register_links(app)


def _register_links(app: Flask) -> None:
    from participation.accounts.models import StaffRole
    from participation.staff.home import register_staff_card
    from participation.staff.permissions import is_staff_member, role_allows

    admin = partial(role_allows, roles=(StaffRole.ADMIN,))
    navigation.register_nav_entry(
        app, "tenant", "staff.home", _l("Administration"), 60, visible=is_staff_member
    )

    # The staff menu: the home first, the features' pages (10 to 100), then the space's
    # administration (admins only) and the member's own security last.
    def staff_link(endpoint, label, order, visible=None, current=()):
        navigation.register_nav_entry(
            app, "staff", endpoint, label, order, visible=visible, current=current
        )

    staff_link("staff.home", _l("Tableau de bord"), 0)
    staff_link(
        "staff.team", _l("Équipe"), 110, admin, ("staff.team", "staff.invite", "staff.edit_member")
    )
    staff_link(
        "staff.services_list",
        _l("Services"),
        120,
        admin,
        ("staff.services_list", "staff.edit_service"),
    )
    staff_link(
        "staff.neighbourhoods",
        _l("Quartiers"),
        130,
        admin,
        ("staff.neighbourhoods", "staff.edit_neighbourhood"),
    )
    staff_link("staff.settings", _l("Paramètres"), 140, admin)
    staff_link("staff.audit_log", _l("Journal des actions"), 150, admin)
    staff_link("staff.two_factor_enrol", _l("Sécurité du compte"), 160)

    card = partial(register_staff_card, app)
    card("staff.team", _l("Gérer l'équipe et inviter des personnes"), 10, visible=admin)
    card("staff.services_list", _l("Gérer les services de la collectivité"), 20, visible=admin)
    card("staff.neighbourhoods", _l("Gérer la liste des quartiers"), 30, visible=admin)
    card(
        "staff.settings",
        _l("Personnaliser l'espace (nom, logo, couleur, contact RGPD)"),
        40,
        visible=admin,
    )
    card("staff.audit_log", _l("Consulter le journal des actions"), 50, visible=admin)
    card(
        "staff.two_factor_enrol",
        _l("Sécurité de mon compte (double authentification, codes de secours)"),
        60,
    )
    card("participation.home", _l("Voir l'espace public"), 70)
