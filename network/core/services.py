"""Networks and memberships: the rules (services add and flush, never commit).

Platform-side actions (operator, coordinator) go to the platform audit log; the tenant-side
answers (accept, decline, leave) go to the tenant's own audit log, by the calling view.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from core.db import db
from network.core.models import (
    SECTION_KEYS,
    MembershipError,
    MembershipStatus,
    Network,
    NetworkMembership,
    NetworkRole,
    NetworkRoleKind,
)
from tenants.models import Tenant, TenantStatus
from tenants.platform.models import PlatformRole, PlatformUser
from tenants.platform.services import record_platform_action


class NetworkError(ValueError):
    """A rule of the network layer was broken; the message is French, for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,78}[a-z0-9])?$")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].strip("-")


# --------------------------------------------------------------------------- networks


@dataclass
class NetworkFields:
    name: str
    description: str
    charter: str
    slug: str | None = None


def _clean_network(fields: NetworkFields, network: Network | None) -> dict:
    name = " ".join((fields.name or "").split())
    if not name:
        raise NetworkError(_("Indiquez le nom du réseau."), "name")
    if len(name) > 200:
        raise NetworkError(_("Le nom ne peut pas dépasser 200 caractères."), "name")
    values = {
        "name": name,
        "description": (fields.description or "").strip(),
        "charter": (fields.charter or "").strip(),
    }
    if network is None:
        slug = (fields.slug or "").strip().lower() or slugify(name)
        if not SLUG_RE.fullmatch(slug):
            raise NetworkError(
                _("L'adresse ne peut contenir que des lettres minuscules, chiffres et tirets."),
                "slug",
            )
        if db.session.scalar(sa.select(Network.id).where(Network.slug == slug)):
            raise NetworkError(_("Un réseau utilise déjà cette adresse."), "slug")
        values["slug"] = slug
    return values


def create_network(fields: NetworkFields, actor: PlatformUser) -> Network:
    network = Network(public_sections=["members"], **_clean_network(fields, None))
    db.session.add(network)
    db.session.flush()
    record_platform_action(
        "network.created", actor.id, "network", network.id, slug=network.slug, name=network.name
    )
    return network


def update_network(network: Network, fields: NetworkFields, actor: PlatformUser) -> list[str]:
    values = _clean_network(fields, network)
    changed = [key for key, value in values.items() if getattr(network, key) != value]
    for key in changed:
        setattr(network, key, values[key])
    if changed:
        db.session.flush()
        record_platform_action(
            "network.updated", actor.id, "network", network.id, fields=sorted(changed)
        )
    return changed


def set_public_sections(network: Network, sections: list[str], actor: PlatformUser) -> None:
    cleaned = [key for key in SECTION_KEYS if key in set(sections or [])]
    if cleaned == list(network.public_sections or []):
        return
    network.public_sections = cleaned
    db.session.flush()
    record_platform_action(
        "network.public_sections_set", actor.id, "network", network.id, sections=cleaned
    )


def all_networks() -> list[Network]:
    return list(db.session.scalars(sa.select(Network).order_by(Network.name)))


def member_counts() -> dict[int, int]:
    rows = db.session.execute(
        sa.select(NetworkMembership.network_id, sa.func.count())
        .where(NetworkMembership.status == MembershipStatus.ACTIVE)
        .group_by(NetworkMembership.network_id)
    )
    return dict(rows.all())


# --------------------------------------------------------------------------- roles


def role_holders(network: Network, role: NetworkRoleKind) -> list[PlatformUser]:
    return list(
        db.session.scalars(
            sa.select(PlatformUser)
            .join(NetworkRole, NetworkRole.platform_user_id == PlatformUser.id)
            .where(NetworkRole.network_id == network.id, NetworkRole.role == role)
            .order_by(PlatformUser.display_name)
        )
    )


def eligible_for_role(role: NetworkRoleKind) -> list[PlatformUser]:
    """Coordinators are coordinator accounts; evaluators may be coordinator or member ones."""
    roles = (
        [PlatformRole.COORDINATOR]
        if role == NetworkRoleKind.COORDINATOR
        else [PlatformRole.COORDINATOR, PlatformRole.MEMBER]
    )
    return list(
        db.session.scalars(
            sa.select(PlatformUser)
            .where(PlatformUser.role.in_(roles), PlatformUser.is_active.is_(True))
            .order_by(PlatformUser.display_name)
        )
    )


def grant_role(
    network: Network, user: PlatformUser, role: NetworkRoleKind, actor: PlatformUser
) -> NetworkRole:
    if user is None or not user.is_active:
        raise NetworkError(_("Ce compte n'existe pas ou est désactivé."), "user_id")
    if user not in eligible_for_role(role):
        raise NetworkError(_("Ce compte ne peut pas recevoir ce rôle."), "user_id")
    existing = db.session.scalar(
        sa.select(NetworkRole).where(
            NetworkRole.network_id == network.id,
            NetworkRole.platform_user_id == user.id,
            NetworkRole.role == role,
        )
    )
    if existing is not None:
        raise NetworkError(_("Ce compte a déjà ce rôle dans le réseau."), "user_id")
    granted = NetworkRole(network_id=network.id, platform_user_id=user.id, role=role)
    db.session.add(granted)
    db.session.flush()
    record_platform_action(
        "network.role_granted",
        actor.id,
        "network",
        network.id,
        user_id=user.id,
        role=role.value,
    )
    return granted


