"""Networks of collectivités for the tests: a network with members and pending invitations,
a membership's status, the platform audit log. Platform accounts and their clients are in
tests/support/people.py and clients.py."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from core.db import db


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
