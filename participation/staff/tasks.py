"""Jobs of the staff side."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from core.db import db
from core.jobs import enqueue_after_commit, get_queue
from participation.accounts.models import StaffRole
from participation.staff import services
from tenants.context import current_tenant, tenant_job, tenant_job_id
from tenants.provisioning import provision_job_id
from tenants.urls import tenant_url

log = logging.getLogger(__name__)


def first_admin_job_id(tenant_id: int) -> str:
    return tenant_job_id(tenant_id, "first-admin")


def enqueue_first_admin_invitation(sender, *, tenant_id: int, email: str) -> None:
    """Receiver of ``tenants.signals.first_admin_named`` (``flask tenants create
    --admin-email``): the invitation job, after the commit, and after the provisioning job
    when the queue is asynchronous."""
    options = {}
    if get_queue("high").is_async:
        options["depends_on"] = provision_job_id(tenant_id)
    enqueue_after_commit(
        invite_first_admin,
        tenant_id,
        email,
        queue="high",
        job_id=first_admin_job_id(tenant_id),
        **options,
    )


@tenant_job
def invite_first_admin(tenant_id: int, email: str) -> str:
    """Invite the collectivité's first administrator by e-mail, once.

    Idempotent: a retried or duplicated job finds the pending invitation (or the admin
    account) and sends nothing. A transaction-scoped advisory lock serialises two copies of
    the job running at the same time.
    """
    email = services.normalise_email(email)
    db.session.execute(
        sa.text("SELECT pg_advisory_xact_lock(:tenant_id, hashtext(:key))"),
        {"tenant_id": tenant_id, "key": f"staff-first-admin:{email}"},
    )
    if services.pending_invitation_for(email) is not None:
        log.info("tenant %s: an invitation is already pending for the first admin", tenant_id)
        return "pending"
    user = services.get_user_by_email(email)
    if user is not None and user.staff_role is not None:
        log.info("tenant %s: %s is already a member of the staff", tenant_id, email)
        return "member"
    invitation, token = services.create_invitation(email, StaffRole.ADMIN, [], invited_by=None)
    link = tenant_url(current_tenant(), "staff.accept_invitation", token=token)
    services.send_invitation(invitation, link, inviter=None)
    db.session.commit()  # the mail is enqueued by this commit
    log.info("tenant %s: first admin invited (invitation %s)", tenant_id, invitation.id)
    return "invited"
