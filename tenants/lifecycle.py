"""Suspend, activate, archive (with a pg_dump export) and drop tenants."""

from __future__ import annotations

import subprocess
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from core import clock
from core.db import db
from tenants.models import Tenant, TenantStatus
from tenants.schema import drop_schema, quote_schema
from tenants.services import TenantError


def _libpq_url(engine: sa.Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def export_schema(tenant: Tenant) -> Path:
    """Write ``pg_dump -n t_<id>`` of the tenant to the export folder; return the file."""
    export_dir = Path(current_app.config["TENANT_EXPORT_DIR"])
    if not export_dir.is_absolute():
        export_dir = Path(current_app.root_path) / export_dir
    export_dir.mkdir(parents=True, exist_ok=True)
    stamp = clock.utcnow().strftime("%Y%m%dT%H%M%SZ")
    path = export_dir / f"{tenant.slug}-{tenant.schema}-{stamp}.sql"
    result = subprocess.run(
        [
            current_app.config["PG_DUMP"],
            "--no-owner",
            "--no-privileges",
            "--schema",
            quote_schema(tenant.schema),
            "--file",
            str(path),
            _libpq_url(db.engine),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0:
        path.unlink(missing_ok=True)
        raise TenantError(f"L'export de {tenant.name} a échoué : {result.stderr.strip()[:500]}")
    return path


def archive_tenant(tenant: Tenant) -> Path:
    if tenant.status == TenantStatus.ARCHIVED:
        raise TenantError(f"{tenant.name} est déjà archivée.")
    path = export_schema(tenant)
    tenant.archive(str(path))
    db.session.flush()
    return path


#: Callables ``hook(tenant)`` run before a tenant's rows are deleted (other packages remove
#: what points at the tenant from the public schema).
before_drop_hooks: list = []


def drop_tenant(tenant: Tenant) -> None:
    if tenant.status != TenantStatus.ARCHIVED:
        raise TenantError(
            f"{tenant.name} doit d'abord être archivée (export de ses données) avant suppression."
        )
    for hook in before_drop_hooks:
        hook(tenant)
    drop_schema(db.session.connection(), tenant.schema)
    db.session.delete(tenant)
    db.session.flush()
