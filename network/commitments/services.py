"""Commitments: the rules (services add and flush, never commit)."""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core.db import db
from core.platform.services import record_platform_action
from network.commitments.models import Commitment, CommitmentComment, CommitmentStatus
from network.core.models import Network

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
EVIDENCE_KINDS = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
EVIDENCE_MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


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


def evidence_folder() -> Path:
    base = current_app.config.get("UPLOAD_FOLDER") or str(
        Path(current_app.instance_path) / "uploads"
    )
    return Path(base) / "network" / "commitments"


def read_evidence(storage) -> tuple[bytes, str] | None:
    """The uploaded evidence (bytes, kind), recognised by its first bytes; None if none."""
    if storage is None or not getattr(storage, "filename", ""):
        return None
    data = storage.stream.read(MAX_EVIDENCE_BYTES + 1)
    if not data:
        return None
    if len(data) > MAX_EVIDENCE_BYTES:
        raise CommitmentError(_("Le fichier ne doit pas dépasser 5 Mo."), "evidence_file")
    kind = next((k for magic, k in EVIDENCE_KINDS.items() if data.startswith(magic)), None)
    if kind is None:
        raise CommitmentError(
            _("Le fichier doit être au format PDF, PNG ou JPEG."), "evidence_file"
        )
    return data, kind


def _store_evidence(commitment: Commitment, upload: tuple[bytes, str], filename: str) -> None:
    data, kind = upload
    folder = evidence_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    (folder / name).write_bytes(data)
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
