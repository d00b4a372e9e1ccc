"""Benchmark pages of a network (platform domain): comparison with peers, a territory's
time series, metric definitions, open data (CSV, JSON, SVG), and the coordinator's refresh.

Every figure comes from queries.shared_figures (consent and small counts applied there).
"""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from core import clock
from core.csvexport import excel_csv
from core.db import db
from core.security.auth import two_factor_required
from network.benchmarks import queries
from network.benchmarks.charts_data import metric_bar_chart, territory_line_chart
from network.benchmarks.forms import RefreshForm
from network.benchmarks.metrics import (
    AGE_REFERENCE_SOURCE,
    METRICS,
    METRICS_BY_KEY,
    NATIONAL_ADULT_AGE_SHARES,
    SMALL_COUNT,
    STRATA,
    STRATUM_LABELS,
)
from network.benchmarks.tasks import enqueue_refresh
from network.core import access
from tenants.platform.services import record_platform_action

bp = Blueprint("network_benchmarks", __name__)

LICENCE = "Licence Ouverte / Open Licence version 2.0 (Etalab)"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
KIND_LABELS = {
    "commune": "Commune",
    "epci": "Intercommunalité",
    "departement": "Département",
    "region": "Région",
}


def _network(slug: str):
    return access.require_view(access.get_network(slug), "benchmarks")


def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


def month_label(day: date) -> str:
    return format_date(day, "MMM yyyy")


@bp.app_template_filter("format_month")
def format_month(day: date) -> str:
    return month_label(day)


@bp.app_template_filter("benchmark_figure")
def benchmark_figure(figure) -> str:
    """How a figure reads in a page: « < 5 » when suppressed, « — » when not computable."""
    if figure is None:
        return "—"
    if figure.suppressed:
        return f"< {SMALL_COUNT}"
    return METRICS_BY_KEY[figure.metric].format(figure.value)


@bp.route("/reseaux/indicateurs/definitions")
def definitions():
    return render_template(
        "network/benchmarks/definitions.html",
        metrics=METRICS,
        small_count=SMALL_COUNT,
        strata=STRATA,
        age_shares=NATIONAL_ADULT_AGE_SHARES,
        age_source=AGE_REFERENCE_SOURCE,
        licence=LICENCE,
        licence_url=LICENCE_URL,
    )


@bp.route("/reseaux/<slug>/indicateurs")
def index(slug: str):
    network = _network(slug)
    figures = queries.shared_figures(network, span="year")
    latest = queries.latest_year_figures(figures)
    sections = []
    for metric in METRICS:
        by_tenant = latest.get(metric.key)
        if not by_tenant:
            continue
        rows = []
        candidates = list(by_tenant.values())
        for figure in sorted(candidates, key=lambda f: f.tenant_name):
            median, peers = queries.peer_median(figure, candidates)
            rows.append({"figure": figure, "peer_median": median, "peers": peers})
        sections.append(
            {
                "metric": metric,
                "rows": rows,
                "chart": metric_bar_chart(metric, candidates),
            }
        )
    territories = sorted({(f.tenant_id, f.tenant_name) for f in figures}, key=lambda item: item[1])
    return render_template(
        "network/benchmarks/index.html",
        network=network,
        sections=sections,
        territories=territories,
        own_tenant_id=access.member_tenant_id(current_user, network),
        can_refresh=access.can_manage(current_user, network),
        refresh_form=RefreshForm(),
        stratum_labels=STRATUM_LABELS,
        kind_label=kind_label,
        licence=LICENCE,
    )


@bp.route("/reseaux/<slug>/indicateurs/territoires/<int:tenant_id>")
def territory(slug: str, tenant_id: int):
    network = _network(slug)
    figures = queries.shared_figures(network)
    own = [f for f in figures if f.tenant_id == tenant_id]
    if not own:
        abort(404)
    latest = queries.latest_year_figures(figures)
    sections = []
    for metric in METRICS:
        mine = latest.get(metric.key, {}).get(tenant_id)
        if mine is None:
            continue
        candidates = list(latest[metric.key].values())
        median, peers = queries.peer_median(mine, candidates)
        chart, table = territory_line_chart(metric, mine, figures, month_label)
        sections.append(
            {
                "metric": metric,
                "figure": mine,
                "peer_median": median,
                "peers": peers,
                "chart": chart,
                "table": table,
            }
        )
    first = own[0]
    return render_template(
        "network/benchmarks/territory.html",
        network=network,
        tenant_name=first.tenant_name,
        kind=kind_label(first.kind),
        stratum=STRATUM_LABELS[first.stratum],
        sections=sections,
    )


