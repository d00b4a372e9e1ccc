"""The tenant admin's consent page, on the tenant host: per network, the metrics shared
(``/gestion/reseaux/partage``). Writes public.network_metric_shares and the tenant's
audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import db
from network.benchmarks import services
from network.benchmarks.forms import SharingForm
from network.benchmarks.metrics import METRICS
from network.benchmarks.services import SharingError
from participation.accounts.models import StaffRole
from participation.staff.permissions import staff_required
from participation.staff.services import audit
from tenants.context import current_tenant
from tenants.urls import platform_url

staff_bp = Blueprint("staff_network_sharing", __name__, url_prefix="/gestion/reseaux/partage")


@staff_bp.route("")
@staff_required(StaffRole.ADMIN)
def index():
    tenant = current_tenant()
    entries = []
    for network in services.active_networks_of(tenant.id):
        shared = services.shared_metrics(network.id, tenant.id)
        form = SharingForm(
            formdata=None,
            network_id=str(network.id),
            metrics=sorted(shared),
            prefix=f"n{network.id}",
        )
        entries.append(
            {
                "network": network,
                "form": form,
                "shared": shared,
                "url": platform_url("network_benchmarks.index", slug=network.slug),
            }
        )
    return render_template(
        "staff/network_sharing/index.html",
        entries=entries,
        metrics=METRICS,
        definitions_url=platform_url("network_benchmarks.definitions"),
    )


@staff_bp.route("/<int:network_id>", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def update(network_id: int):
    tenant = current_tenant()
    form = SharingForm(prefix=f"n{network_id}")
    if not form.validate_on_submit() or form.network_id.data != str(network_id):
        abort(400)
    networks = {n.id: n for n in services.active_networks_of(tenant.id)}
    network = networks.get(network_id)
    if network is None:
        abort(404)
    try:
        added, removed = services.set_shared_metrics(network_id, tenant.id, form.metrics.data or [])
    except SharingError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("staff_network_sharing.index"))
    audit(
        "network.metrics_sharing_updated",
        current_user,
        "network",
        network_id,
        network=network.name,
        added=added,
        removed=removed,
    )
    db.session.commit()
    flash(
        _("Les indicateurs partagés avec « %(name)s » ont été enregistrés.", name=network.name),
        "success",
    )
    return redirect(url_for("staff_network_sharing.index"))
