"""Who may see and do what in a network (public schema only).

Members of active member territories, coordinators, evaluators and operators see every
section of a network; anybody else sees only the sections the coordinator made public.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user

from core.db import db
from core.errors import abort_with
from core.security import limits
from network.core.models import (
    SECTION_KEYS,
    MembershipStatus,
    Network,
    NetworkMembership,
    NetworkRole,
    NetworkRoleKind,
)
from tenants.platform.models import PlatformRole, PlatformUser

#: Members write to the library and the forum: enough for real use, not for a flood. Each
#: page that publishes has a budget of its own.
POSTING_LIMIT = "10 per minute;100 per hour"


def posting_limit(view):
    """Decorate a network view that publishes (a practice, a comment, a forum post)."""
    return limits.posting_limit(view, limit=POSTING_LIMIT, scope=None)


def get_network(slug: str) -> Network | None:
    if not isinstance(slug, str) or not slug or len(slug) > 80:
        return None
    return db.session.scalar(sa.select(Network).where(Network.slug == slug))


def active_member_ids(network: Network) -> list[int]:
    """Ids of the tenants that are active members of ``network``, in id order."""
    return list(
        db.session.scalars(
            sa.select(NetworkMembership.tenant_id)
            .where(
                NetworkMembership.network_id == network.id,
                NetworkMembership.status == MembershipStatus.ACTIVE,
            )
            .order_by(NetworkMembership.tenant_id)
        )
    )


def _platform_user(user) -> PlatformUser | None:
    """``user`` if it is a logged-in, active platform account (tenant accounts never count)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # current_user is a proxy: compare the object it stands for.
    user = getattr(user, "_get_current_object", lambda: user)()
    if not isinstance(user, PlatformUser) or not user.is_active:
        return None
    # The visitor's own session counts only once the second factor is given.
    if user is _current_platform_user_object() and not _two_factor_done():
        return None
    return user


def _current_platform_user_object():
    try:
        return current_user._get_current_object()
    except (RuntimeError, AttributeError):
        return None


def _two_factor_done() -> bool:
    from core.security.auth import two_factor_verified

    try:
        return two_factor_verified()
    except RuntimeError:  # outside a request: nothing to check
        return True


def _has_role(user, network: Network, role: NetworkRoleKind) -> bool:
    account = _platform_user(user)
    if account is None or network is None:
        return False
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                NetworkRole.network_id == network.id,
                NetworkRole.platform_user_id == account.id,
                NetworkRole.role == role,
            )
        )
        is not None
    )


def is_operator(user) -> bool:
    account = _platform_user(user)
    return account is not None and account.role == PlatformRole.OPERATOR


def is_coordinator(user, network: Network) -> bool:
    return _has_role(user, network, NetworkRoleKind.COORDINATOR)


def is_evaluator(user, network: Network) -> bool:
    return _has_role(user, network, NetworkRoleKind.EVALUATOR)


def member_tenant_id(user, network: Network) -> int | None:
    """The tenant a platform member acts for, if it is an active member of ``network``."""
    account = _platform_user(user)
    if account is None or network is None or account.role != PlatformRole.MEMBER:
        return None
    if account.tenant_id is None:
        return None
    active = db.session.scalar(
        sa.select(sa.literal(True)).where(
            NetworkMembership.network_id == network.id,
            NetworkMembership.tenant_id == account.tenant_id,
            NetworkMembership.status == MembershipStatus.ACTIVE,
        )
    )
    return account.tenant_id if active else None


def is_insider(user, network: Network) -> bool:
    """Members, coordinators, evaluators and operators: they see every section."""
    return (
        is_operator(user)
        or is_coordinator(user, network)
        or is_evaluator(user, network)
        or member_tenant_id(user, network) is not None
    )


def can_view(user, network: Network, section: str) -> bool:
    if network is None:
        return False
    if section != "home" and section not in SECTION_KEYS:
        return False
    if section == "home" or network.is_public(section):
        return True
    return is_insider(user, network)


def can_manage(user, network: Network) -> bool:
    """Coordinators and operators set the network up (sections, invitations)."""
    return is_operator(user) or is_coordinator(user, network)


def require_view(network: Network | None, section: str) -> Network:
    """Abort with 404 (no such network) or 403 (section reserved to members) in French."""
    if network is None:
        abort_with(404, _("Ce réseau n'existe pas."))
    if not can_view(current_user, network, section):
        abort_with(403, _("Cette rubrique est réservée aux membres du réseau."))
    return network


def networks_of(user) -> list[Network]:
    """The networks a platform account takes part in (named role, or its territory is an
    active member), by name: for its home page."""
    account = _platform_user(user)
    if account is None:
        return []
    by_role = sa.select(NetworkRole.network_id).where(NetworkRole.platform_user_id == account.id)
    conditions = [Network.id.in_(by_role)]
    if account.role == PlatformRole.MEMBER and account.tenant_id is not None:
        conditions.append(
            Network.id.in_(
                sa.select(NetworkMembership.network_id).where(
                    NetworkMembership.tenant_id == account.tenant_id,
                    NetworkMembership.status == MembershipStatus.ACTIVE,
                )
            )
        )
    return list(
        db.session.scalars(sa.select(Network).where(sa.or_(*conditions)).order_by(Network.name))
    )
