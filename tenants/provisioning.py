"""Provisioning a tenant: schema, migrations, default settings, then ``active``.

One transaction does it all, under a row lock on the tenant, so a retried or duplicated job
either finds the work done or does it completely; a failure leaves nothing half-built.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from core.db import db, schema_for_tenant_id
from core.jobs import enqueue_after_commit, job
from tenants.migrate import upgrade_schema_in_transaction

log = logging.getLogger(__name__)

DEFAULT_PRIMARY_COLOUR = "#1d4e89"

#: Other packages append ``hook(conn, tenant_row)`` to add their defaults, idempotently,
#: inside the provisioning transaction (the search_path is the tenant schema).
provisioning_hooks: list[Callable[[sa.Connection, sa.Row], None]] = []


def default_settings(tenant: sa.Row) -> dict:
    return {
        "site_name": tenant.name,
        "primary_colour": DEFAULT_PRIMARY_COLOUR,
        "logo_url": None,
        "dpo_contact": None,
        "default_locale": "fr",
    }


def provision_job_id(tenant_id: int) -> str:
    return f"t{int(tenant_id)}-provision"


def enqueue_provisioning(tenant_id: int) -> None:
    enqueue_after_commit(
        provision_tenant, tenant_id, queue="high", job_id=provision_job_id(tenant_id)
    )


def provision_now(engine: sa.Engine, tenant_id: int, lock_timeout: str = "5s") -> str:
    schema = schema_for_tenant_id(tenant_id)
    with engine.connect() as conn, conn.begin():
        tenant = conn.execute(
            sa.text("SELECT id, slug, name, status FROM public.tenants WHERE id = :id FOR UPDATE"),
            {"id": tenant_id},
        ).first()
        if tenant is None:
            log.warning("provisioning: tenant %s no longer exists", tenant_id)
            return "missing"
        if tenant.status == "archived":
            return "archived"
        upgrade_schema_in_transaction(conn, schema, lock_timeout)
        conn.execute(
            sa.text(
                "INSERT INTO settings (key, value) VALUES (:k, CAST(:v AS jsonb))"
                " ON CONFLICT (key) DO NOTHING"
            ),
            [{"k": k, "v": json.dumps(v)} for k, v in default_settings(tenant).items()],
        )
        for hook in provisioning_hooks:
            hook(conn, tenant)
        status = tenant.status
        if status == "provisioning":
            status = conn.scalar(
                # A self-service sign-up not verified yet waits, hidden from citizens.
                sa.text(
                    "UPDATE public.tenants SET status = CASE WHEN verification_required"
                    " AND verified_at IS NULL THEN 'pending_verification' ELSE 'active' END,"
                    " migration_state = 'ok', migration_error = NULL, updated_at = now()"
                    " WHERE id = :id RETURNING status"
                ),
                {"id": tenant_id},
            )
    return status


@job
def provision_tenant(tenant_id: int) -> str:
    result = provision_now(
        db.engine, tenant_id, current_app.config["TENANT_MIGRATION_LOCK_TIMEOUT"]
    )
    from tenants import invalidate_host_cache

    invalidate_host_cache()
    log.info("tenant %s provisioned: %s", tenant_id, result)
    return result
