"""Tenants: the collectivités, their hosts, their schemas and their lifecycle."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.routing import TENANT_SITE

_DIRTY_KEY = "pnyx_tenant_cache_dirty"


def init_app(app: Flask) -> None:
    from tenants import (  # noqa: F401 - demo registers its seeder
        cli,
        demo,
        verification_personal_data,  # noqa: F401 - its RGPD rules
        views,
        web,
    )
    from tenants.resolver import HostResolver

    resolver = HostResolver(app)
    app.extensions["pnyx_host_resolver"] = resolver
    web.init_app(app, resolver)
    app.register_blueprint(views.bp, subdomain=TENANT_SITE)
    # Static files on tenant hosts too (same folder, its own endpoint).
    app.add_url_rule(
        f"{app.static_url_path}/<path:filename>",
        endpoint="tenant_static",
        view_func=app.send_static_file,
        subdomain=TENANT_SITE,
    )
    cli.init_app(app)
    from core.cli import register_sweep

    register_sweep(app, _sweep_stuck_provisioning)


def _sweep_stuck_provisioning() -> str:
    """``flask jobs sweep``: tenants stuck in provisioning are queued again."""
    from tenants.sweeps import requeue_stuck_provisioning_now

    return f"provisioning re-queued: {requeue_stuck_provisioning_now() or 'none'}"


def _touches_tenancy(session: Session) -> bool:
    from tenants.models import Domain, Tenant

    return any(
        isinstance(obj, (Tenant, Domain))
        for obj in (*session.new, *session.dirty, *session.deleted)
    )


@event.listens_for(Session, "after_flush")
def _mark_cache_dirty(session: Session, flush_context) -> None:
    if _touches_tenancy(session):
        session.info[_DIRTY_KEY] = True


@event.listens_for(Session, "after_commit")
def _invalidate_cache(session: Session) -> None:
    if session.info.pop(_DIRTY_KEY, False):
        invalidate_host_cache()


def invalidate_host_cache() -> None:
    from flask import current_app, has_app_context

    if has_app_context():
        resolver = current_app.extensions.get("pnyx_host_resolver")
        if resolver is not None:
            resolver.invalidate()