@bp.route("/reseaux/<slug>/indicateurs/<metric>.svg")
def chart_svg(slug: str, metric: str):
    network = _network(slug)
    definition = METRICS_BY_KEY.get(metric)
    if definition is None:
        abort(404)
    latest = queries.latest_year_figures(
        queries.shared_figures(network, metrics=[metric], span="year")
    )
    figures = list(latest.get(metric, {}).values())
    if not figures:  # nobody shares it with this network: the chart does not exist
        abort(404)
    chart = metric_bar_chart(definition, figures)
    return Response(str(chart), mimetype="image/svg+xml")


def _export_rows(network) -> list[dict]:
    rows = []
    for figure in queries.shared_figures(network):
        metric = METRICS_BY_KEY[figure.metric]
        rows.append(
            {
                "reseau": network.slug,
                "collectivite": figure.tenant_name,
                "code_insee": figure.tenant_code,
                "type": figure.kind,
                "population": figure.population,
                "strate": figure.stratum,
                "indicateur": figure.metric,
                "libelle": str(metric.name),
                "unite": str(metric.unit),
                "periode": figure.period.isoformat(),
                "duree": "mois" if figure.span == "month" else "12 mois",
                "valeur": None if figure.value is None else round(figure.value, 4),
                "effectif": figure.base_count,
                "masque_petit_effectif": figure.suppressed,
            }
        )
    return rows


def _definitions_json(keys: set[str]) -> list[dict]:
    """The definitions of the metrics present in the file (a metric nobody shares with the
    network is not even named)."""
    return [
        {
            "indicateur": m.key,
            "libelle": str(m.name),
            "definition": str(m.definition),
            "formule": str(m.formula),
            "unite": str(m.unit),
            "effectif": str(m.base),
        }
        for m in METRICS
        if m.key in keys
    ]


@bp.route("/reseaux/<slug>/indicateurs.json")
def export_json(slug: str):
    network = _network(slug)
    rows = _export_rows(network)
    payload = {
        "reseau": {"slug": network.slug, "nom": network.name},
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "source": _("Pnyx — indicateurs partagés par les collectivités membres du réseau"),
        "regle_petits_effectifs": _(
            "Une valeur calculée sur moins de %(n)d personnes est masquée (valeur et effectif "
            "nuls, masque_petit_effectif vrai).",
            n=SMALL_COUNT,
        ),
        "definitions": _definitions_json({row["indicateur"] for row in rows}),
        "donnees": rows,
    }
    response = Response(
        json.dumps(payload, ensure_ascii=False, indent=1), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="indicateurs-{network.slug}.json"'
    )
    return response


CSV_COLUMNS = (
    "reseau",
    "collectivite",
    "code_insee",
    "type",
    "population",
    "strate",
    "indicateur",
    "libelle",
    "unite",
    "periode",
    "duree",
    "valeur",
    "effectif",
    "masque_petit_effectif",
    "definition",
    "licence",
)


@bp.route("/reseaux/<slug>/indicateurs.csv")
def export_csv(slug: str):
    network = _network(slug)
    rows = []
    for row in _export_rows(network):
        metric = METRICS_BY_KEY[row["indicateur"]]
        row.update(
            valeur="" if row["valeur"] is None else str(row["valeur"]),
            effectif="" if row["effectif"] is None else row["effectif"],
            masque_petit_effectif="oui" if row["masque_petit_effectif"] else "non",
            definition=f"{metric.definition} Formule : {metric.formula}.",
            licence=LICENCE,
        )
        rows.append([row.get(column, "") for column in CSV_COLUMNS])
    # The shared writer (BOM, ";") neutralises formulas: collectivité names are user data.
    response = Response(excel_csv(CSV_COLUMNS, rows, lineterminator="\n"), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="indicateurs-{network.slug}.csv"'
    )
    return response


@bp.route("/reseaux/<slug>/indicateurs/actualiser", methods=["POST"])
@two_factor_required
def refresh(slug: str):
    network = access.get_network(slug)
    if network is None:
        abort(404)
    if not access.can_manage(current_user, network):
        abort(403)
    form = RefreshForm()
    if not form.validate_on_submit():
        abort(400)
    tenant_ids = access.active_member_ids(network)
    enqueue_refresh(tenant_ids, key=f"n{network.id}-{clock.paris_today().isoformat()}")
    record_platform_action(
        "network.metrics_refresh_requested",
        actor_id=current_user.id,
        target_type="network",
        target_id=network.id,
        tenants=len(tenant_ids),
    )
    db.session.commit()
    flash(
        _("Le recalcul des indicateurs de %(n)d collectivité(s) est lancé.", n=len(tenant_ids)),
        "success",
    )
    return redirect(url_for("network_benchmarks.index", slug=network.slug))
