"""Demo collectivités: three real communes of different sizes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from core import demo
from core.db import db
from tenants.models import Tenant, TenantStatus
from tenants.provisioning import provision_now
from tenants.services import create_tenant

# Saillans (Drôme) is INSEE 26289; 26333 is Saint-Vallier.
DEMO_TENANTS = [("68224", "mulhouse"), ("26289", "saillans"), ("49007", "angers")]


@demo.register(order=10)
def seed_tenants():
    for code, slug in DEMO_TENANTS:
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            tenant = create_tenant(code, current_app.config["PLATFORM_DOMAIN"], slug=slug)
            db.session.commit()
        if tenant.status == TenantStatus.PROVISIONING:
            # Synchronously: the demo must be browsable as soon as the seed returns.
            provision_now(db.engine, tenant.id)
        db.session.expire_all()
        yield f"{tenant.name}: http://{tenant.primary_host}{_port()}/ ({tenant.status.value})"
    from tenants import invalidate_host_cache

    invalidate_host_cache()


def _port() -> str:
    domain = current_app.config["PLATFORM_DOMAIN"]
    return ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""
