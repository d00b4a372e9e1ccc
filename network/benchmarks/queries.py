"""The read side of the benchmarks: every page, chart and export of a network goes through
:func:`shared_figures`, which applies the two rules of the issue in one place:

- consent: only the metrics a tenant shares with *this* network, and only while the tenant
  is an active member of it;
- small counts: a figure based on fewer than five people (or items) comes out as
  "suppressed", with neither its value nor its base.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from core.db import db
from network.benchmarks.metrics import METRIC_KEYS, SMALL_COUNT, population_stratum
from network.core.models import MembershipStatus, Network


@dataclass(frozen=True)
class Figure:
    tenant_id: int
    tenant_name: str
    tenant_code: str
    kind: str
    population: int
    metric: str
    period: date
    span: str  # "month" or "year" (the twelve months ending with ``period``)
    value: float | None  # None when suppressed or not computable
    base_count: int | None  # None when suppressed
    suppressed: bool

    @property
    def stratum(self) -> str:
        return population_stratum(self.population)


def public_value(value, base_count: int) -> tuple[float | None, int | None, bool]:
    """The small-count rule: (value, base, suppressed)."""
    if base_count < SMALL_COUNT:
        return None, None, True
    return (None if value is None else float(value)), base_count, False


_SHARED = sa.text(
    """
    SELECT s.tenant_id, t.name AS tenant_name, t.code AS tenant_code, t.kind,
           t.population, s.metric, s.period, s.span, s.value, s.base_count
      FROM public.tenant_metric_snapshots s
      JOIN public.network_metric_shares sh
        ON sh.network_id = :network_id AND sh.tenant_id = s.tenant_id AND sh.metric = s.metric
      JOIN public.network_memberships m
        ON m.network_id = :network_id AND m.tenant_id = s.tenant_id AND m.status = :active
      JOIN public.tenants t ON t.id = s.tenant_id
     WHERE s.metric = ANY(:metrics)
       AND (CAST(:tenant_id AS integer) IS NULL OR s.tenant_id = :tenant_id)
       AND (CAST(:span AS text) IS NULL OR s.span = :span)
     ORDER BY s.metric, t.name, s.tenant_id, s.span, s.period
    """
)


def shared_figures(
    network: Network,
    *,
    metrics: tuple[str, ...] | list[str] | None = None,
    tenant_id: int | None = None,
    span: str | None = None,
) -> list[Figure]:
    rows = db.session.execute(
        _SHARED,
        {
            "network_id": network.id,
            "active": MembershipStatus.ACTIVE.value,
            "metrics": list(metrics or METRIC_KEYS),
            "tenant_id": tenant_id,
            "span": span,
        },
    )
    figures = []
    for row in rows:
        value, base, suppressed = public_value(row.value, row.base_count)
        figures.append(
            Figure(
                tenant_id=row.tenant_id,
                tenant_name=row.tenant_name,
                tenant_code=row.tenant_code,
                kind=row.kind,
                population=row.population or 0,
                metric=row.metric,
                period=row.period,
                span=row.span,
                value=value,
                base_count=base,
                suppressed=suppressed,
            )
        )
    return figures


def latest_year_figures(figures: list[Figure]) -> dict[str, dict[int, Figure]]:
    """metric → tenant → the most recent twelve-month figure."""
    latest: dict[str, dict[int, Figure]] = defaultdict(dict)
    for figure in figures:
        if figure.span != "year":
            continue
        current = latest[figure.metric].get(figure.tenant_id)
        if current is None or figure.period > current.period:
            latest[figure.metric][figure.tenant_id] = figure
    return latest


def is_peer(a: Figure, b: Figure) -> bool:
    """Peers: same kind of collectivité and same population stratum, another territory."""
    return a.tenant_id != b.tenant_id and a.kind == b.kind and a.stratum == b.stratum


def median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def peer_median(figure: Figure, candidates: list[Figure]) -> tuple[float | None, int]:
    """The median of the peers' shown values (suppressed and empty figures left out)."""
    values = [c.value for c in candidates if is_peer(figure, c) and c.value is not None]
    return median_or_none(values), len(values)


def monthly_series(figures: list[Figure], metric: str) -> dict[int, dict[date, Figure]]:
    series: dict[int, dict[date, Figure]] = defaultdict(dict)
    for figure in figures:
        if figure.metric == metric and figure.span == "month":
            series[figure.tenant_id][figure.period] = figure
    return series
