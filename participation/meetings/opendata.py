"""The open-data dataset of the public meetings: ``reunions.csv``, the published ones
(``participation.meetings.visibility``), their minutes once published, and the number of
people registered (never who)."""

from __future__ import annotations

from core.db import db
from participation.meetings import services, visibility
from participation.meetings.models import Meeting
from participation.opendata import services as opendata
from participation.opendata.services import ID, Dataset, Field

MEETING_FIELDS = (
    ID,
    Field("demarche_id", "entier", "La démarche, s'il y en a une."),
    Field("titre", "texte", "Titre."),
    Field("description", "texte", "Présentation (Markdown)."),
    Field("debut", "date-heure", "Début."),
    Field("fin", "date-heure", "Fin."),
    Field("adresse", "texte", "Lieu."),
    Field("lien_visio", "url", "Lien de participation à distance."),
    Field("places", "entier", "Nombre de places ; vide : sans limite."),
    Field("inscrits", "entier", "Inscriptions confirmées."),
    Field("annulee_le", "date-heure", "Date d'annulation, le cas échéant."),
    Field("compte_rendu", "texte", "Compte rendu publié (Markdown)."),
    Field("url", "url", "Page de la réunion."),
)


def meeting_rows():
    meetings = list(db.session.scalars(visibility.published_meetings().order_by(Meeting.id)))
    counts = services.counts([m.id for m in meetings])
    for meeting in meetings:
        yield (
            meeting.id,
            meeting.process_id or "",
            meeting.title,
            meeting.description or "",
            opendata.iso(meeting.starts_at),
            opendata.iso(meeting.ends_at),
            meeting.address or "",
            meeting.online_url or "",
            "" if meeting.capacity is None else meeting.capacity,
            counts[meeting.id].confirmed,
            opendata.iso(meeting.cancelled_at),
            meeting.minutes if visibility.minutes_are_public(meeting) else "",
            opendata.page_url("meetings.show", meeting_id=meeting.id),
        )


opendata.register_dataset(
    Dataset("reunions.csv", "Réunions publiques", MEETING_FIELDS, meeting_rows)
)
