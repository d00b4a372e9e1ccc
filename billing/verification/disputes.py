"""Disputes: a collectivité says the space holding its name is not its own.

The claim reaches the operator only, never the space's administrators. The operator
dismisses it, resets the space (archived and removed: the collectivité may sign up), or
transfers it: the claimant is invited as administrator and the former administrators
lose their role and sessions, in a job inside the tenant (:data:`hand_over_space`).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from billing.verification.common import (
    REASON_MAX_LENGTH,
    VerificationError,
    operator_address,
    platform_url,
)
from billing.verification.spaces import release_space
from core import clock
from core.db import db
from core.mail import send_mail
from tenants import official
from tenants.models import Tenant, TenantStatus
from tenants.platform.services import record_platform_action
from tenants.verification import (
    DisputeState,
    TenantDispute,
    VerificationRequest,
    VerificationState,
)


def create_dispute(
    collectivite: official.Collectivite,
    tenant_id: int,
    *,
    name: str,
    role: str,
    email: str,
    phone: str | None,
    message: str,
) -> TenantDispute:
    """Record the claim and mail the operator — never the space's administrators."""
    dispute = TenantDispute(
        tenant_id=tenant_id,
        kind=collectivite.kind,
        code=collectivite.code,
        collectivite_name=collectivite.name,
        claimant_name=name,
        claimant_role=role,
        claimant_email=email,
        claimant_phone=phone or None,
        message=message,
        state=DisputeState.OPEN,
    )
    db.session.add(dispute)
    db.session.flush()
    return dispute


def notify_dispute(dispute: TenantDispute) -> None:
    send_mail(
        operator_address(),
        "dispute_received",
        dispute=dispute,
        dispute_url=platform_url("verification_operator.dispute_detail", dispute_id=dispute.id),
    )
    send_mail(dispute.claimant_email, "dispute_acknowledged", dispute=dispute)


def _decide(dispute: TenantDispute, state: DisputeState, note: str | None, actor_id: int) -> None:
    if dispute.state != DisputeState.OPEN:
        raise VerificationError(_("Cette contestation a déjà été traitée."))
    dispute.state = state
    dispute.decision_note = (note or "").strip()[:REASON_MAX_LENGTH] or None
    dispute.decided_at = clock.utcnow()
    dispute.decided_by = actor_id
    db.session.flush()
    record_platform_action(
        f"dispute.{state.value}",
        actor_id,
        "tenant",
        dispute.tenant_id,
        dispute_id=dispute.id,
        note=dispute.decision_note,
    )


def dismiss_dispute(dispute: TenantDispute, note: str | None, actor_id: int) -> None:
    _decide(dispute, DisputeState.DISMISSED, note, actor_id)
    send_mail(dispute.claimant_email, "dispute_decided", dispute=dispute)


def transfer_space(dispute: TenantDispute, note: str | None, actor_id: int) -> None:
    """Hand the space to the claimant: they are invited as administrator, the current
    administrators lose their role and sessions (in a job, inside the tenant), and the
    space counts as verified."""
    tenant = db.session.get(Tenant, dispute.tenant_id) if dispute.tenant_id else None
    if tenant is None or tenant.status == TenantStatus.ARCHIVED:
        raise VerificationError(_("Cet espace n'existe plus."))
    _decide(dispute, DisputeState.TRANSFERRED, note, actor_id)
    now = clock.utcnow()
    for request in db.session.scalars(
        sa.select(VerificationRequest).where(
            VerificationRequest.tenant_id == tenant.id,
            VerificationRequest.state.in_(("pending", "more_info")),
        )
    ):
        request.state = VerificationState.REJECTED
        request.decision_reason = _("Espace confié à la collectivité après contestation.")
        request.decided_at = now
        request.decided_by = actor_id
    if tenant.status != TenantStatus.PROVISIONING:
        tenant.mark_verified(now)
    else:
        tenant.verified_at = now
    db.session.flush()
    from core.jobs import enqueue_after_commit
    from tenants.context import tenant_job_id

    enqueue_after_commit(
        hand_over_space,
        tenant.id,
        dispute.claimant_email,
        queue="high",
        job_id=tenant_job_id(tenant.id, "hand-over", dispute.id),
    )


def reset_space(dispute: TenantDispute, note: str | None, actor_id: int) -> None:
    tenant = db.session.get(Tenant, dispute.tenant_id) if dispute.tenant_id else None
    _decide(dispute, DisputeState.RESET, note, actor_id)
    send_mail(dispute.claimant_email, "dispute_decided", dispute=dispute)
    if tenant is not None:
        release_space(tenant, actor_id, reason="dispute_reset")


def _hand_over(tenant_id: int, email: str) -> str:
    from participation.accounts.models import Invitation, StaffRole, User
    from participation.staff import services as staff
    from tenants.context import current_tenant
    from tenants.urls import tenant_url

    email = staff.normalise_email(email)
    removed = 0
    for user in db.session.scalars(
        sa.select(User).where(User.staff_role == StaffRole.ADMIN).with_for_update()
    ):
        if user.email and user.email.lower() == email:
            continue
        user.staff_role = None
        user.services = []
        user.totp_secret = None
        user.totp_enabled = False
        user.totp_last_step = None
        user.recovery_codes = []
        user.end_all_sessions()
        removed += 1
    # Invitations the former administrators sent are withdrawn with them.
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            sa.func.lower(Invitation.email) != email,
        )
        .values(revoked_at=clock.utcnow())
    )
    db.session.flush()
    staff.audit("staff.space_handed_over", None, "user", None, removed=removed, to=email)
    if staff.pending_invitation_for(email) is None:
        user = staff.get_user_by_email(email)
        if user is None or user.staff_role != StaffRole.ADMIN:
            invitation, token = staff.create_invitation(email, StaffRole.ADMIN, [], invited_by=None)
            link = tenant_url(current_tenant(), "staff.accept_invitation", token=token)
            staff.send_invitation(invitation, link, inviter=None)
    db.session.commit()
    return f"removed {removed}"


def _tenant_job(func):
    from tenants.context import tenant_job

    return tenant_job(func)


hand_over_space = _tenant_job(_hand_over)
hand_over_space.__name__ = "hand_over_space"
hand_over_space.__qualname__ = "hand_over_space"
