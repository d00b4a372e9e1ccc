"""The open-data datasets of the processes: ``demarches.csv`` and ``phases.csv``, the public
processes (``participation.processes.visibility``) and their phases."""

from __future__ import annotations

from core import clock
from core.db import db
from participation.opendata import services as opendata
from participation.opendata.services import ID, Dataset, Field
from participation.processes import services, visibility
from participation.processes.models import Process

PROCESS_FIELDS = (
    ID,
    Field("titre", "texte", "Titre de la démarche."),
    Field("resume", "texte", "Résumé."),
    Field("description", "texte", "Description (Markdown)."),
    Field("etat", "texte", "« published » (publiée) ou « archived » (archivée)."),
    Field(
        "statut",
        "texte",
        "« open » (en cours), « upcoming » (à venir) ou « finished » (terminée), "
        "au jour de l'export.",
    ),
    Field("theme", "texte", "Thème."),
    Field("quartier", "texte", "Quartier concerné ; vide : tout le territoire."),
    Field("debut", "date", "Premier jour de la première phase (AAAA-MM-JJ)."),
    Field("fin", "date", "Dernier jour de la dernière phase."),
    Field("publiee_le", "date-heure", "Date de publication (ISO 8601, UTC)."),
    Field("url", "url", "Page de la démarche."),
)
PHASE_FIELDS = (
    ID,
    Field("demarche_id", "entier", "La démarche (demarches.csv)."),
    Field("position", "entier", "Ordre dans le calendrier."),
    Field(
        "type",
        "texte",
        "information, contributions, analysis, vote, results, implementation ou other.",
    ),
    Field("titre", "texte", "Titre de la phase."),
    Field("debut", "date", "Premier jour."),
    Field("fin", "date", "Dernier jour."),
    Field(
        "actions",
        "texte",
        "Actions ouvertes, séparées par des espaces : propose, support, comment, debate.",
    ),
)


def _public_processes():
    return db.session.scalars(
        services.with_details(visibility.public_processes()).order_by(Process.id)
    )


def process_rows():
    today = clock.paris_today()
    for process in _public_processes():
        overview = services.process_overview(process, today)
        yield (
            process.id,
            process.title,
            process.summary or "",
            process.description or "",
            process.state.value,
            overview.status.value,
            process.theme.name if process.theme else "",
            process.neighbourhood.name if process.neighbourhood else "",
            opendata.iso(overview.starts_on),
            opendata.iso(overview.ends_on),
            opendata.iso(process.published_at),
            opendata.page_url("processes.show", process_id=process.id),
        )


def phase_rows():
    for process in _public_processes():
        for phase in process.phases:
            yield (
                phase.id,
                process.id,
                phase.position,
                phase.kind.value,
                phase.title,
                opendata.iso(phase.starts_on),
                opendata.iso(phase.ends_on),
                " ".join(services.phase_actions(phase)),
            )


opendata.register_dataset(
    Dataset("demarches.csv", "Démarches publiées et archivées", PROCESS_FIELDS, process_rows)
)
opendata.register_dataset(Dataset("phases.csv", "Phases des démarches", PHASE_FIELDS, phase_rows))
