"""What the operator does to a space itself: release it (archive and remove it, so the
collectivité's code and subdomain are free again), suspend it, lift the suspension."""

from __future__ import annotations

from flask_babel import gettext as _

from billing.verification.common import VerificationError
from core.db import db
from tenants.models import InvalidTenantTransition, Tenant, TenantStatus
from tenants.platform.services import record_platform_action


def release_space(tenant: Tenant, actor_id: int | None, reason: str) -> str | None:
    """Archive the space (``pg_dump`` export kept) and remove it: the code is free."""
    from tenants.lifecycle import archive_tenant, drop_tenant

    path = None
    if tenant.status != TenantStatus.ARCHIVED:
        path = str(archive_tenant(tenant))
    record_platform_action(
        "tenant.released",
        actor_id,
        "tenant",
        tenant.id,
        slug=tenant.slug,
        code=tenant.code,
        reason=reason,
        archive=path or tenant.archive_path,
    )
    drop_tenant(tenant)
    return path


def suspend_now(tenant: Tenant, actor_id: int) -> None:
    try:
        tenant.suspend()
    except InvalidTenantTransition:
        raise VerificationError(
            _("%(name)s ne peut pas être suspendu dans son état actuel.", name=tenant.name)
        ) from None
    db.session.flush()
    record_platform_action("tenant.suspended", actor_id, "tenant", tenant.id, slug=tenant.slug)


def lift_suspension(tenant: Tenant, actor_id: int) -> None:
    if tenant.status != TenantStatus.SUSPENDED:
        raise VerificationError(_("%(name)s n'est pas suspendu.", name=tenant.name))
    try:
        tenant.activate()
    except InvalidTenantTransition as error:
        raise VerificationError(str(error)) from None
    db.session.flush()
    record_platform_action(
        "tenant.reactivated", actor_id, "tenant", tenant.id, status=tenant.status.value
    )
