"""Sign-up verification requests: created with the self-service space, confirmed by the
requester's e-mail (at once when the address is at an official domain), decided once by
the operator: approve, reject (the reason is mailed, the space released) or, while open,
ask for more (mailed); the requester may add proofs while it is open."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from billing.progress_links import progress_token
from billing.verification.common import (
    VerificationError,
    operator_address,
    platform_url,
    reason_text,
)
from billing.verification.domains import is_official_address
from billing.verification.spaces import release_space
from core import clock
from core.db import db
from core.mail import send_mail
from tenants.models import Tenant
from tenants.platform.services import record_platform_action
from tenants.verification import (
    PROOF_FOLDER,
    ProofKind,
    TenantDispute,
    VerificationMethod,
    VerificationProof,
    VerificationRequest,
    VerificationState,
)

EMAIL_TOKEN_SALT = "pnyx-verification-email"  # noqa: S105 - a salt, not a secret
EMAIL_TOKEN_MAX_AGE = timedelta(days=7)


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


# --------------------------------------------------------------------------- e-mail


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


# --------------------------------------------------------------------------- decisions


def _tenant(request: VerificationRequest) -> Tenant | None:
    return db.session.get(Tenant, request.tenant_id) if request.tenant_id else None


def _require_open(request: VerificationRequest) -> None:
    if not request.is_open:
        raise VerificationError(_("Cette demande a déjà été traitée."))


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
    request.info_requested = reason_text(message, _("Indiquez ce qui manque à la demande."))
    request.state = VerificationState.MORE_INFO
    db.session.flush()
    record_platform_action(
        "verification.more_info_requested",
        actor_id,
        "tenant",
        request.tenant_id,
        request_id=request.id,
    )
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
    request.decision_reason = reason_text(reason, _("Indiquez la raison du refus."))
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


def _space_url(tenant: Tenant | None) -> str | None:
    if tenant is None or not tenant.primary_host:
        return None
    domain = current_app.config["PLATFORM_DOMAIN"]
    port = ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""
    return f"{current_app.config['PREFERRED_URL_SCHEME']}://{tenant.primary_host}{port}/"
