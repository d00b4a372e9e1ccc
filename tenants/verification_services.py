"""Verifying self-service sign-ups, official e-mail domains and disputes (public schema).

Services add and flush, never commit and never read the request; mails go out after the
caller's commit (``core.mail.send_mail``). Rules:

- a request is decided once: approve, reject (with a reason, mailed), or — while open —
  ask for more (mailed); the requester may add proofs while it is open;
- confirming the requester's address at one of the collectivité's official domains
  approves it at once (``VerificationMethod.OFFICIAL_DOMAIN``);
- rejecting a request, or resetting a disputed space, archives the space (``pg_dump``
  export) and removes it, so the collectivité's code and the subdomain are free again;
- a dispute reaches the operator only, never the space's administrators.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from core import clock
from core.db import db
from core.mail import send_mail
from core.platform.services import record_platform_action
from tenants import official
from tenants.models import Tenant, TenantStatus
from tenants.verification import (
    PROOF_FOLDER,
    DisputeState,
    OfficialEmailDomain,
    ProofKind,
    TenantDispute,
    VerificationMethod,
    VerificationProof,
    VerificationRequest,
    VerificationState,
)
from tenants.verification_retention import (  # noqa: F401 - re-exported
    anonymise_expired,
    erase_personal_data,
    personal_data_for,
    retention_days,
)

log = logging.getLogger(__name__)

EMAIL_TOKEN_SALT = "pnyx-verification-email"  # noqa: S105 - a salt, not a secret
EMAIL_TOKEN_MAX_AGE = timedelta(days=7)
REASON_MAX_LENGTH = 2000
#: Anyone can open an address there: never an official domain, whatever the operator types.
WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.fr",
        "hotmail.com",
        "hotmail.fr",
        "live.fr",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.fr",
        "icloud.com",
        "me.com",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "laposte.net",
        "bbox.fr",
        "aol.com",
        "gmx.fr",
        "gmx.com",
        "protonmail.com",
        "proton.me",
    }
)
_DOMAIN_RE = re.compile(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
)


class VerificationError(ValueError):
    """A French, user-facing reason why a verification action is refused."""


def operator_address() -> str:
    return current_app.config.get("OPERATOR_EMAIL") or current_app.config["SIGNUP_SUPPORT_EMAIL"]


def platform_url(endpoint: str, **values) -> str:
    from flask import url_for

    scheme = current_app.config["PREFERRED_URL_SCHEME"]
    return f"{scheme}://{current_app.config['PLATFORM_DOMAIN']}{url_for(endpoint, **values)}"


# --------------------------------------------------------------------------- official domains


def normalise_domain(domain: str | None) -> str:
    value = (domain or "").strip().lower().lstrip("@").rstrip(".")
    if not _DOMAIN_RE.fullmatch(value):
        raise VerificationError(
            _("« %(domain)s » n'est pas un nom de domaine valide.", domain=domain)
        )
    if value in WEBMAIL_DOMAINS:
        raise VerificationError(
            _(
                "« %(domain)s » est une messagerie ouverte à tous : elle ne prouve pas "
                "l'appartenance à une collectivité.",
                domain=value,
            )
        )
    return value


def official_domains(kind: str, code: str) -> list[OfficialEmailDomain]:
    return list(
        db.session.scalars(
            sa.select(OfficialEmailDomain)
            .where(OfficialEmailDomain.kind == kind, OfficialEmailDomain.code == code)
            .order_by(OfficialEmailDomain.domain)
        )
    )


def all_official_domains() -> list[OfficialEmailDomain]:
    return list(
        db.session.scalars(
            sa.select(OfficialEmailDomain).order_by(
                OfficialEmailDomain.kind, OfficialEmailDomain.code, OfficialEmailDomain.domain
            )
        )
    )


def add_official_domain(
    kind: str, code: str, domain: str, actor_id: int | None, source: str = "operator"
) -> OfficialEmailDomain:
    try:
        collectivite = official.lookup(code, kind=kind)
    except (official.UnknownCollectivite, ValueError) as error:
        raise VerificationError(str(error)) from error
    value = normalise_domain(domain)
    if any(d.domain == value for d in official_domains(collectivite.kind, collectivite.code)):
        raise VerificationError(
            _(
                "« %(domain)s » est déjà dans la liste de %(name)s.",
                domain=value,
                name=collectivite.name,
            )
        )
    row = OfficialEmailDomain(
        kind=collectivite.kind,
        code=collectivite.code,
        domain=value,
        source=source,
        created_by=actor_id,
    )
    db.session.add(row)
    db.session.flush()
    record_platform_action(
        "verification.domain_added",
        actor_id,
        "collectivite",
        f"{collectivite.kind}:{collectivite.code}",
        domain=value,
        source=source,
    )
    return row


def remove_official_domain(row: OfficialEmailDomain, actor_id: int | None) -> None:
    record_platform_action(
        "verification.domain_removed",
        actor_id,
        "collectivite",
        f"{row.kind}:{row.code}",
        domain=row.domain,
    )
    db.session.delete(row)
    db.session.flush()


def is_official_address(kind: str, code: str, email: str | None) -> bool:
    """``agent@mulhouse.fr`` or ``agent@services.mulhouse.fr`` for a list holding
    ``mulhouse.fr``."""
    domain = (email or "").strip().lower().rpartition("@")[2]
    if not domain:
        return False
    return any(
        domain == row.domain or domain.endswith("." + row.domain)
        for row in official_domains(kind, code)
    )


# --------------------------------------------------------------------------- requests


def create_request(
    tenant: Tenant, *, name: str, role: str, phone: str | None, email: str
) -> VerificationRequest:
    request = VerificationRequest(
        tenant_id=tenant.id,
        kind=tenant.kind.value if hasattr(tenant.kind, "value") else tenant.kind,
        code=tenant.code,
        collectivite_name=tenant.name,
        slug=tenant.slug,
        requester_name=name,
        requester_role=role,
        requester_phone=phone or None,
        requester_email=email,
        state=VerificationState.PENDING,
    )
    db.session.add(request)
    db.session.flush()
    return request


def request_for_tenant(tenant_id: int) -> VerificationRequest | None:
    """The latest request of a space (a space has one, but a transfer may add none)."""
    return db.session.scalar(
        sa.select(VerificationRequest)
        .where(VerificationRequest.tenant_id == tenant_id)
        .order_by(VerificationRequest.id.desc())
        .limit(1)
    )


def open_requests() -> list[VerificationRequest]:
    return list(
        db.session.scalars(
            sa.select(VerificationRequest)
            .where(VerificationRequest.state.in_(("pending", "more_info")))
            .order_by(VerificationRequest.created_at, VerificationRequest.id)
        )
    )


def recent_decisions(limit: int = 20) -> list[VerificationRequest]:
    return list(
        db.session.scalars(
            sa.select(VerificationRequest)
            .where(VerificationRequest.state.in_(("approved", "rejected")))
            .order_by(VerificationRequest.decided_at.desc().nulls_last())
            .limit(limit)
        )
    )


def add_proof(
    owner: VerificationRequest | TenantDispute, kind: str, file_storage
) -> VerificationProof:
    """Check the upload (PDF or image, by its content), clean it and keep it."""
    from core.uploads import DOCUMENT_MIMETYPES, store_document, validate_document

    try:
        proof_kind = ProofKind(kind)
    except ValueError:
        raise VerificationError(_("Choisissez le type de justificatif.")) from None
    data, file_kind = validate_document(file_storage)  # UploadError: French, for the form
    stored = store_document(data, file_kind, folder=PROOF_FOLDER)
    proof = VerificationProof(
        kind=proof_kind,
        stored_name=stored,
        content_type=DOCUMENT_MIMETYPES[file_kind],
        size=len(data),
    )
    if isinstance(owner, VerificationRequest):
        proof.request_id = owner.id
    else:
        proof.dispute_id = owner.id
    db.session.add(proof)
    db.session.flush()
    return proof


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=EMAIL_TOKEN_SALT)


def email_token(request: VerificationRequest) -> str:
    return _email_serializer().dumps({"r": int(request.id), "e": request.requester_email})


def request_from_email_token(token: str) -> VerificationRequest | None:
    try:
        data = _email_serializer().loads(token, max_age=int(EMAIL_TOKEN_MAX_AGE.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int):
        return None
    request = db.session.get(VerificationRequest, data["r"])
    if request is None or request.requester_email != data.get("e"):
        return None
    return request


def send_email_confirmation(request: VerificationRequest) -> None:
    send_mail(
        request.requester_email,
        "verification_confirm_email",
        ask=request,
        confirm_url=platform_url("signup.confirm_email", token=email_token(request)),
    )


def notify_operator_of_request(request: VerificationRequest) -> None:
    send_mail(
        operator_address(),
        "verification_new_request",
        ask=request,
        queue_url=platform_url("verification_operator.request_detail", request_id=request.id),
    )


def confirm_email(request: VerificationRequest) -> bool:
    """Record the confirmed address; True when it approved the request (official domain)."""
    if request.email_confirmed_at is None:
        request.email_confirmed_at = clock.utcnow()
        db.session.flush()
    if request.is_open and is_official_address(request.kind, request.code, request.requester_email):
        approve(request, actor_id=None, method=VerificationMethod.OFFICIAL_DOMAIN)
        return True
    return False


def _tenant(request: VerificationRequest) -> Tenant | None:
    return db.session.get(Tenant, request.tenant_id) if request.tenant_id else None


def _require_open(request: VerificationRequest) -> None:
    if not request.is_open:
        raise VerificationError(_("Cette demande a déjà été traitée."))


def _reason(text: str | None, missing: str) -> str:
    value = (text or "").strip()
    if not value:
        raise VerificationError(missing)
    if len(value) > REASON_MAX_LENGTH:
        raise VerificationError(
            _("Ce texte ne peut pas dépasser %(n)d caractères.", n=REASON_MAX_LENGTH)
        )
    return value


def approve(
    request: VerificationRequest,
    actor_id: int | None,
    method: VerificationMethod = VerificationMethod.OPERATOR,
) -> None:
    _require_open(request)
    now = clock.utcnow()
    request.state = VerificationState.APPROVED
    request.method = method
    request.decided_at = now
    request.decided_by = actor_id
    tenant = _tenant(request)
    if tenant is not None:
        tenant.mark_verified(now)
    db.session.flush()
    record_platform_action(
        "verification.approved",
        actor_id,
        "tenant",
        request.tenant_id,
        request_id=request.id,
        method=method.value,
    )
    if request.requester_email:
        send_mail(
            request.requester_email,
            "verification_approved",
            ask=request,
            space_url=_space_url(tenant),
        )


def ask_for_more(request: VerificationRequest, message: str | None, actor_id: int) -> None:
    _require_open(request)
    request.info_requested = _reason(message, _("Indiquez ce qui manque à la demande."))
    request.state = VerificationState.MORE_INFO
    db.session.flush()
    record_platform_action(
        "verification.more_info_requested",
        actor_id,
        "tenant",
        request.tenant_id,
        request_id=request.id,
    )
    from billing.signup import progress_token

    send_mail(
        request.requester_email,
        "verification_more_info",
        ask=request,
        progress_url=platform_url("signup.progress", token=progress_token(request.tenant_id))
        if request.tenant_id
        else None,
    )


def reject(request: VerificationRequest, reason: str | None, actor_id: int) -> None:
    """Refuse the request: the reason is mailed, the space archived and removed (its code
    and subdomain are free again)."""
    _require_open(request)
    request.decision_reason = _reason(reason, _("Indiquez la raison du refus."))
    request.state = VerificationState.REJECTED
    request.decided_at = clock.utcnow()
    request.decided_by = actor_id
    db.session.flush()
    record_platform_action(
        "verification.rejected",
        actor_id,
        "tenant",
        request.tenant_id,
        request_id=request.id,
        reason=request.decision_reason,
    )
    send_mail(request.requester_email, "verification_rejected", ask=request)
    tenant = _tenant(request)
    if tenant is not None:
        release_space(tenant, actor_id, reason="verification_rejected")


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


def _space_url(tenant: Tenant | None) -> str | None:
    if tenant is None or not tenant.primary_host:
        return None
    domain = current_app.config["PLATFORM_DOMAIN"]
    port = ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""
    return f"{current_app.config['PREFERRED_URL_SCHEME']}://{tenant.primary_host}{port}/"


# --------------------------------------------------------------------------- suspension


def suspend_now(tenant: Tenant, actor_id: int) -> None:
    from tenants.models import InvalidTenantTransition

    try:
        tenant.suspend()
    except InvalidTenantTransition:
        raise VerificationError(
            _("%(name)s ne peut pas être suspendu dans son état actuel.", name=tenant.name)
        ) from None
    db.session.flush()
    record_platform_action("tenant.suspended", actor_id, "tenant", tenant.id, slug=tenant.slug)


def lift_suspension(tenant: Tenant, actor_id: int) -> None:
    from tenants.models import InvalidTenantTransition

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


# --------------------------------------------------------------------------- disputes


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


def open_disputes() -> list[TenantDispute]:
    return list(
        db.session.scalars(
            sa.select(TenantDispute)
            .where(TenantDispute.state == DisputeState.OPEN)
            .order_by(TenantDispute.created_at, TenantDispute.id)
        )
    )


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
