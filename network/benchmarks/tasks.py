"""Jobs of the benchmarks: one per tenant (its figures into public snapshots), and the
nightly fan-out (network/benchmarks/cron.py) that enqueues one per active tenant."""

from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from core import clock
from core.db import db
from core.jobs import enqueue, job
from network.benchmarks.compute import refresh_tenant
from tenants import listing
from tenants.context import current_tenant, tenant_job, tenant_job_id

log = logging.getLogger(__name__)


@tenant_job
def refresh_tenant_metrics(tenant_id: int) -> int:
    """Recompute this tenant's snapshots (idempotent: the window's rows are replaced)."""
    tenant = current_tenant()
    count = refresh_tenant(tenant)
    db.session.commit()
    return count


def active_tenant_ids(tenant_ids: list[int] | None = None) -> list[int]:
    """Suspended spaces keep their figures in the benchmarks."""
    return listing.active_tenant_ids(ids=tenant_ids, include_suspended=True)


def enqueue_refresh(tenant_ids: list[int] | None = None, key: str | None = None) -> list[int]:
    """One job per tenant; the job id carries the tenant and the day, so a second click or
    a second cron run the same day does not pile up jobs."""
    key = key or clock.paris_today().isoformat()
    ids = active_tenant_ids(tenant_ids)
    for tenant_id in ids:
        enqueue(
            refresh_tenant_metrics,
            tenant_id,
            queue="low",
            job_id=tenant_job_id(tenant_id, "metrics", key),
        )
    return ids


@job
def refresh_all_metrics() -> int:
    """Nightly fan-out (rq cron): enqueue the refresh of every active tenant."""
    return len(enqueue_refresh())


network_metrics_cli = AppGroup("network", help="Réseaux : indicateurs et engagements.")


@network_metrics_cli.command("refresh-metrics")
@click.option("--tenant", "tenant_id", type=int, default=None, help="Only this tenant (id).")
@click.option("--enqueue", "use_queue", is_flag=True, help="Enqueue jobs instead of running now.")
def refresh_metrics_command(tenant_id: int | None, use_queue: bool) -> None:
    """Recompute the benchmark snapshots of every active tenant (or of one)."""
    ids = [tenant_id] if tenant_id else None
    if use_queue:
        click.echo(f"{len(enqueue_refresh(ids))} job(s) enqueued")
        return
    for tid in active_tenant_ids(ids):
        count = refresh_tenant_metrics(tid)
        click.echo(f"tenant {tid}: {count} figure(s)")
