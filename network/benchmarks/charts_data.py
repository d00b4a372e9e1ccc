"""From shared figures to charts (core/charts.py) and their data tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _
from markupsafe import Markup

from core.charts import bar_chart, line_chart
from network.benchmarks import queries
from network.benchmarks.metrics import SMALL_COUNT, Metric


def metric_bar_chart(metric: Metric, figures: list[queries.Figure]) -> Markup:
    """Last twelve months, one bar per territory; suppressed figures read « < 5 » in the
    table and are left out of the bars (an empty bar would hint at a small value)."""
    items = [
        (f.tenant_name, f.value)
        for f in sorted(figures, key=lambda f: f.tenant_name)
        if not f.suppressed and f.value is not None
    ]
    hidden = sum(1 for f in figures if f.suppressed)
    title = _("%(metric)s sur douze mois, par collectivité", metric=metric.name)
    if hidden:
        title += " " + _(
            "(%(n)d collectivité(s) masquée(s) : moins de %(k)d personnes)", n=hidden, k=SMALL_COUNT
        )
    display = [f"{metric.format(value)}\u00a0{metric.unit}" for _name, value in items]
    return bar_chart(title, items, unit=str(metric.unit), display=display)


def territory_line_chart(
    metric: Metric,
    mine: queries.Figure,
    figures: list[queries.Figure],
    month_label: Callable[[date], str],
) -> tuple[Markup, list[dict]]:
    """The territory's months against its peers' median for each month."""
    series = queries.monthly_series(figures, metric.key)
    own_months = series.get(mine.tenant_id, {})
    months = sorted({period for tenant in series.values() for period in tenant})
    rows, own_values, peer_values = [], [], []
    for month in months:
        figure = own_months.get(month)
        peers = [
            f
            for tenant_id, by_month in series.items()
            if tenant_id != mine.tenant_id and (f := by_month.get(month)) is not None
        ]
        median, count = queries.peer_median(figure or mine, peers) if peers else (None, 0)
        value = figure.value if figure is not None and not figure.suppressed else None
        own_values.append(value)
        peer_values.append(median)
        rows.append({"month": month, "figure": figure, "peer_median": median, "peers": count})
    labels = [month_label(m) for m in months]
    chart = line_chart(
        _("%(metric)s par mois", metric=metric.name),
        labels,
        [(mine.tenant_name, own_values), (_("Médiane des pairs"), peer_values)],
        unit=str(metric.unit),
    )
    return chart, rows
