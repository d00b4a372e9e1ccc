"""Open-data jobs: build one tenant's bundle, and the nightly fan-out over active tenants.

Schedule: ``rq cron participation.opendata.cron`` beside the worker, or the system cron
(``flask opendata build``, which fans out too).
"""

from __future__ import annotations

import logging
from datetime import date

import click
from flask.cli import AppGroup

from core.jobs import enqueue, job
from participation.opendata import services
from tenants.context import current_tenant, tenant_job, tenant_job_id
from tenants.listing import active_tenant_ids

log = logging.getLogger(__name__)


@tenant_job
def build_tenant_bundle(tenant_id: int) -> dict:
    manifest = services.build_bundle(current_tenant())
    log.info("open data bundle of tenant %s: %s bytes", tenant_id, manifest["size"])
    return manifest


def enqueue_bundles(day: date | None = None) -> list[int]:
    """One build job per active tenant (one job id per tenant and night)."""
    day = day or date.today()
    tenant_ids = active_tenant_ids()
    for tenant_id in tenant_ids:
        enqueue(
            build_tenant_bundle,
            tenant_id,
            queue="low",
            job_id=tenant_job_id(tenant_id, "opendata", day.isoformat()),
            timeout=1800,
        )
    return tenant_ids


@job
def enqueue_nightly_bundles() -> int:
    """The nightly sweep (rq cron): fan out one job per active tenant."""
    return len(enqueue_bundles())


opendata_cli = AppGroup("opendata", help="Données ouvertes (bundles ZIP par collectivité).")


def _tenant_ids(tenant: str | None) -> list[int]:
    if tenant is None:
        return active_tenant_ids()
    if tenant.isdigit():
        return [int(tenant)]
    ids = active_tenant_ids(tenant)
    if not ids:
        raise click.BadParameter(f"aucune collectivité active « {tenant} »", param_hint="--tenant")
    return ids


@opendata_cli.command("build")
@click.option(
    "--tenant", default=None, help="Id or slug of one tenant (default: every active one)."
)
@click.option(
    "--enqueue", "use_queue", is_flag=True, help="Enqueue the jobs instead of building here."
)
def build_command(tenant: str | None, use_queue: bool) -> None:
    """Build the open-data bundles (run nightly)."""
    if use_queue and tenant is None:
        click.echo(f"{len(enqueue_bundles())} open-data job(s) enqueued")
        return
    for tenant_id in _tenant_ids(tenant):
        manifest = build_tenant_bundle(tenant_id)
        click.echo(f"tenant {tenant_id}: {manifest['file']} ({manifest['size']} bytes)")
