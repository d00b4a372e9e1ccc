"""The self-diagnostic of a network (platform domain): results with a radar chart of a
territory against the network's median, the yearly questionnaire of a member territory,
and the coordinator's dimensions × levels."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.charts import format_number, radar_chart
from core.db import db
from core.routing import arg_int
from core.security.auth import two_factor_required
from network.core import access
from network.diagnostic import services
from network.diagnostic.forms import ConfirmForm, DimensionForm, response_form
from network.diagnostic.services import DiagnosticError

bp = Blueprint("network_diagnostic", __name__, url_prefix="/reseaux/<slug>/autodiagnostic")


def _network(slug: str):
    return access.require_view(access.get_network(slug), "diagnostic")


def _forbid(message: str):
    from participation.staff.permissions import forbid

    forbid(message)


def _fmt(value) -> str:
    if value is None:
        return "—"
    return format_number(value, digits=3)


@bp.route("")
def index(slug: str):
    network = _network(slug)
    year = arg_int("annee", minimum=1900, maximum=2100) or services.current_year()
    dims = services.dimensions(network)
    rows = services.responses(network, year)
    own_tenant_id = access.member_tenant_id(current_user, network)
    by_tenant = {r.tenant_id: r for r in rows}
    selected_id = arg_int("territoire") or own_tenant_id
    if selected_id not in by_tenant:
        selected_id = rows[0].tenant_id if rows else None
    selected = by_tenant.get(selected_id)
    medians = services.network_median(dims, rows)
    chart = table = None
    if dims and selected is not None:
        mine = [selected.scores.get(str(d.id)) for d in dims]
        top = max(len(d.levels) for d in dims)
        chart = radar_chart(
            _(
                "Autodiagnostic %(year)d : %(name)s et la médiane du réseau",
                year=year,
                name=selected.tenant.name,
            ),
            [d.name for d in dims],
            [(selected.tenant.name, mine), (_("Médiane du réseau"), medians)],
            max_value=top,
        )
        table = [
            {"dimension": d, "mine": _fmt(m), "median": _fmt(med), "levels": len(d.levels)}
            for d, m, med in zip(dims, mine, medians, strict=True)
        ]
    return render_template(
        "network/diagnostic/index.html",
        network=network,
        year=year,
        years=sorted(set(services.years(network)) | {services.current_year()}, reverse=True),
        dimensions=dims,
        responses=rows,
        selected=selected,
        chart=chart,
        table=table,
        own_tenant_id=own_tenant_id,
        own_response=by_tenant.get(own_tenant_id) if own_tenant_id else None,
        can_manage=access.can_manage(current_user, network),
        current_year=services.current_year(),
    )


@bp.route("/remplir", methods=["GET", "POST"])
@two_factor_required
def fill(slug: str):
    network = _network(slug)
    tenant_id = access.member_tenant_id(current_user, network)
    if tenant_id is None:
        _forbid(_("Seules les collectivités membres du réseau remplissent l'autodiagnostic."))
    dims = services.dimensions(network)
    if not dims:
        flash(_("La coordination n'a pas encore défini le questionnaire."), "info")
        return redirect(url_for(".index", slug=network.slug))
    year = services.current_year()
    existing = services.response_for(network, tenant_id, year)
    data = {}
    if existing is not None:
        data = {f"d_{key}": str(value) for key, value in existing.scores.items()}
        data["comment"] = existing.comment
    form = response_form(dims, data=data)
    if form.validate_on_submit():
        scores = {d.id: int(getattr(form, f"d_{d.id}").data) for d in dims}
        try:
            services.submit_response(network, tenant_id, current_user, scores, form.comment.data)
        except DiagnosticError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                _("L'autodiagnostic %(year)d de votre collectivité est enregistré.", year=year),
                "success",
            )
            return redirect(url_for(".index", slug=network.slug, territoire=tenant_id))
    return render_template(
        "network/diagnostic/fill.html",
        network=network,
        form=form,
        dimensions=dims,
        year=year,
        existing=existing,
    )


def _managed(slug: str):
    network = access.get_network(slug)
    if network is None:
        abort(404)
    if not access.can_manage(current_user, network):
        _forbid(_("Cette page est réservée à la coordination du réseau."))
    return network


@bp.route("/dimensions", methods=["GET", "POST"])
@two_factor_required
def dimensions(slug: str):
    network = _managed(slug)
    form = DimensionForm()
    if form.validate_on_submit():
        try:
            services.add_dimension(
                network, current_user, form.name.data, form.description.data, form.levels.data
            )
        except DiagnosticError as error:
            db.session.rollback()
            form.levels.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("La dimension a été ajoutée au questionnaire."), "success")
            return redirect(url_for(".dimensions", slug=network.slug))
    return render_template(
        "network/diagnostic/dimensions.html",
        network=network,
        form=form,
        dimensions=services.dimensions(network),
        confirm_form=ConfirmForm(),
    )


@bp.route("/dimensions/<int:dimension_id>/retirer", methods=["POST"])
@two_factor_required
def archive(slug: str, dimension_id: int):
    network = _managed(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.archive_dimension(network, current_user, dimension_id)
    except DiagnosticError:
        abort(404)
    db.session.commit()
    flash(
        _("La dimension a été retirée du questionnaire (les réponses passées restent)."), "success"
    )
    return redirect(url_for(".dimensions", slug=network.slug))
