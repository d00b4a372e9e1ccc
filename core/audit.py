"""Audit log of staff actions, in the tenant's schema."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import db


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = {"schema": "tenant"}

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    actor_id: Mapped[int | None]
    actor_label: Mapped[str | None] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(100))
    target_type: Mapped[str | None] = mapped_column(sa.String(50))
    target_id: Mapped[str | None] = mapped_column(sa.String(50))
    details: Mapped[dict] = mapped_column(JSONB, default=dict)


def record_action(
    action: str,
    actor_id: int | None = None,
    actor_label: str | None = None,
    target_type: str | None = None,
    target_id: object = None,
    **details: object,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor_id,
        actor_label=actor_label,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# Who the log names when the platform itself acts (a scheduled job, a sweep).
PLATFORM_ACTOR_LABEL = "Plateforme Pnyx"


def audit(
    action: str,
    actor=None,
    target_type: str | None = None,
    target_id: object = None,
    **details: object,
) -> AuditEntry:
    """Record what ``actor`` (a tenant user, or None for the platform itself) did: the one
    way features write the audit log. Its labels are registered with
    ``participation.staff.audit_labels`` by each feature."""
    return record_action(
        action,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.display_name if actor is not None else PLATFORM_ACTOR_LABEL,
        target_type=None if target_type is None else str(target_type),
        target_id=target_id,
        **details,
    )
