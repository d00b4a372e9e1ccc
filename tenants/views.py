"""Tenant identity API."""

from __future__ import annotations

from flask import Blueprint, jsonify

from tenants.context import current_tenant

bp = Blueprint("tenant_api", __name__, url_prefix="/api/v1")


@bp.get("/tenant")
def tenant_identity():
    tenant = current_tenant()
    return jsonify(
        {
            "slug": tenant.slug,
            "name": tenant.name,
            "kind": tenant.kind,
            "code": tenant.code,
            "population": tenant.population,
            "status": tenant.status,
        }
    )
