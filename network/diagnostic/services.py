"""Self-diagnostic rules (services add and flush, never commit)."""

from __future__ import annotations

import statistics

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core import clock
from core.db import db
from network.core.models import Network
from network.diagnostic.models import DiagnosticDimension, DiagnosticResponse
from tenants.platform.services import record_platform_action

MIN_LEVELS, MAX_LEVELS = 2, 10


class DiagnosticError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def current_year() -> int:
    return clock.utcnow().year


def dimensions(network: Network, include_archived: bool = False) -> list[DiagnosticDimension]:
    query = sa.select(DiagnosticDimension).where(DiagnosticDimension.network_id == network.id)
    if not include_archived:
        query = query.where(DiagnosticDimension.archived_at.is_(None))
    return list(
        db.session.scalars(query.order_by(DiagnosticDimension.position, DiagnosticDimension.id))
    )


def parse_levels(text: str) -> list[str]:
    levels = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not MIN_LEVELS <= len(levels) <= MAX_LEVELS:
        raise DiagnosticError(
            _("Indiquez de %(a)d à %(b)d niveaux, un par ligne.", a=MIN_LEVELS, b=MAX_LEVELS),
            "levels",
        )
    if any(len(level) > 200 for level in levels):
        raise DiagnosticError(_("Chaque niveau tient en 200 caractères au plus."), "levels")
    return levels


def add_dimension(network: Network, actor, name: str, description: str, levels_text: str):
    levels = parse_levels(levels_text)
    position = len(dimensions(network, include_archived=True))
    dimension = DiagnosticDimension(
        network_id=network.id,
        position=position,
        name=name.strip(),
        description=(description or "").strip(),
        levels=levels,
    )
    db.session.add(dimension)
    db.session.flush()
    record_platform_action(
        "network.diagnostic_dimension_added",
        actor_id=actor.id,
        target_type="network",
        target_id=network.id,
        dimension_id=dimension.id,
        name=dimension.name,
    )
    return dimension


def archive_dimension(network: Network, actor, dimension_id: int) -> DiagnosticDimension:
    dimension = db.session.get(DiagnosticDimension, dimension_id)
    if dimension is None or dimension.network_id != network.id or dimension.archived_at:
        raise DiagnosticError(_("Cette dimension n'existe pas."))
    dimension.archived_at = clock.utcnow()
    db.session.flush()
    record_platform_action(
        "network.diagnostic_dimension_archived",
        actor_id=actor.id,
        target_type="network",
        target_id=network.id,
        dimension_id=dimension.id,
    )
    return dimension


def response_for(network: Network, tenant_id: int, year: int) -> DiagnosticResponse | None:
    return db.session.scalar(
        sa.select(DiagnosticResponse).where(
            DiagnosticResponse.network_id == network.id,
            DiagnosticResponse.tenant_id == tenant_id,
            DiagnosticResponse.year == year,
        )
    )


def responses(network: Network, year: int) -> list[DiagnosticResponse]:
    return list(
        db.session.scalars(
            sa.select(DiagnosticResponse)
            .where(DiagnosticResponse.network_id == network.id, DiagnosticResponse.year == year)
            .options(selectinload(DiagnosticResponse.tenant))
            .order_by(DiagnosticResponse.tenant_id)
        )
    )


def years(network: Network) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(DiagnosticResponse.year)
            .where(DiagnosticResponse.network_id == network.id)
            .distinct()
            .order_by(DiagnosticResponse.year.desc())
        )
    )


def submit_response(
    network: Network, tenant_id: int, actor, scores: dict[int, int], comment: str, year=None
) -> DiagnosticResponse:
    """This year's response of the territory: created once, then corrected during the year."""
    year = year or current_year()
    dims = {d.id: d for d in dimensions(network)}
    if not dims:
        raise DiagnosticError(_("La coordination n'a pas encore défini le questionnaire."))
    clean = {}
    for dimension_id, dimension in dims.items():
        level = scores.get(dimension_id)
        if level is None or not 1 <= int(level) <= len(dimension.levels):
            raise DiagnosticError(
                _("Choisissez un niveau pour « %(name)s ».", name=dimension.name),
                f"d_{dimension_id}",
            )
        clean[str(dimension_id)] = int(level)
    response = response_for(network, tenant_id, year)
    if response is None:
        response = DiagnosticResponse(network_id=network.id, tenant_id=tenant_id, year=year)
        db.session.add(response)
    response.scores = clean
    response.comment = (comment or "").strip()
    response.submitted_by_id = actor.id
    db.session.flush()
    record_platform_action(
        "network.diagnostic_submitted",
        actor_id=actor.id,
        target_type="network",
        target_id=network.id,
        tenant_id=tenant_id,
        year=year,
    )
    return response


def network_median(dims: list[DiagnosticDimension], rows: list[DiagnosticResponse]):
    """Per dimension, the median level of the responses that scored it (None if none)."""
    medians = []
    for dimension in dims:
        values = [r.scores[str(dimension.id)] for r in rows if str(dimension.id) in r.scores]
        medians.append(statistics.median(values) if values else None)
    return medians
