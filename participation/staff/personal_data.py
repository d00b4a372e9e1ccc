"""The staff audit log names its actors (registered in the tenant registry)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.audit import AuditEntry
from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.models import User
from participation.accounts.personal_data import registry


def export(user: Any) -> tuple[str, Any] | None:
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.occurred_at)
    ).all()
    if not entries:
        return None
    return "journal_des_actions.json", [
        {
            "le": e.occurred_at,
            "action": e.action,
            "objet": e.target_type,
            "id": e.target_id,
            "details": e.details,
        }
        for e in entries
    ]


def erase(user: Any) -> None:
    # Who did what stays provable (accountability of the administration), not the name.
    db.session.execute(
        sa.update(AuditEntry)
        .where(AuditEntry.actor_id == user.id)
        .values(actor_label=User.ANONYMOUS_NAME)
    )


registry.register(
    PersonalData(
        name="audit",
        export=export,
        erase=erase,
        tables=(
            PersonalTable(
                "audit_log",
                ("actor_id", "actor_label", "details"),
                Erasure.ANONYMISE,
                retention=_l("Tant que l'espace existe (traçabilité des actions des agents)."),
                reason=_l(
                    "Traçabilité des décisions de la collectivité : l'action reste, le nom "
                    "de son auteur est remplacé par « Participant·e anonyme »."
                ),
            ),
        ),
    )
)
