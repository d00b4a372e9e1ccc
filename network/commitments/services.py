"""Commitments: the rules (services add and flush, never commit)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core import uploads
from core.db import db
from network.commitments.models import Commitment, CommitmentComment, CommitmentStatus
from network.core.models import Network
from tenants.platform.services import record_platform_action

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
EVIDENCE_MIMETYPES = uploads.DOCUMENT_MIMETYPES


class CommitmentError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def board(network: Network) -> list[Commitment]:
    return list(
        db.session.scalars(
            sa.select(Commitment)
            .where(Commitment.network_id == network.id)
            .options(selectinload(Commitment.tenant), selectinload(Commitment.comments))
            .order_by(Commitment.tenant_id, Commitment.due_on.nulls_last(), Commitment.id)
        )
    )


def get_commitment(network: Network, commitment_id: int) -> Commitment | None:
    return db.session.scalar(
        sa.select(Commitment).where(
            Commitment.id == commitment_id, Commitment.network_id == network.id
        )
    )


#: core.uploads document folder (platform side) of the evidence files.
EVIDENCE_FOLDER = "commitments"


def evidence_folder() -> Path:
    return uploads.document_folder(EVIDENCE_FOLDER)


def read_evidence(storage) -> tuple[bytes, str] | None:
    """The uploaded evidence (bytes, kind) checked by core.uploads; None if none."""
    if storage is None or not getattr(storage, "filename", ""):
        return None
    try:
        return uploads.validate_document(storage, max_bytes=MAX_EVIDENCE_BYTES)
    except uploads.UploadError as error:
        if "vide" in str(error):
            return None
        raise CommitmentError(str(error), "evidence_file") from None


def _store_evidence(commitment: Commitment, upload: tuple[bytes, str], filename: str) -> None:
    """Rewritten without metadata (PDF) or re-encoded (pictures) under a random name."""
    data, kind = upload
    try:
        name = uploads.store_document(data, kind, folder=EVIDENCE_FOLDER)
    except uploads.UploadError as error:
        raise CommitmentError(str(error), "evidence_file") from None
    commitment.evidence_file = name
    commitment.evidence_filename = (filename or f"preuve.{kind}")[:200]


FIELDS = (
    "title",
    "description",
    "status",
    "progress",
    "starts_on",
    "due_on",
    "completed_on",
    "evidence_text",
    "evidence_url",
)


def _apply(commitment: Commitment, values: dict) -> None:
    for name in FIELDS:
        if name in values:
            value = values[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(commitment, name, value)
    commitment.description = commitment.description or ""
    commitment.evidence_text = commitment.evidence_text or ""
    commitment.evidence_url = commitment.evidence_url or None
    commitment.progress = int(commitment.progress or 0)
    commitment.status = CommitmentStatus(commitment.status)
    if commitment.status == CommitmentStatus.DONE:
        commitment.progress = 100


def create_commitment(
    network: Network, tenant_id: int, actor, values: dict, upload=None, filename: str = ""
) -> Commitment:
    commitment = Commitment(network_id=network.id, tenant_id=tenant_id, created_by_id=actor.id)
    _apply(commitment, values)
    commitment.updated_by_id = actor.id
    if upload:
        _store_evidence(commitment, upload, filename)
    db.session.add(commitment)
    db.session.flush()
    record_platform_action(
        "network.commitment_created",
        actor_id=actor.id,
        target_type="network_commitment",
        target_id=commitment.id,
        network_id=network.id,
        tenant_id=tenant_id,
    )
    return commitment


def update_commitment(commitment: Commitment, actor, values: dict, upload=None, filename=""):
    before = {"status": str(commitment.status), "progress": commitment.progress}
    _apply(commitment, values)
    commitment.updated_by_id = actor.id
    if upload:
        _store_evidence(commitment, upload, filename)
    db.session.flush()
    record_platform_action(
        "network.commitment_updated",
        actor_id=actor.id,
        target_type="network_commitment",
        target_id=commitment.id,
        before=before,
        after={"status": str(commitment.status), "progress": commitment.progress},
    )
    return commitment


def add_comment(commitment: Commitment, actor, role: str, body: str) -> CommitmentComment:
    body = (body or "").strip()
    if not body:
        raise CommitmentError(_("Le commentaire est vide."), "body")
    comment = CommitmentComment(
        commitment_id=commitment.id, author_id=actor.id, author_role=role, body=body
    )
    db.session.add(comment)
    db.session.flush()
    record_platform_action(
        "network.commitment_commented",
        actor_id=actor.id,
        target_type="network_commitment",
        target_id=commitment.id,
        role=role,
    )
    return comment
