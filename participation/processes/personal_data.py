"""Processes name the agent who created them (registered in the tenant registry)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry
from participation.processes.models import Process


def export(user: Any) -> tuple[str, Any] | None:
    created = db.session.execute(
        sa.select(Process.id, Process.title, Process.created_at).where(
            Process.created_by_id == user.id
        )
    ).all()
    if not created:
        return None
    return "demarches_creees.json", [
        {"id": pid, "titre": title, "creee_le": at} for pid, title, at in created
    ]


registry.register(
    PersonalData(
        name="processes",
        export=export,
        tables=(
            PersonalTable(
                "processes",
                ("created_by_id", "title", "summary", "description"),
                Erasure.KEEP,
                retention=_l("Archive publique de la démarche."),
                reason=_l("Démarche publiée par la collectivité ; l'agent devient anonyme."),
            ),
        ),
    )
)
