"""How long the verification records keep who people are, and what they hold about one
person: names, roles, phones and e-mails of requesters and claimants, and their proofs, are
erased ``VERIFICATION_RETENTION_DAYS`` after the decision (the decision stays), or when the
person asks (``tenants.verification_personal_data``). Run nightly by
``tenants.verification_cron``."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from core import clock
from core.db import db
from tenants.verification import PROOF_FOLDER, TenantDispute, VerificationRequest

DEFAULT_RETENTION_DAYS = 365


def retention_days() -> int:
    return int(current_app.config.get("VERIFICATION_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)


def anonymise_expired(now: datetime | None = None) -> int:
    """Names, roles, phones and e-mails of decided requests and disputes, and their proofs,
    are removed ``VERIFICATION_RETENTION_DAYS`` after the decision."""
    cutoff = (now or clock.utcnow()) - timedelta(days=retention_days())
    count = 0
    requests = db.session.scalars(
        sa.select(VerificationRequest).where(
            VerificationRequest.decided_at < cutoff, VerificationRequest.anonymised_at.is_(None)
        )
    ).all()
    disputes = db.session.scalars(
        sa.select(TenantDispute).where(
            TenantDispute.decided_at < cutoff, TenantDispute.anonymised_at.is_(None)
        )
    ).all()
    for row in [*requests, *disputes]:
        erase_personal_data(row)
        count += 1
    db.session.flush()
    return count


def erase_personal_data(row: VerificationRequest | TenantDispute) -> None:
    """Erasure (retention or a person's request): who they are goes, the decision stays."""
    from core.uploads import delete_document

    for proof in list(row.proofs):
        delete_document(proof.stored_name, folder=PROOF_FOLDER)
        db.session.delete(proof)
    if isinstance(row, VerificationRequest):
        row.requester_name = row.requester_role = None
        row.requester_phone = row.requester_email = None
        row.info_requested = None
    else:
        row.claimant_name = row.claimant_role = None
        row.claimant_phone = row.claimant_email = None
        row.message = None
    row.anonymised_at = clock.utcnow()


def personal_data_for(email: str) -> list[dict]:
    """What the platform keeps about ``email`` here (export of a person's data)."""
    email = (email or "").strip().lower()
    out: list[dict] = []
    for row in db.session.scalars(
        sa.select(VerificationRequest).where(
            sa.func.lower(VerificationRequest.requester_email) == email
        )
    ):
        out.append(
            {
                "type": "verification_request",
                "collectivite": row.collectivite_name,
                "name": row.requester_name,
                "role": row.requester_role,
                "phone": row.requester_phone,
                "email": row.requester_email,
                "state": row.state.value,
                "created_at": row.created_at.isoformat() if row.created_at else None,
            }
        )
    for row in db.session.scalars(
        sa.select(TenantDispute).where(sa.func.lower(TenantDispute.claimant_email) == email)
    ):
        out.append(
            {
                "type": "dispute",
                "collectivite": row.collectivite_name,
                "name": row.claimant_name,
                "role": row.claimant_role,
                "phone": row.claimant_phone,
                "email": row.claimant_email,
                "message": row.message,
                "state": row.state.value,
                "created_at": row.created_at.isoformat() if row.created_at else None,
            }
        )
    return out
