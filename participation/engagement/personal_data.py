"""What follows, notifications and moderation reports hold about a person (registered in the
tenant registry). Comments and arguments are exported by ``participation.debates``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry, with_the_account
from participation.engagement.models import Follow, Notification, Report


def _follows_and_notifications(user: Any) -> tuple[str, Any]:
    follows = db.session.scalars(sa.select(Follow).where(Follow.user_id == user.id))
    notifications = db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc())
    )
    reports = db.session.scalars(sa.select(Report).where(Report.reporter_id == user.id))
    return "suivis_notifications_signalements.json", {
        "suivis": [
            {"type": f.target_type, "id": f.target_id, "depuis": f.created_at} for f in follows
        ],
        "notifications": [
            {
                "titre": n.title,
                "texte": n.body,
                "lien": n.url,
                "recue_le": n.created_at,
                "lue_le": n.read_at,
                "envoyee_par_e_mail_le": n.emailed_at,
            }
            for n in notifications
        ],
        "signalements_faits": [
            {
                "type": r.target_type,
                "id": r.target_id,
                "raison": r.reason,
                "precisions": r.details,
                "le": r.created_at,
                "statut": r.status,
            }
            for r in reports
        ],
    }


def export(user: Any) -> list[tuple[str, Any]]:
    return [_follows_and_notifications(user)]


def erase(user: Any) -> None:
    db.session.execute(sa.delete(Follow).where(Follow.user_id == user.id))
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))


registry.register(
    PersonalData(
        name="engagement",
        export=export,
        erase=erase,
        tables=(
            PersonalTable("follows", ("user_id",), Erasure.DELETE, retention=with_the_account),
            PersonalTable(
                "notifications",
                ("user_id", "title", "body"),
                Erasure.DELETE,
                retention=with_the_account,
            ),
            PersonalTable(
                "reports",
                ("reporter_id", "details", "reason", "resolved_by_id", "resolution_note"),
                Erasure.KEEP,
                retention=_l("Durée de la modération du contenu signalé."),
                reason=_l(
                    "Traçabilité de la modération : le signalement reste relié au compte anonymisé."
                ),
            ),
        ),
    )
)
