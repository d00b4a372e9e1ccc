"""Debates name the agent who opened them (registered in the tenant registry). Comments and
arguments are covered by participation/engagement/personal_data.py, which exports them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry
from participation.debates.models import Debate


def export(user: Any) -> tuple[str, Any] | None:
    opened = db.session.execute(
        sa.select(Debate.id, Debate.question, Debate.created_at).where(
            Debate.created_by_id == user.id
        )
    ).all()
    if not opened:
        return None
    return "debats_ouverts.json", [
        {"id": did, "question": question, "ouvert_le": at} for did, question, at in opened
    ]


registry.register(
    PersonalData(
        name="debates",
        export=export,
        tables=(
            PersonalTable(
                "debates",
                ("created_by_id", "description"),
                Erasure.KEEP,
                retention=_l("Archive publique de la démarche."),
                reason=_l("Débat ouvert par la collectivité ; l'agent devient anonyme."),
            ),
        ),
    )
)
