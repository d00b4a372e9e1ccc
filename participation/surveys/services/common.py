"""What every part of the consultation services shares: the limits of the questionnaire,
the French labels, :class:`SurveyError`, who manages surveys, and text clean-up."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from participation.accounts.models import StaffRole
from participation.surveys.models import QuestionKind

TITLE_MAX = 200
SUMMARY_MAX = 500
DESCRIPTION_MAX = 20_000
QUESTION_MAX = 500
HELP_MAX = 1000
OPTION_MAX = 200
MAX_OPTIONS = 30
SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 5000
NUMBER_LIMIT = Decimal("1e12")
TEXTS_SHOWN = 100  # free-text answers listed per question on the staff results page
MAX_ID = 2**31 - 1

MANAGERS = (StaffRole.ADMIN, StaffRole.MODERATOR)
#: ``target_type`` of this feature's entries in the audit log.
AUDIT_TARGET = "survey"

KIND_LABELS = {
    QuestionKind.SINGLE: _l("Choix unique"),
    QuestionKind.MULTIPLE: _l("Choix multiple"),
    QuestionKind.SCALE: _l("Échelle de 1 à 5"),
    QuestionKind.RANKING: _l("Classement"),
    QuestionKind.SHORT_TEXT: _l("Texte court"),
    QuestionKind.LONG_TEXT: _l("Texte long"),
    QuestionKind.NUMBER: _l("Nombre"),
    QuestionKind.DATE: _l("Date"),
}
STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "upcoming": _l("À venir"),
    "open": _l("En cours"),
    "closed": _l("Terminée"),
}
AUDIT_ACTION_LABELS = {
    "surveys.created": _l("Consultation créée"),
    "surveys.updated": _l("Consultation modifiée"),
    "surveys.published": _l("Consultation publiée"),
    "surveys.deleted": _l("Consultation supprimée"),
    "surveys.section_saved": _l("Section de questionnaire enregistrée"),
    "surveys.section_deleted": _l("Section de questionnaire supprimée"),
    "surveys.question_saved": _l("Question de questionnaire enregistrée"),
    "surveys.question_deleted": _l("Question de questionnaire supprimée"),
    "surveys.question_moved": _l("Question de questionnaire déplacée"),
    "surveys.results_published": _l("Résultats d'une consultation publiés"),
    "surveys.results_unpublished": _l("Résultats d'une consultation retirés"),
    "surveys.outcome_saved": _l("« Vous avez dit, nous avons fait » enregistré"),
    "surveys.exported": _l("Réponses d'une consultation exportées (CSV)"),
}


class SurveyError(Exception):
    """A rule of the consultations was broken; the message is French and shown as is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def is_valid_id(value: int | None) -> bool:
    return value is not None and 0 < value <= MAX_ID


def is_manager(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_staff", False)
        and user.staff_role in MANAGERS
    )


def clean_text(value: str | None) -> str:
    """A multi-line text with Unix line ends and no surrounding blanks."""
    return (value or "").replace("\r\n", "\n").strip()


def one_line(value: str | None) -> str:
    """A text on one line, its runs of blanks collapsed."""
    return " ".join((value or "").split())
