"""Accounts for the tests: citizens and staff of a tenant, platform accounts, and clients
signed in as them. Every address is unique to its test (``unique_email``), so that tests
never meet each other's accounts, mails or rate-limit counters."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import sqlalchemy as sa

from core.db import db
from tests.support.clients import client_on, forge_session, platform_client
from tests.support.constants import PASSWORD


def unique_email(prefix: str = "camille") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@exemple.fr"


@functools.cache
def password_hash(password: str) -> str:
    """An Argon2id hash of ``password``, computed once per process: hashing costs a tenth of
    a second by design, and the factories below make hundreds of accounts. (Logging in still
    verifies the hash as in production; accounts made by the app's own services are hashed by
    them.)"""
    from core.security.passwords import hash_password

    return hash_password(password)


@dataclass
class Person:
    id: int
    email: str
    display_name: str
    session_version: int
    secret: str | None
    role: str | None


def create_person(
    app,
    tenant,
    role: str | None = None,
    *,
    email: str | None = None,
    display_name: str | None = None,
    totp: bool = True,
    services: tuple[str, ...] = (),
    password: str = PASSWORD,
) -> Person:
    """A confirmed account (staff when ``role`` is given), terms accepted, TOTP enrolled."""
    from participation.accounts.models import Service, StaffRole, User
    from participation.accounts.services import accept_current_legal_documents
    from tenants.context import tenant_context

    email = email or unique_email(role or "citoyen")
    secret = pyotp.random_base32() if role and totp else None
    with app.app_context(), tenant_context(tenant):
        user = User(
            email=email,
            display_name=display_name or f"{(role or 'citoyen').title()} {email[:12]}",
            password_hash=password_hash(password),
            email_confirmed_at=datetime.now(UTC),
            staff_role=StaffRole(role) if role else None,
            totp_secret=secret,
            totp_enabled=bool(secret),
        )
        db.session.add(user)
        db.session.flush()
        accept_current_legal_documents(user)
        for name in services:
            service = db.session.scalar(sa.select(Service).where(Service.name == name))
            if service is None:
                service = Service(name=name)
                db.session.add(service)
            user.services.append(service)
        db.session.commit()
        return Person(user.id, email, user.display_name, user.session_version, secret, role)


def signed_in(app, tenant, person, verified: bool = True):
    """A client on ``tenant`` whose session is ``person``'s."""
    client = client_on(app, tenant)
    forge_session(client, tenant, person, verified=verified)
    return client


def logged_in(app, tenant, role: str | None, **kwargs):
    """A new person with ``role`` and a client whose session is theirs (second factor given)."""
    person = create_person(app, tenant, role, **kwargs)
    return signed_in(app, tenant, person), person


def create_user(
    app,
    tenant,
    email: str | None = None,
    *,
    password: str = PASSWORD,
    display_name: str = "Camille Martin",
    confirmed: bool = True,
    **attributes,
):
    """A user registered through the account services; returns a detached copy."""
    from participation.accounts import services
    from tenants.context import tenant_context

    email = email or unique_email()
    with app.app_context(), tenant_context(tenant):
        user = services.register_user(
            display_name, email, password, accepted_terms=True, accepted_charter=True
        )
        assert user is not None, f"{email} already has an account"
        if confirmed:
            user.email_confirmed_at = datetime.now(UTC)
        for name, value in attributes.items():
            setattr(user, name, value)
        db.session.flush()
        user_id = user.id
        db.session.commit()
    return load_user(app, tenant, user_id)


def load_user(app, tenant, user_id: int):
    from participation.accounts.models import User
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = db.session.get(User, user_id)
        if user is not None:
            db.session.refresh(user)
            db.session.expunge(user)
        return user


def find_user(app, tenant, email: str):
    from participation.accounts import services
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = services.get_user_by_email(email)
        if user is not None:
            db.session.expunge(user)
        return user


def platform_user(app, role: str, tenant_id: int | None = None, name: str | None = None):
    """A platform account with TOTP enrolled; returns (id, email)."""
    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    email = f"{role}-{uuid.uuid4().hex[:10]}@exemple.fr"
    with app.app_context():
        user = create_platform_user(email, name or f"Camille {role}", role, tenant_id=tenant_id)
        user.password_hash = password_hash(PASSWORD)
        enable_totp_with_secret(user, pyotp.random_base32())
        db.session.commit()
        return user.id, email


def logged_platform(app, role: str, tenant_id: int | None = None):
    """A new platform account with ``role`` and a client signed in as it."""
    user_id, _email = platform_user(app, role, tenant_id)
    return platform_client(app, user_id), user_id