def revoke_role(network: Network, user_id: int, role: NetworkRoleKind, actor: PlatformUser) -> None:
    granted = db.session.scalar(
        sa.select(NetworkRole).where(
            NetworkRole.network_id == network.id,
            NetworkRole.platform_user_id == user_id,
            NetworkRole.role == role,
        )
    )
    if granted is None:
        raise NetworkError(_("Ce compte n'a pas ce rôle dans le réseau."))
    db.session.delete(granted)
    db.session.flush()
    record_platform_action(
        "network.role_revoked", actor.id, "network", network.id, user_id=user_id, role=role.value
    )


# --------------------------------------------------------------------------- memberships


def memberships(network: Network, statuses: tuple[MembershipStatus, ...] | None = None):
    query = (
        sa.select(NetworkMembership)
        .join(Tenant, Tenant.id == NetworkMembership.tenant_id)
        .where(NetworkMembership.network_id == network.id)
        .order_by(Tenant.name)
    )
    if statuses:
        query = query.where(NetworkMembership.status.in_(statuses))
    return list(db.session.scalars(query))


def active_members(network: Network) -> list[Tenant]:
    return list(
        db.session.scalars(
            sa.select(Tenant)
            .join(NetworkMembership, NetworkMembership.tenant_id == Tenant.id)
            .where(
                NetworkMembership.network_id == network.id,
                NetworkMembership.status == MembershipStatus.ACTIVE,
            )
            .order_by(Tenant.name)
        )
    )


def search_tenants(network: Network, query: str, limit: int = 20) -> list[Tenant]:
    """Active tenants by name, INSEE code or slug, excluding current members and invitees."""
    words = " ".join((query or "").split())[:100]
    if len(words) < 2:
        return []
    taken = sa.select(NetworkMembership.tenant_id).where(
        NetworkMembership.network_id == network.id,
        NetworkMembership.status.in_((MembershipStatus.ACTIVE, MembershipStatus.INVITED)),
    )
    pattern = "%" + words.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return list(
        db.session.scalars(
            sa.select(Tenant)
            .where(
                Tenant.status.in_((TenantStatus.ACTIVE, TenantStatus.SUSPENDED)),
                Tenant.id.not_in(taken),
                sa.or_(
                    Tenant.name.ilike(pattern),
                    Tenant.code == words,
                    Tenant.slug == words.lower(),
                ),
            )
            .order_by(Tenant.population.desc(), Tenant.name)
            .limit(limit)
        )
    )


def invite_tenant(network: Network, tenant_id: int, actor: PlatformUser) -> NetworkMembership:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or tenant.status not in (TenantStatus.ACTIVE, TenantStatus.SUSPENDED):
        raise NetworkError(_("Cette collectivité n'a pas d'espace actif sur la plateforme."))
    membership = db.session.scalar(
        sa.select(NetworkMembership)
        .where(NetworkMembership.network_id == network.id, NetworkMembership.tenant_id == tenant.id)
        .with_for_update()
    )
    try:
        if membership is None:
            membership = NetworkMembership(
                network_id=network.id, tenant_id=tenant.id, status=MembershipStatus.INVITED
            )
            db.session.add(membership)
        else:
            membership.reinvite()
    except MembershipError as error:
        raise NetworkError(str(error)) from error
    db.session.flush()
    record_platform_action(
        "network.tenant_invited", actor.id, "network", network.id, tenant_id=tenant.id
    )
    return membership


def cancel_invitation(network: Network, tenant_id: int, actor: PlatformUser) -> None:
    membership = db.session.scalar(
        sa.select(NetworkMembership).where(
            NetworkMembership.network_id == network.id,
            NetworkMembership.tenant_id == tenant_id,
            NetworkMembership.status == MembershipStatus.INVITED,
        )
    )
    if membership is None:
        raise NetworkError(_("Cette invitation n'est plus en attente."))
    db.session.delete(membership)
    db.session.flush()
    record_platform_action(
        "network.invitation_cancelled", actor.id, "network", network.id, tenant_id=tenant_id
    )


def tenant_memberships(tenant_id: int) -> list[NetworkMembership]:
    """Every membership row of one tenant (for its staff page), network name order."""
    return list(
        db.session.scalars(
            sa.select(NetworkMembership)
            .join(Network, Network.id == NetworkMembership.network_id)
            .where(NetworkMembership.tenant_id == tenant_id)
            .order_by(Network.name)
        )
    )


def tenant_membership(tenant_id: int, membership_id: int, lock: bool = False):
    query = sa.select(NetworkMembership).where(
        NetworkMembership.id == membership_id, NetworkMembership.tenant_id == tenant_id
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def respond(membership: NetworkMembership, answer: str) -> None:
    """``answer`` is "accept", "decline" or "leave"; raises NetworkError in French."""
    try:
        if answer == "accept":
            membership.accept()
        elif answer == "decline":
            membership.decline()
        elif answer == "leave":
            membership.leave()
        else:
            raise NetworkError(_("Réponse inconnue."))
    except MembershipError as error:
        raise NetworkError(str(error)) from error
    db.session.flush()
