"""Audit log of staff actions, in the tenant's schema, and the names its page gives them.

Features write the log with :func:`audit` and name their actions and target types with
:func:`register_audit_labels` from their own ``init_app``; the staff audit log page
(``participation.staff.views.audit_log``) reads the names through :func:`action_label` and
:func:`target_label`. The log itself stores the raw codes, so a label is only presentation.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    :func:`register_audit_labels` by each feature."""
    return record_action(
        action,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.display_name if actor is not None else PLATFORM_ACTOR_LABEL,
        target_type=None if target_type is None else str(target_type),
        target_id=target_id,
        **details,
    )


# --------------------------------------------------------------------------- labels

# Process-wide, like the code that names them: an action keeps its name whatever the app.
_ACTION_LABELS: dict[str, object] = {}
_TARGET_LABELS: dict[str, object] = {}


def register_audit_labels(
    actions: Mapping[str, object] | None = None, targets: Mapping[str, object] | None = None
) -> None:
    """Name a feature's actions (``"budgets.published"``) and target types (``"budget"``)
    on the audit log page, with lazy French labels. The first name given to a code wins, so
    that calling this again (each app, each test fixture runs ``init_app``) is harmless."""
    for action, label in (actions or {}).items():
        _ACTION_LABELS.setdefault(action, label)
    for target_type, label in (targets or {}).items():
        _TARGET_LABELS.setdefault(target_type, label)


def action_label(action: str) -> str:
    """The registered name of an action, else its code."""
    return str(_ACTION_LABELS.get(action, action))


def target_label(target_type: str) -> str:
    """The registered name of a target type, else its code."""
    return str(_TARGET_LABELS.get(target_type, target_type))
