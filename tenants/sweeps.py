"""Sweep: tenants stuck in ``provisioning`` are provisioned again.

The outbox and the retry policies make a lost provisioning rare, but a job that failed all its
retries (PostgreSQL down for an hour) or a queue emptied by hand would leave the tenant in
``provisioning`` for ever: its progress page says "failed" and signing up again is refused
because the space exists. Every few minutes (core/cron.py) this re-queues, through the outbox,
the provisioning of every tenant that has been waiting longer than
``SWEEP_PROVISIONING_AFTER_MINUTES`` and has no provisioning job waiting or running.
Provisioning is one transaction (tenants/provisioning.py): a failed attempt left nothing
half-built to clean up.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from rq.job import JobStatus

from core.db import db
from core.jobs import get_queue, job
from tenants.provisioning import enqueue_provisioning, provision_job_id

log = logging.getLogger(__name__)

_IN_FLIGHT = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.STARTED)


def stuck_tenant_ids(minutes: int) -> list[int]:
    return list(
        db.session.execute(
            sa.text(
                "SELECT id FROM public.tenants WHERE status = 'provisioning'"
                " AND updated_at < now() - make_interval(mins => :minutes) ORDER BY id"
            ),
            {"minutes": int(minutes)},
        ).scalars()
    )


def _provisioning_in_flight(tenant_id: int) -> bool:
    job_id = provision_job_id(tenant_id)
    pending = db.session.execute(
        sa.text(
            "SELECT 1 FROM public.job_outbox WHERE job_id = :job_id AND relayed_at IS NULL LIMIT 1"
        ),
        {"job_id": job_id},
    ).first()
    if pending is not None:
        return True  # the relay will hand it over
    queue = get_queue("high")
    if not queue.is_async:
        return False
    found = queue.fetch_job(job_id)
    return found is not None and found.get_status(refresh=False) in _IN_FLIGHT


def requeue_stuck_provisioning_now(minutes: int | None = None) -> list[int]:
    """Queue (after the caller's commit) the provisioning of every stuck tenant."""
    minutes = (
        minutes
        if minutes is not None
        else current_app.config.get("SWEEP_PROVISIONING_AFTER_MINUTES", 15)
    )
    requeued = []
    for tenant_id in stuck_tenant_ids(minutes):
        try:
            if _provisioning_in_flight(tenant_id):
                continue
        except RedisError:
            log.warning("sweep: cannot see the queue of tenant %s", tenant_id, exc_info=True)
            continue
        enqueue_provisioning(tenant_id)
        requeued.append(tenant_id)
    if requeued:
        log.warning("sweep: provisioning re-queued for tenants %s", requeued)
    return requeued


@job
def requeue_stuck_provisioning() -> list[int]:
    requeued = requeue_stuck_provisioning_now()
    db.session.commit()  # the outbox rows, handed to rq after the commit
    return requeued
