"""The staff side of a collectivité's space: roles, invitations, second factor, services,
quartiers, audit log and branding (pages under /gestion, the theme at /theme.css)."""

from __future__ import annotations

from flask import Flask


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
