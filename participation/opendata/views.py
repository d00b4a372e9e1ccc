"""The open-data page (/open-data) and the bundle download, on the tenant host."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory

from participation.opendata import services
from tenants.context import current_tenant

bp = Blueprint("opendata", __name__)


@bp.get("/open-data")
def index():
    tenant = current_tenant()
    return render_template(
        "opendata/index.html",
        bundle=services.current_bundle(tenant),
        datasets=services.DATASETS,
    )


@bp.get("/open-data/<filename>")
def download(filename: str):
    tenant = current_tenant()
    bundle = services.current_bundle(tenant)
    if bundle is None or filename != bundle["file"]:
        abort(404)
    return send_from_directory(
        services.bundle_folder(tenant.id),
        bundle["file"],
        mimetype="application/zip",
        as_attachment=True,
        max_age=3600,
    )
