"""Platform accounts (public schema): operators, network coordinators and network members.

They log in on the platform domain only, with a password and a mandatory TOTP second
factor, in their own realm (``p:<id>:<version>`` session ids, the platform session salt).
The operator console's home lists the tenants; the platform site's home page is
``site_views``. This is the tenancy's layer: the accounts name tenants, and the features
above (billing, network) build their platform pages on ``views.roles_required``.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core import navigation


def init_app(app: Flask) -> None:
    from core.security.auth import Realm, register_realm
    from tenants.platform import (
        demo,  # noqa: F401 - registers the demo seeder
        personal_data,  # noqa: F401 - registers its RGPD rules
    )
    from tenants.platform.cli import platform_cli
    from tenants.platform.models import PlatformUser, PlatformUserSession
    from tenants.platform.site_views import bp as site_bp
    from tenants.platform.views import bp, load_platform_user

    # The platform site: no subdomain marker (tenant blueprints use subdomain="tenant"). Its
    # home page first, then the accounts' pages.
    app.register_blueprint(site_bp)
    app.register_blueprint(bp)
    register_realm(
        Realm(
            name="platform",
            load=load_platform_user,
            login_view="platform_accounts.login",
            two_factor_view="platform_accounts.two_factor",
            enrol_view="platform_accounts.two_factor_enrol",
            user_model=PlatformUser,
            session_model=PlatformUserSession,
        )
    )
    app.cli.add_command(platform_cli)
    navigation.register_nav_entry(
        app,
        "platform",
        "platform_accounts.operator_home",
        _l("Console opérateur"),
        20,
        visible=lambda user: getattr(user, "role", None) == "operator",
    )


def _remove_member_accounts(tenant) -> None:
    """A member account represents one tenant: it goes with the tenant."""
    import sqlalchemy as sa

    from core.db import db
    from tenants.platform.models import PlatformUser

    db.session.execute(sa.delete(PlatformUser).where(PlatformUser.tenant_id == tenant.id))


def _register_drop_hook() -> None:
    from tenants.lifecycle import before_drop_hooks

    if _remove_member_accounts not in before_drop_hooks:
        before_drop_hooks.append(_remove_member_accounts)


_register_drop_hook()
