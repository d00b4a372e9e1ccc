"""What signalements hold about a person (registered in the tenant registry)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry
from participation.problems.models import ProblemReport, ProblemReportEvent


def export(user: Any) -> tuple[str, Any] | None:
    reports = db.session.scalars(
        sa.select(ProblemReport)
        .where(ProblemReport.reporter_id == user.id)
        .order_by(ProblemReport.id)
    ).all()
    events = db.session.scalars(
        sa.select(ProblemReportEvent).where(ProblemReportEvent.actor_id == user.id)
    ).all()
    if not reports and not events:
        return None
    return "signalements.json", {
        "signalements": [
            {
                "id": r.id,
                "categorie": r.category.name if r.category else None,
                "description": r.description,
                "adresse": r.address,
                "position": {"latitude": r.latitude, "longitude": r.longitude},
                "photo": r.image_name,
                "anonyme_sur_le_site": r.is_anonymous,
                "statut": r.status,
                "raison_du_statut": r.status_reason,
                "envoye_le": r.created_at,
                "resolu_le": r.resolved_at,
                "masque_le": r.hidden_at,
            }
            for r in reports
        ],
        "suivi_en_tant_qu_agent": [
            {"signalement": e.report_id, "type": e.kind, "texte": e.body, "le": e.created_at}
            for e in events
        ],
    }


def erase(user: Any) -> None:
    # The report stays for the service that fixes the street; no one can see who sent it.
    db.session.execute(
        sa.update(ProblemReport)
        .where(ProblemReport.reporter_id == user.id)
        .values(is_anonymous=True)
    )


registry.register(
    PersonalData(
        name="problems",
        export=export,
        erase=erase,
        tables=(
            PersonalTable(
                "problem_reports",
                (
                    "reporter_id",
                    "description",
                    "address",
                    "latitude",
                    "longitude",
                    "image_name",
                    "status_reason",
                    "hidden_reason",
                ),
                Erasure.ANONYMISE,
                retention=_l("Durée du traitement du signalement et de son archive."),
                reason=_l(
                    "Demande d'intervention sur l'espace public : la position et la photo "
                    "décrivent la voie publique ; le signalement devient anonyme et reste "
                    "relié au compte anonymisé."
                ),
            ),
            PersonalTable(
                "problem_report_events",
                ("actor_id", "body"),
                Erasure.KEEP,
                retention=_l("Durée du traitement du signalement et de son archive."),
                reason=_l("Historique du traitement par les services de la collectivité."),
            ),
        ),
    )
)
