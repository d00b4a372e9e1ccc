"""CSV export of proposals, for French Excel: UTF-8 with a BOM (else Excel reads Latin-1),
``;`` as the separator (the comma is the French decimal separator), one row per proposal.

Cells that a spreadsheet would read as a formula are neutralised by the shared writer
(core/csvexport.py): an exported citizen text must never run in the agent's spreadsheet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from core import clock
from core.csvexport import excel_csv
from participation.proposals.models import Proposal
from participation.proposals.services import public_name, status_label

COLUMNS = (
    _l("Numéro"),
    _l("Titre"),
    _l("Statut"),
    _l("Raison du statut"),
    _l("Soutiens"),
    _l("Auteur ou autrice"),
    _l("Démarche"),
    _l("Thème"),
    _l("Quartier"),
    _l("Service"),
    _l("Agent"),
    _l("Échéance"),
    _l("Réponse"),
    _l("Déposée le"),
    _l("Répondue le"),
    _l("Retirée le"),
)


def _date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M")


def proposal_row(proposal: Proposal) -> list[object]:
    return [
        proposal.id,
        proposal.title,
        status_label(proposal.status),
        proposal.status_reason,
        proposal.supports_count,
        public_name(proposal.author),
        proposal.process.title if proposal.process else "",
        proposal.theme.name if proposal.theme else "",
        proposal.neighbourhood.name if proposal.neighbourhood else "",
        proposal.service.name if proposal.service else "",
        proposal.assignee.display_name if proposal.assignee else "",
        _date(proposal.due_on),
        proposal.answer,
        _datetime(proposal.created_at),
        _datetime(proposal.answered_at),
        _datetime(proposal.withdrawn_at),
    ]


def proposals_csv(proposals: Iterable[Proposal]) -> str:
    """The whole file as text, BOM first; lines end with CRLF as RFC 4180 says."""
    return excel_csv(
        [str(column) for column in COLUMNS], (proposal_row(proposal) for proposal in proposals)
    )
