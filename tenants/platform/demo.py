"""Demo platform accounts, with a published TOTP secret (never do this outside a demo)."""

from __future__ import annotations

from flask import current_app

from core import demo
from core.db import db
from core.security.totp import provisioning_uri
from tenants.platform.services import (
    TOTP_ISSUER,
    create_platform_user,
    enable_totp_with_secret,
    get_platform_user_by_email,
)

DEMO_PASSWORD = "Pnyx-demo-2026!"  # noqa: S105 - printed by the seeder, demo only
DEMO_ACCOUNTS = [
    # e-mail, display name, role, TOTP secret (base32, 160 bits)
    (
        "operateur@pnyx.localhost",
        "Opérateur de démonstration",
        "operator",
        "PNYXDEMOOPERATEURPNYXDEMOOPERATE",
    ),
    (
        "coordination@pnyx.localhost",
        "Coordination de démonstration",
        "coordinator",
        "PNYXDEMOCOORDINATIONPNYXDEMOCOOR",
    ),
]


@demo.register(order=20)
def seed_platform_accounts():
    # Also when called on its own: these credentials are public (README).
    demo.refuse_in_production()
    login_url = f"{current_app.config['PREFERRED_URL_SCHEME']}://"
    login_url += f"{current_app.config['PLATFORM_DOMAIN']}/connexion"
    yield f"Platform accounts (log in at {login_url}, password {DEMO_PASSWORD}):"
    for email, name, role, secret in DEMO_ACCOUNTS:
        user = get_platform_user_by_email(email)
        if user is None:
            user = create_platform_user(email, name, role, password=DEMO_PASSWORD)
            enable_totp_with_secret(user, secret)
            db.session.commit()
        yield f"  {role}: {email}"
        if user.totp_enabled and user.totp_secret == secret:
            yield (
                f"    TOTP secret {secret} — add it to an authenticator app (or scan "
                f"{provisioning_uri(secret, email, issuer=TOTP_ISSUER)})"
            )
        else:
            yield "    TOTP: the account enrolled its own authenticator (secret not shown)"
