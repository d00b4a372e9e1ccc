"""Demo staff of the three demo collectivités: services, quartiers, and three accounts.

Idempotent: run it twice, get the same demo. The TOTP secrets are fixed (derived from the
slug and the role) and printed, so a developer can add them to an authenticator app, or
compute a code with ``python -c "import pyotp; print(pyotp.TOTP('SECRET').now())"``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from core import demo
from core.db import db
from core.security.passwords import hash_password, verify_password
from participation.accounts.models import Neighbourhood, Service, StaffRole, User
from participation.accounts.services import accept_current_legal_documents, pending_legal_documents
from tenants.context import tenant_context
from tenants.models import Tenant, TenantStatus

DEMO_PASSWORD = "Pnyx-demo-2026!"  # noqa: S105 - a published demo password, never in production

SERVICES = [
    "Voirie et espaces publics",
    "Culture",
    "Démocratie participative",
    "Urbanisme",
    "Environnement et transition écologique",
    "Jeunesse et sports",
]
AGENT_SERVICE = "Voirie et espaces publics"

NEIGHBOURHOODS = {
    "mulhouse": [
        "Centre-ville",
        "Dornach",
        "Bourtzwiller",
        "Coteaux",
        "Drouot-Barbanègre",
        "Fonderie",
        "Rebberg",
        "Vauban-Neppert",
    ],
    "angers": [
        "Centre-ville",
        "Doutre",
        "Belle-Beille",
        "Monplaisir",
        "La Roseraie",
        "Justices",
        "Lac de Maine",
        "Deux-Croix-Banchais",
    ],
    "saillans": ["Bourg", "Les Chapelains", "Les Samarins", "Rive gauche"],
}

STAFF = [
    (StaffRole.ADMIN, "admin", "Camille Administratrice"),
    (StaffRole.MODERATOR, "moderation", "Dominique Modérateur"),
    (StaffRole.AGENT, "voirie", "Sacha Agent Voirie"),
]


def demo_totp_secret(slug: str, role: StaffRole) -> str:
    digest = hashlib.sha256(f"pnyx-demo-totp:{slug}:{role.value}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def demo_email(slug: str, local_part: str) -> str:
    return f"{local_part}@{slug}.example.fr"


def _seed_services() -> dict[str, Service]:
    existing = {s.name: s for s in db.session.scalars(sa.select(Service))}
    for name in SERVICES:
        if name not in existing:
            service = Service(name=name, email=None)
            db.session.add(service)
            existing[name] = service
    db.session.flush()
    return existing


def _seed_neighbourhoods(slug: str) -> None:
    existing = set(db.session.scalars(sa.select(Neighbourhood.name)))
    for position, name in enumerate(NEIGHBOURHOODS.get(slug, []), start=1):
        if name not in existing:
            db.session.add(Neighbourhood(name=name, position=position))
    db.session.flush()


def _seed_staff_member(
    slug: str, role: StaffRole, local_part: str, name: str, services: dict[str, Service]
) -> tuple[str, str]:
    email = demo_email(slug, local_part)
    secret = demo_totp_secret(slug, role)
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
    if user is None:
        user = User(email=email, display_name=name, email_confirmed_at=datetime.now(UTC))
        db.session.add(user)
    if not verify_password(user.password_hash, DEMO_PASSWORD):
        user.password_hash = hash_password(DEMO_PASSWORD)
    if pending_legal_documents(user):
        accept_current_legal_documents(user)
    user.staff_role = role
    user.is_active_account = True
    user.deleted_at = None
    if user.totp_secret != secret or not user.totp_enabled:
        user.totp_secret = secret
        user.totp_enabled = True
        user.totp_last_step = None
    wanted = [services[AGENT_SERVICE]] if role == StaffRole.AGENT else []
    if sorted(s.name for s in user.services) != sorted(s.name for s in wanted):
        user.services = wanted
    db.session.flush()
    return email, secret


@demo.register(order=40)
def seed_staff():
    slugs = list(NEIGHBOURHOODS)
    tenants = {
        t.slug: t for t in db.session.scalars(sa.select(Tenant).where(Tenant.slug.in_(slugs)))
    }
    ready = {slug: t.id for slug, t in tenants.items() if t.status == TenantStatus.ACTIVE}
    db.session.rollback()
    port = _port()
    for slug in slugs:
        if slug not in ready:
            yield f"staff demo: {slug} is not an active tenant, skipped"
            continue
        with tenant_context(ready[slug]) as tenant:
            services = _seed_services()
            _seed_neighbourhoods(slug)
            accounts = [
                (role, *_seed_staff_member(slug, role, local_part, name, services))
                for role, local_part, name in STAFF
            ]
            db.session.commit()
            yield (
                f"{tenant.name} staff: http://{tenant.primary_host}{port}/gestion/ "
                f"(password {DEMO_PASSWORD})"
            )
            for role, email, secret in accounts:
                yield f"  {role.value:<9} {email:<34} TOTP secret {secret}"


def _port() -> str:
    domain = current_app.config["PLATFORM_DOMAIN"]
    return ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""
