"""What debates, arguments and comments hold about a person (registered in the tenant
registry): the agent who opened a debate, and every citizen's arguments and comments (on
processes and proposals too: their threads are this package's)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry
from participation.debates.models import Argument, Debate
from participation.engagement.comments import Comment

PUBLIC_ARCHIVE = _l("Durée de la démarche et de son archive publique.")


def _opened_debates(user: Any) -> tuple[str, Any] | None:
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


def _comments_and_arguments(user: Any) -> tuple[str, Any]:
    comments = db.session.scalars(sa.select(Comment).where(Comment.author_id == user.id))
    arguments = db.session.scalars(sa.select(Argument).where(Argument.author_id == user.id))
    return "commentaires_et_arguments.json", {
        "commentaires": [
            {
                "id": c.id,
                "texte": c.body,
                "publie_le": c.created_at,
                "modifie_le": c.edited_at,
                "supprime_le": c.deleted_at,
                "masque_le": c.hidden_at,
                "raison_du_masquage": c.hidden_reason,
            }
            for c in comments
        ],
        "arguments": [
            {
                "id": a.id,
                "debat": a.debate_id,
                "position": a.side,
                "texte": a.body,
                "publie_le": a.created_at,
                "supprime_le": a.deleted_at,
                "masque_le": a.hidden_at,
            }
            for a in arguments
        ],
    }


def export(user: Any) -> list[tuple[str, Any]]:
    sections = (_opened_debates(user), _comments_and_arguments(user))
    return [section for section in sections if section is not None]


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
            PersonalTable(
                "comments",
                ("author_id", "body", "hidden_reason"),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l("Contribution publique, signée « Participant·e anonyme »."),
            ),
            PersonalTable(
                "arguments",
                ("author_id", "body", "hidden_reason"),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l("Contribution publique, signée « Participant·e anonyme »."),
            ),
        ),
    )
)
