"""Fixtures of the network tests: logged-in platform accounts (operator, coordinator,
member of a tenant), networks with members, and the tenants' staff admins.

Platform sessions are forged as a finished log-in with the second factor would leave them
(``p:<id>:<version>``, ``pnyx_2fa``): the log-in itself is tested in tests/core.
"""

from __future__ import annotations

import uuid

import pyotp
import pytest
import sqlalchemy as sa

from core.db import db
from tests.conftest import PLATFORM
from tests.helpers import host_client
from tests.participation.staff_fixtures import (
    client_on,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    random_address,
)

PASSWORD = "Ornithorynque-Cardamome-1847"


@pytest.fixture(scope="session")
def net_app(app, smtp_server):
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    return app


def platform_user(app, role: str, tenant_id: int | None = None, name: str | None = None):
    """A platform account with TOTP enrolled; returns (id, email)."""
    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    email = f"{role}-{uuid.uuid4().hex[:10]}@exemple.fr"
    with app.app_context():
        user = create_platform_user(
            email, name or f"Camille {role}", role, password=PASSWORD, tenant_id=tenant_id
        )
        enable_totp_with_secret(user, pyotp.random_base32())
        db.session.commit()
        return user.id, email


def platform_client(app, user_id: int | None = None, verified: bool = True):
    """A client on the platform host, logged in as ``user_id`` (anonymous if None)."""
    client = host_client(app, PLATFORM)
    client.environ_base["REMOTE_ADDR"] = random_address()
    if user_id is not None:
        from core.security.auth import SESSION_RECORD_KEY, issue_session_token
        from tenants.platform.models import PlatformUser

        with app.app_context():
            version = db.session.get(PlatformUser, user_id).session_version
            token = issue_session_token("platform", user_id)
        with client.session_transaction(base_url=client.base_url) as sess:
            sess["_user_id"] = f"p:{user_id}:{version}"
            sess[SESSION_RECORD_KEY] = token
            sess["_fresh"] = True
            sess["pnyx_2fa"] = verified
    return client


def logged_platform(app, role: str, tenant_id: int | None = None):
    user_id, _email = platform_user(app, role, tenant_id)
    return platform_client(app, user_id), user_id


def post_platform(client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_for(client), **(data or {})}, **kwargs)


def make_network(
    app,
    *,
    members=(),
    invited=(),
    public_sections=("members",),
    coordinator_id: int | None = None,
    evaluator_id: int | None = None,
    name: str | None = None,
) -> dict:
    """A network with active member tenants and pending invitations; returns its facts."""
    from network.core.models import (
        MembershipStatus,
        Network,
        NetworkMembership,
        NetworkRole,
        NetworkRoleKind,
    )

    slug = f"reseau-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        network = Network(
            slug=slug,
            name=name or f"Réseau {slug}",
            description="Un **réseau** de test.",
            charter="Charte de test.",
            public_sections=list(public_sections),
        )
        db.session.add(network)
        db.session.flush()
        for tenant in members:
            db.session.add(
                NetworkMembership(
                    network_id=network.id, tenant_id=tenant.id, status=MembershipStatus.ACTIVE
                )
            )
        for tenant in invited:
            db.session.add(
                NetworkMembership(
                    network_id=network.id, tenant_id=tenant.id, status=MembershipStatus.INVITED
                )
            )
        for user_id, role in ((coordinator_id, "coordinator"), (evaluator_id, "evaluator")):
            if user_id is not None:
                db.session.add(
                    NetworkRole(
                        network_id=network.id,
                        platform_user_id=user_id,
                        role=NetworkRoleKind(role),
                    )
                )
        db.session.commit()
        return {"id": network.id, "slug": slug, "name": network.name}


def membership_status(app, network_id: int, tenant_id: int) -> str | None:
    with app.app_context():
        value = db.session.scalar(
            sa.text(
                "SELECT status FROM public.network_memberships "
                "WHERE network_id = :n AND tenant_id = :t"
            ),
            {"n": network_id, "t": tenant_id},
        )
        return value


def platform_audit(app, action: str) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT actor_id, target_id, details FROM public.platform_audit_log "
                "WHERE action = :a ORDER BY id"
            ),
            {"a": action},
        )
        return [dict(row._mapping) for row in rows]


@pytest.fixture
def member_tenant(net_app, make_tenant):
    tenant = make_tenant()
    ensure_legal_documents(net_app, tenant)
    return tenant


__all__ = [
    "client_on",
    "forge_session",
    "logged_platform",
    "make_network",
    "membership_status",
    "platform_audit",
    "platform_client",
    "platform_user",
    "post_platform",
]
