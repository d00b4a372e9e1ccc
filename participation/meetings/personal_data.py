"""What public meetings hold about a person (registered in the tenant registry).

Deleting an account gives up its places: for a meeting still to come, the seat goes to the
first person on the waiting list (who is e-mailed), then the registrations are deleted.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import PUBLIC_ARCHIVE, registry, with_the_account
from participation.meetings import services
from participation.meetings.models import (
    Meeting,
    MeetingRegistration,
    RegistrationStatus,
)


def export(user: Any) -> tuple[str, Any] | None:
    rows = db.session.execute(
        sa.select(MeetingRegistration, Meeting.title, Meeting.starts_at)
        .join(Meeting, Meeting.id == MeetingRegistration.meeting_id)
        .where(MeetingRegistration.user_id == user.id)
        .order_by(Meeting.starts_at)
    ).all()
    created = db.session.scalars(sa.select(Meeting).where(Meeting.created_by_id == user.id)).all()
    if not rows and not created:
        return None
    return "reunions.json", {
        "inscriptions": [
            {
                "reunion": title,
                "debut": starts_at,
                "statut": r.status,
                "inscrit_le": r.created_at,
                "en_attente_depuis": r.queued_at
                if r.status == RegistrationStatus.WAITING
                else None,
                "place_obtenue_le": r.promoted_at,
                "annulee_le": r.cancelled_at,
                "rappel_envoye_le": r.reminded_at,
            }
            for r, title, starts_at in rows
        ],
        "reunions_organisees": [{"id": m.id, "titre": m.title} for m in created],
    }


def erase(user: Any) -> None:
    registrations = db.session.scalars(
        sa.select(MeetingRegistration).where(
            MeetingRegistration.user_id == user.id,
            MeetingRegistration.status == RegistrationStatus.CONFIRMED,
        )
    ).all()
    meeting_ids = sorted({r.meeting_id for r in registrations})
    db.session.execute(sa.delete(MeetingRegistration).where(MeetingRegistration.user_id == user.id))
    db.session.flush()
    for meeting_id in meeting_ids:
        meeting = services.lock_meeting(meeting_id)
        if meeting is not None:
            services.fill_free_places(meeting)  # no-op for past or cancelled meetings


registry.register(
    PersonalData(
        name="meetings",
        export=export,
        erase=erase,
        order=10,  # before the account row loses its address (the promoted are e-mailed)
        tables=(
            PersonalTable(
                "meeting_registrations", ("user_id",), Erasure.DELETE, retention=with_the_account
            ),
            PersonalTable(
                "meetings",
                (
                    "created_by_id",
                    "title",
                    "description",
                    "address",
                    "minutes",
                    "cancellation_reason",
                ),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l(
                    "Réunion publique de la collectivité : lieu public, compte rendu public ; "
                    "l'agent qui l'a créée devient anonyme."
                ),
            ),
            PersonalTable(
                "meeting_proposals",
                ("speaker", "entered_by_id"),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l("Compte rendu public : qui a présenté une proposition en séance."),
            ),
        ),
    )
)
