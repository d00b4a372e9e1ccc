"""Tenant accounts: citizens and the collectivité's staff, in the tenant's schema."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation
from core.routing import TENANT_SITE


def init_app(app: Flask) -> None:
    """Register the account pages on the tenant site (idempotent)."""
    # Imported for their side effects: the provisioning hook that inserts the default terms
    # and charter, and the demo seeder.
    from participation.accounts import demo, legal  # noqa: F401
    from participation.accounts.views import bp

    if "accounts.login" in app.view_functions:
        return
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    navigation.register_nav_entry(
        app, "tenant", "accounts.profile", _l("Mon compte"), 70, visible=navigation.signed_in
    )
    from participation.accounts import retention

    retention.init_app(app)  # last_seen_at, once a day per user
    from core.cli import register_sweep

    register_sweep(app, _sweep_stuck_exports)


def _sweep_stuck_exports() -> str:
    """``flask jobs sweep``: RGPD exports interrupted mid-build are built again."""
    from participation.accounts.export_sweep import sweep_stuck_exports_now

    return f"exports: {sweep_stuck_exports_now()}"
