"""What every part of the processes' services shares: the labels (actions, phase kinds,
states, statuses, audit actions), the limits, :class:`ProcessStatus` and
:class:`ProcessError`."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from participation.processes.models import PhaseKind, ProcessState

#: The actions a phase can open, in the order they are shown.
ACTIONS = ("propose", "support", "comment", "debate")
ACTION_LABELS = {
    "propose": _l("Déposer une proposition"),
    "support": _l("Soutenir"),
    "comment": _l("Commenter"),
    "debate": _l("Débattre"),
}
PHASE_KIND_LABELS = {
    PhaseKind.INFORMATION: _l("Information"),
    PhaseKind.CONTRIBUTIONS: _l("Contributions"),
    PhaseKind.ANALYSIS: _l("Analyse"),
    PhaseKind.VOTE: _l("Vote"),
    PhaseKind.RESULTS: _l("Résultats"),
    PhaseKind.IMPLEMENTATION: _l("Mise en œuvre"),
    PhaseKind.OTHER: _l("Autre étape"),
}
STATE_LABELS = {
    ProcessState.DRAFT: _l("Brouillon"),
    ProcessState.PUBLISHED: _l("Publiée"),
    ProcessState.ARCHIVED: _l("Archivée"),
}
MAX_PHASES = 20
HOME_PER_GROUP = 6
MAX_ID = 2**31 - 1

#: For the staff audit log (registered with core.audit by participation.processes.init_app).
AUDIT_ACTION_LABELS = {
    "processes.process_created": _l("Démarche créée"),
    "processes.process_updated": _l("Démarche modifiée"),
    "processes.process_published": _l("Démarche publiée"),
    "processes.process_archived": _l("Démarche archivée"),
    "processes.process_deleted": _l("Brouillon de démarche supprimé"),
    "processes.phase_added": _l("Phase ajoutée"),
    "processes.phase_updated": _l("Phase modifiée"),
    "processes.phase_deleted": _l("Phase supprimée"),
    "processes.phase_moved": _l("Phase déplacée"),
    "processes.theme_created": _l("Thème créé"),
    "processes.theme_updated": _l("Thème modifié"),
    "processes.theme_deleted": _l("Thème supprimé"),
}
AUDIT_TARGET_LABELS = {"process": _l("Démarche"), "phase": _l("Phase"), "theme": _l("Thème")}


class ProcessStatus(StrEnum):
    """Where a published process stands on a given day (what the public sees)."""

    OPEN = "open"
    UPCOMING = "upcoming"
    FINISHED = "finished"


STATUS_LABELS = {
    ProcessStatus.OPEN: _l("En cours"),
    ProcessStatus.UPCOMING: _l("À venir"),
    ProcessStatus.FINISHED: _l("Terminée"),
}
#: The ``?etat=`` values of the public list.
STATUS_SLUGS = {
    "en-cours": ProcessStatus.OPEN,
    "a-venir": ProcessStatus.UPCOMING,
    "terminees": ProcessStatus.FINISHED,
}


class ProcessError(Exception):
    """A rule about processes was broken; the message is French and shown to the user.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def is_valid_id(value: int | None) -> bool:
    """Ids are PostgreSQL ``integer``s: a larger number from a URL finds nothing (instead
    of an "integer out of range" error)."""
    return value is not None and 0 < value <= MAX_ID
