"""Per-request tenancy: pick the site from the host, enter the tenant, enforce its status."""

from __future__ import annotations

import logging

from flask import Flask, g, request
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from core.errors import abort_with
from core.routing import PLATFORM_SITE, TENANT_SITE
from tenants.context import enter_tenant
from tenants.resolver import PLATFORM, TENANT, UNAVAILABLE, HostResolver, Site

log = logging.getLogger(__name__)

SITE_ENVIRON_KEY = "pnyx.site"

#: ``guard(tenant) -> str | None``: consulted before every write on a tenant site; a
#: returned French message refuses the write with 403 (billing's read-only mode uses it).
write_guards: list = []
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes that answer on any host, whatever the tenant's state (load balancers probe them).
ALWAYS_AVAILABLE = frozenset({"health.healthz", "tenant_health.healthz"})
# What a space pending verification still answers to anyone: what its requester needs to
# accept the invitation, log in and prepare it (the staff pages check their own rights).
PENDING_OPEN_BLUEPRINTS = frozenset({"staff"})
PENDING_OPEN_ENDPOINTS = frozenset(
    {
        "static",
        "tenant_static",
        "branding.logo",
        "branding.theme_css",
        "accounts.login",
        "accounts.logout",
        "accounts.forgot_password",
        "accounts.reset_password",
    }
)


def _passes_while_pending() -> bool:
    """The requester and their colleagues (staff members) see the space as it will be;
    the public, citizens included, sees the pending page and cannot write."""
    endpoint = request.endpoint or ""
    if endpoint in PENDING_OPEN_ENDPOINTS or endpoint.split(".", 1)[0] in PENDING_OPEN_BLUEPRINTS:
        return True
    from flask_login import current_user

    return bool(
        getattr(current_user, "is_authenticated", False)
        and getattr(current_user, "is_staff", False)
    )


def _pending_verification(tenant):
    """The French page of a space being verified: not indexed, not cached, no contribution."""
    from flask import make_response, render_template

    if request.method in SAFE_METHODS:
        response = make_response(render_template("tenants/pending.html", space=tenant), 200)
    else:
        response = make_response(
            render_template("tenants/pending.html", space=tenant, refused=True), 403
        )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def site_for_environ(resolver: HostResolver, environ: dict) -> Site:
    site = environ.get(SITE_ENVIRON_KEY)
    if site is None:
        from werkzeug.wsgi import get_host

        host = get_host(environ)
        try:
            site = resolver.resolve(host)
        except SQLAlchemyError:
            # Database down and host not cached: only /healthz can answer (it says why).
            log.exception("host resolution failed for %s", host)
            site = Site(UNAVAILABLE, host)
        environ[SITE_ENVIRON_KEY] = site
    return site


def current_site() -> Site:
    return request.environ[SITE_ENVIRON_KEY]


def init_app(app: Flask, resolver: HostResolver) -> None:
    def marker(environ: dict) -> str:
        site = site_for_environ(resolver, environ)
        return TENANT_SITE if site.kind == TENANT else PLATFORM_SITE

    app.site_marker_for = marker

    @app.before_request
    def _enter_site():
        site = current_site()
        g.site = site
        if request.endpoint in ALWAYS_AVAILABLE:
            return None
        if site.kind == PLATFORM:
            return None
        if site.kind == UNAVAILABLE:
            abort_with(
                503,
                _(
                    "Le service est momentanément indisponible. Merci de réessayer "
                    "dans quelques instants."
                ),
            )
        if site.kind != TENANT or site.tenant.status == "archived":
            abort_with(404, _("Aucun espace de participation n'existe à cette adresse."))
        tenant = site.tenant
        if tenant.status == "provisioning":
            abort_with(
                503,
                _(
                    "L'espace de participation de %(name)s est en cours de création. "
                    "Il sera prêt dans quelques instants.",
                    name=tenant.name,
                ),
            )
        enter_tenant(tenant)
        if tenant.status == "pending_verification" and not _passes_while_pending():
            return _pending_verification(tenant)
        if request.method in SAFE_METHODS:
            return None
        if tenant.status == "suspended":
            abort_with(
                403,
                _(
                    "L'espace de participation de %(name)s est suspendu : il reste "
                    "consultable, mais aucune modification n'est possible pour le "
                    "moment.",
                    name=tenant.name,
                ),
            )
        for guard in write_guards:
            message = guard(tenant)
            if message:
                abort_with(403, message)
        return None

    @app.context_processor
    def _site_globals():
        site = g.get("site")
        return {"site": site, "tenant": site.tenant if site else None}
