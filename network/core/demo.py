"""Demo network: the demo collectivités as members, a coordinator, member agents and an
evaluator (published TOTP secrets, demo only). Idempotent: looked up by slug and e-mail.
The sections seed their own content next (``network/library/demo.py``,
``network/forum/demo.py``…), with :func:`demo_members`."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from core import demo
from core.db import db
from network.core.models import (
    MembershipStatus,
    Network,
    NetworkMembership,
    NetworkRole,
    NetworkRoleKind,
)
from tenants.models import Tenant
from tenants.platform.demo import DEMO_PASSWORD
from tenants.platform.models import PlatformUser
from tenants.platform.services import (
    create_platform_user,
    enable_totp_with_secret,
    get_platform_user_by_email,
)

NETWORK_SLUG = "territoires-participatifs"
NETWORK_NAME = "Réseau des territoires participatifs"
COORDINATOR_EMAIL = "coordination@pnyx.localhost"  # created by tenants/platform/demo.py
MEMBER_ACCOUNTS = [
    # tenant slug, e-mail, display name, TOTP secret (base32)
    (
        "mulhouse",
        "mulhouse@reseau.pnyx.localhost",
        "Léa Schmitt (Mulhouse)",
        "PNYXDEMOAGENTMULHOUSEPNYXDEMOAGE",
    ),
    (
        "saillans",
        "saillans@reseau.pnyx.localhost",
        "Hugo Martin (Saillans)",
        "PNYXDEMOAGENTSAILLANSPNYXDEMOAGE",
    ),
    (
        "angers",
        "angers@reseau.pnyx.localhost",
        "Nadia Benali (Angers)",
        "PNYXDEMOAGENTANGERSPNYXDEMOAGENT",
    ),
]
EVALUATOR = (
    "evaluation@reseau.pnyx.localhost",
    "Paul Evrard (évaluation)",
    "PNYXDEMOEVALUATIONPNYXDEMOEVALUA",
)

DESCRIPTION = """Le réseau réunit des collectivités de toutes tailles qui veulent **faire
mieux participer leurs habitants** et apprendre les unes des autres : une bibliothèque de
pratiques (réussites *et* échecs), des engagements suivis, un autodiagnostic annuel et des
indicateurs comparables entre pairs.

Il se retrouve deux fois par an et échange toute l'année sur le forum."""

CHARTER = """1. **Rendre compte** : toute contribution citoyenne reçoit une réponse motivée.
2. **Inclure** : aller vers les publics qui ne viennent pas d'eux-mêmes.
3. **Partager** : documenter ses expériences, y compris celles qui n'ont pas marché.
4. **Mesurer honnêtement** : publier ses indicateurs sans les embellir.
5. **S'entraider** : répondre aux questions des autres membres."""


def _account(email: str, name: str, role: str, secret: str, tenant_id: int | None):
    user = get_platform_user_by_email(email)
    if user is None:
        user = create_platform_user(email, name, role, password=DEMO_PASSWORD, tenant_id=tenant_id)
        enable_totp_with_secret(user, secret)
        db.session.flush()
    return user


def _grant(network: Network, user: PlatformUser, role: NetworkRoleKind) -> None:
    exists = db.session.scalar(
        sa.select(NetworkRole.id).where(
            NetworkRole.network_id == network.id,
            NetworkRole.platform_user_id == user.id,
            NetworkRole.role == role,
        )
    )
    if exists is None:
        db.session.add(NetworkRole(network_id=network.id, platform_user_id=user.id, role=role))


def _member_tenants() -> dict[str, Tenant]:
    return {
        t.slug: t
        for t in db.session.scalars(
            sa.select(Tenant).where(Tenant.slug.in_([slug for slug, *_ in MEMBER_ACCOUNTS]))
        )
    }


def demo_members() -> tuple[
    Network | None, dict[str, Tenant], dict[str | None, PlatformUser | None]
]:
    """The demo network, its member tenants by slug and their agents' accounts by tenant
    slug (the coordination under ``None``), as :func:`seed_network` made them: the
    sub-features' seeders (library, forum) write their content with them."""
    network = db.session.scalar(sa.select(Network).where(Network.slug == NETWORK_SLUG))
    tenants = _member_tenants()
    agents: dict[str | None, PlatformUser | None] = {
        None: get_platform_user_by_email(COORDINATOR_EMAIL)
    }
    for slug, email, *_rest in MEMBER_ACCOUNTS:
        if slug in tenants:
            agents[slug] = get_platform_user_by_email(email)
    return network, tenants, agents


def entries_to_add(model, network: Network, entries: list[dict]) -> list[dict]:
    """The demo ``entries`` whose title ``model`` does not hold for ``network`` yet: a
    section's seeder adds only those (idempotent)."""
    known = set(db.session.scalars(sa.select(model.title).where(model.network_id == network.id)))
    return [entry for entry in entries if entry["title"] not in known]


@demo.register(order=90)
def seed_network():
    tenants = _member_tenants()
    network = db.session.scalar(sa.select(Network).where(Network.slug == NETWORK_SLUG))
    if network is None:
        network = Network(
            slug=NETWORK_SLUG,
            name=NETWORK_NAME,
            description=DESCRIPTION,
            charter=CHARTER,
            public_sections=["members", "library", "benchmarks"],
        )
        db.session.add(network)
        db.session.flush()
    for tenant in tenants.values():
        membership = db.session.scalar(
            sa.select(NetworkMembership).where(
                NetworkMembership.network_id == network.id,
                NetworkMembership.tenant_id == tenant.id,
            )
        )
        if membership is None:
            db.session.add(
                NetworkMembership(
                    network_id=network.id,
                    tenant_id=tenant.id,
                    status=MembershipStatus.ACTIVE,
                    responded_at=sa.func.now(),
                )
            )
    coordinator = get_platform_user_by_email(COORDINATOR_EMAIL)
    if coordinator is not None:
        _grant(network, coordinator, NetworkRoleKind.COORDINATOR)
    agents: dict[str | None, PlatformUser | None] = {None: coordinator}
    for slug, email, name, secret in MEMBER_ACCOUNTS:
        if slug in tenants:
            agents[slug] = _account(email, name, "member", secret, tenants[slug].id)
    evaluator = _account(EVALUATOR[0], EVALUATOR[1], "coordinator", EVALUATOR[2], None)
    _grant(network, evaluator, NetworkRoleKind.EVALUATOR)
    db.session.commit()

    base = f"{current_app.config['PREFERRED_URL_SCHEME']}://{current_app.config['PLATFORM_DOMAIN']}"
    yield f"Network « {NETWORK_NAME} »: {base}/reseaux/{NETWORK_SLUG}"
    yield f"  coordinator: {COORDINATOR_EMAIL}; evaluator: {EVALUATOR[0]} (TOTP {EVALUATOR[2]})"
    for slug, email, _name, secret in MEMBER_ACCOUNTS:
        if slug in tenants:
            yield f"  member for {slug}: {email} (password {DEMO_PASSWORD}, TOTP {secret})"
