"""What proposals hold about a person (registered in the tenant registry)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry
from participation.proposals.models import Proposal, ProposalEvent, Support

PUBLIC_ARCHIVE = _l("Durée de la démarche et de son archive publique.")


def export(user: Any) -> tuple[str, Any] | None:
    proposals = db.session.scalars(
        sa.select(Proposal).where(Proposal.author_id == user.id).order_by(Proposal.id)
    ).all()
    supports = db.session.execute(
        sa.select(Support.created_at, Proposal.id, Proposal.title)
        .join(Proposal, Proposal.id == Support.proposal_id)
        .where(Support.user_id == user.id)
        .order_by(Support.created_at)
    ).all()
    handled = db.session.scalars(
        sa.select(Proposal.id).where(
            sa.or_(Proposal.answered_by_id == user.id, Proposal.assignee_id == user.id)
        )
    ).all()
    events = db.session.scalars(
        sa.select(ProposalEvent).where(ProposalEvent.actor_id == user.id)
    ).all()
    if not (proposals or supports or handled or events):
        return None
    return "propositions.json", {
        "propositions": [
            {
                "id": p.id,
                "demarche": p.process_id,
                "titre": p.title,
                "texte": p.body,
                "image": p.image_path,
                "texte_alternatif": p.image_alt,
                "position": (
                    {"latitude": p.latitude, "longitude": p.longitude}
                    if p.latitude is not None
                    else None
                ),
                "statut": p.status,
                "reponse_de_la_collectivite": p.answer,
                "publiee_le": p.created_at,
                "modifiee_le": p.edited_at,
                "retiree_le": p.withdrawn_at,
                "masquee_le": p.hidden_at,
                "raison_du_masquage": p.hidden_reason,
            }
            for p in proposals
        ],
        "soutiens": [
            {"proposition": pid, "titre": title, "le": created_at}
            for created_at, pid, title in supports
        ],
        "propositions_traitees_en_tant_qu_agent": list(handled),
        "evenements_en_tant_qu_agent": [
            {"proposition": e.proposal_id, "type": e.kind, "texte": e.body, "le": e.created_at}
            for e in events
        ],
    }


registry.register(
    PersonalData(
        name="proposals",
        export=export,
        tables=(
            PersonalTable(
                "proposals",
                (
                    "author_id",
                    "title",
                    "body",
                    "latitude",
                    "longitude",
                    "status_reason",
                    "answer",
                    "answered_by_id",
                    "assignee_id",
                    "hidden_reason",
                ),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l(
                    "Contribution publique à une démarche : elle reste, signée « Participant·e "
                    "anonyme » (conditions d'utilisation) ; l'auteur peut la retirer avant."
                ),
            ),
            PersonalTable(
                "supports",
                ("user_id",),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l(
                    "Un soutien compte pour le seuil de réponse de la collectivité ; il reste "
                    "relié au compte anonymisé, sans rien qui identifie la personne."
                ),
            ),
            PersonalTable(
                "proposal_events",
                ("actor_id", "body"),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l("Historique public du traitement par la collectivité."),
            ),
        ),
    )
)
