"""Absolute URLs to a tenant's or the platform's pages, also from jobs (no request)."""

from __future__ import annotations

from flask import current_app

from core.routing import PLATFORM_SITE, TENANT_SITE
from tenants.context import TenantRef


def _port() -> str:
    domain = current_app.config["PLATFORM_DOMAIN"]
    return ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""


def _build(host: str, site: str, endpoint: str, values: dict) -> str:
    adapter = current_app.url_map.bind(
        host, url_scheme=current_app.config["PREFERRED_URL_SCHEME"], subdomain=site
    )
    return adapter.build(endpoint, values, force_external=True)


def tenant_url(tenant: TenantRef, endpoint: str, **values) -> str:
    """``https://mulhouse.pnyx.fr/…`` for ``endpoint`` on the tenant's primary host."""
    return _build(f"{tenant.primary_host}{_port()}", TENANT_SITE, endpoint, values)


def platform_url(endpoint: str, **values) -> str:
    return _build(current_app.config["PLATFORM_DOMAIN"], PLATFORM_SITE, endpoint, values)
