"""Who may take a collectivité's space: verification requests, official domains, disputes.

All in the public schema (the operator works across tenants). A self-service sign-up
creates a :class:`VerificationRequest` next to its tenant; the tenant stays
``pending_verification`` until the operator approves the request, or the requester
confirms an address at one of the collectivité's :class:`OfficialEmailDomain`.
A collectivité that finds its name taken files a :class:`TenantDispute`, seen by the
operator only. The services live in ``billing/verification/`` (sign-up is billing's
flow); what reads the tables without deciding anything in ``tenants/verification_status.py``.

Personal data here (names, roles, phones, e-mails of requesters and claimants) is kept
while the request or dispute is open and for ``VERIFICATION_RETENTION_DAYS`` after its
decision, then anonymised (docs/features/verification.md).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db, str_enum


class VerificationState(enum.StrEnum):
    PENDING = "pending"  # waiting for the operator (or the e-mail confirmation)
    MORE_INFO = "more_info"  # the operator asked the requester for more
    APPROVED = "approved"
    REJECTED = "rejected"


OPEN_STATES = (VerificationState.PENDING, VerificationState.MORE_INFO)


class VerificationMethod(enum.StrEnum):
    OPERATOR = "operator"
    OFFICIAL_DOMAIN = "official_domain"
    DISPUTE = "dispute"  # the operator handed the space to a claimant


class ProofKind(enum.StrEnum):
    PURCHASE_ORDER = "bon_de_commande"
    DELIBERATION = "deliberation"
    OFFICIAL_LETTER = "courrier_officiel"


class DisputeState(enum.StrEnum):
    OPEN = "open"
    TRANSFERRED = "transferred"  # the claimant was made administrator
    RESET = "reset"  # the space was archived and removed: the code is free again
    DISMISSED = "dismissed"


class VerificationRequest(TimestampMixin, db.Model):
    """A self-service sign-up waiting to be confirmed as the collectivité's own."""

    __tablename__ = "tenant_verification_requests"
    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('pending', 'more_info', 'approved', 'rejected')", name="state"
        ),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    # SET NULL: a rejected request outlives its space (removed to free the code).
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str] = mapped_column(sa.String(12))
    collectivite_name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(40))
    requester_name: Mapped[str | None] = mapped_column(sa.String(120))
    requester_role: Mapped[str | None] = mapped_column(sa.String(120))
    requester_phone: Mapped[str | None] = mapped_column(sa.String(30))
    requester_email: Mapped[str | None] = mapped_column(sa.String(254))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    state: Mapped[VerificationState] = mapped_column(
        str_enum(VerificationState, "verification_state"), default=VerificationState.PENDING
    )
    method: Mapped[VerificationMethod | None] = mapped_column(
        str_enum(VerificationMethod, "verification_method")
    )
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )
    # Sent to the requester: the reason of a rejection, or what the operator needs.
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    info_requested: Mapped[str | None] = mapped_column(sa.Text)
    anonymised_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    proofs: Mapped[list[VerificationProof]] = relationship(
        back_populates="request",
        order_by="VerificationProof.id",
        foreign_keys="VerificationProof.request_id",
    )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def email_domain(self) -> str:
        return (self.requester_email or "").rpartition("@")[2]

    def __repr__(self) -> str:
        return f"<VerificationRequest {self.id} {self.kind}:{self.code} {self.state}>"


#: The core.uploads folder of the proofs' files.
PROOF_FOLDER = "verification"


class VerificationProof(db.Model):
    """A document uploaded as proof (PDF or image), for a request or a dispute."""

    __tablename__ = "tenant_verification_proofs"
    __table_args__ = (
        sa.CheckConstraint("(request_id IS NULL) <> (dispute_id IS NULL)", name="one_owner"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(
            "public.tenant_verification_requests.id",
            ondelete="CASCADE",
            name="fk_tenant_verification_proofs_request_id",
        ),
        index=True,
    )
    dispute_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(
            "public.tenant_disputes.id",
            ondelete="CASCADE",
            name="fk_tenant_verification_proofs_dispute_id",
        ),
        index=True,
    )
    kind: Mapped[ProofKind] = mapped_column(str_enum(ProofKind, "proof_kind"))
    # The name we gave the file on disk (never the uploaded name) and what it is.
    stored_name: Mapped[str] = mapped_column(sa.String(100))
    content_type: Mapped[str] = mapped_column(sa.String(50))
    size: Mapped[int] = mapped_column(sa.Integer)
    uploaded_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    request: Mapped[VerificationRequest | None] = relationship(
        back_populates="proofs", foreign_keys=[request_id]
    )

    def __repr__(self) -> str:
        return f"<VerificationProof {self.id} {self.kind}>"


class OfficialEmailDomain(db.Model):
    """An e-mail domain only the collectivité's own staff can have (e.g. ``mulhouse.fr``)."""

    __tablename__ = "official_email_domains"
    __table_args__ = (
        sa.UniqueConstraint("kind", "code", "domain"),
        sa.CheckConstraint("domain = lower(domain)", name="domain_lower"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    # Keyed on the official code (INSEE for a commune, SIREN for an EPCI…), not on a
    # tenant: the list exists before anyone signs up.
    kind: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str] = mapped_column(sa.String(12))
    domain: Mapped[str] = mapped_column(sa.String(253))
    source: Mapped[str] = mapped_column(sa.String(50), default="operator")
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    created_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )

    def __repr__(self) -> str:
        return f"<OfficialEmailDomain {self.kind}:{self.code} {self.domain}>"


class TenantDispute(TimestampMixin, db.Model):
    """A collectivité says the space holding its name is not its own."""

    __tablename__ = "tenant_disputes"
    __table_args__ = (
        sa.CheckConstraint("state IN ('open', 'transferred', 'reset', 'dismissed')", name="state"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str] = mapped_column(sa.String(12))
    collectivite_name: Mapped[str] = mapped_column(sa.String(200))
    claimant_name: Mapped[str | None] = mapped_column(sa.String(120))
    claimant_role: Mapped[str | None] = mapped_column(sa.String(120))
    claimant_email: Mapped[str | None] = mapped_column(sa.String(254))
    claimant_phone: Mapped[str | None] = mapped_column(sa.String(30))
    message: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[DisputeState] = mapped_column(
        str_enum(DisputeState, "dispute_state"), default=DisputeState.OPEN
    )
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    anonymised_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    proofs: Mapped[list[VerificationProof]] = relationship(
        order_by="VerificationProof.id", foreign_keys="VerificationProof.dispute_id"
    )

    def __repr__(self) -> str:
        return f"<TenantDispute {self.id} {self.kind}:{self.code} {self.state}>"
