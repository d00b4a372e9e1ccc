"""The queues: Redis connections for rq, one retry policy per kind of job, and the queue
class that applies it.

The lowest layer of the jobs machinery: the outbox (core/outbox.py) pushes its rows through
:class:`PnyxQueue`, and core/jobs.py (enqueueing, the job wrapper, the worker) builds on both.
Every job kind has a retry policy (:data:`RETRY_POLICIES`, :data:`JOB_RETRY_KINDS`), applied
by :class:`PnyxQueue` to every job created, whoever creates it (outbox relay, cron fan-out,
rq's own scheduler).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry


def redis_connection(app: Flask | None = None) -> Redis:
    """The request-path connection: short timeouts and a circuit breaker (core.redis_client).
    Not for a worker's blocking dequeue, which needs a long socket timeout."""
    from core.redis_client import redis_connection as request_path_connection

    return request_path_connection(app)


def rq_redis_url(app: Flask) -> str:
    """The Redis database of the queues (RQ_REDIS_URL, by default REDIS_URL).

    A database of its own is better in production: the queues must never be evicted,
    while the page cache lives with an eviction policy."""
    return app.config.get("RQ_REDIS_URL") or app.config["REDIS_URL"]


def worker_redis_connection(app: Flask | None = None) -> Redis:
    """The worker's, relay's and scheduler's connection: no short socket timeout (rq sets the
    one its blocking dequeue needs), TCP keepalive, and a health check after idle periods so a
    restarted Redis is noticed on the next command rather than by a stale socket."""
    app = app or current_app
    conn = app.extensions.get("pnyx_worker_redis")
    if conn is None:
        conn = Redis.from_url(
            rq_redis_url(app),
            socket_connect_timeout=5,
            health_check_interval=30,
            **keepalive_option(rq_redis_url(app)),
        )
        app.extensions["pnyx_worker_redis"] = conn
    return conn


def keepalive_option(url: str) -> dict:
    """TCP keepalive, for TCP connections only: redis-py's unix-socket connection (the
    embedded Redis of ``make run``) refuses the option."""
    return {} if url.startswith("unix://") else {"socket_keepalive": True}


# --------------------------------------------------------------------------- retry policies

#: One policy per kind of job. Intervals are the waits before each retry, in seconds; a
#: worker killed mid-job counts as a failure and follows the same policy.
RETRY_POLICIES: dict[str, Retry] = {
    # The collectivité waits on the progress page: retry soon, then for about an hour (the
    # sweep re-queues it later if it is still stuck).
    "provisioning": Retry(max=6, interval=[5, 30, 60, 300, 900, 1800]),
    # SMTP outages are usually short; a recorded Message-ID is never sent twice.
    "mail": Retry(max=5, interval=[10, 60, 300, 900, 3600]),
    # An RGPD archive: heavy, idempotent (rebuilt whole), the user was told "a few minutes".
    "export": Retry(max=3, interval=[60, 300, 1800]),
    # Nightly files: rebuilt whole, and again the next night anyway.
    "opendata": Retry(max=3, interval=[300, 1800, 3600]),
    # Digests and reminders are worth sending the same day, not the next one.
    "digest": Retry(max=3, interval=[120, 600, 1800]),
    # Stripe events: the job re-reads Stripe; Stripe itself re-sends for 3 days.
    "webhook": Retry(max=6, interval=[30, 120, 600, 1800, 3600, 7200]),
    # Figures replaced whole; the next night recomputes them anyway.
    "metrics": Retry(max=2, interval=[600, 3600]),
    # A copy into a tenant (practice library adoption): short, idempotent.
    "tenant-task": Retry(max=4, interval=[10, 60, 300, 1800]),
    # Fan-outs and sweeps of the schedule: idempotent, the next run comes anyway.
    "periodic": Retry(max=2, interval=[60, 600]),
    # A job missing from the table below (a test job, a new job not classified yet).
    "default": Retry(max=3, interval=[10, 60, 300]),
}

#: Every job of the product and its kind (tests/core/test_job_faults.py checks that every
#: function decorated with ``@job`` or ``@tenant_job`` is listed).
JOB_RETRY_KINDS: dict[str, str] = {
    "tenants.provisioning.provision_tenant": "provisioning",
    "participation.staff.tasks.invite_first_admin": "provisioning",
    "billing.signup.record_signup": "provisioning",
    "billing.verification.disputes._hand_over": "provisioning",
    "core.mail.deliver_mail": "mail",
    "core.security.decoy.discard_mail": "mail",
    "participation.engagement.tasks.send_notification_email": "mail",
    "participation.accounts.tasks.export_user_data": "export",
    "participation.opendata.tasks.build_tenant_bundle": "opendata",
    "participation.engagement.tasks.send_daily_digests": "digest",
    "participation.meetings.tasks.send_meeting_reminders": "digest",
    "billing.tasks.process_stripe_event": "webhook",
    "network.benchmarks.tasks.refresh_tenant_metrics": "metrics",
    "network.library.tasks.copy_practice_template": "tenant-task",
    "participation.engagement.cron.enqueue_notification_digests": "periodic",
    "core.cron.purge_job_records": "periodic",
    "participation.meetings.tasks.send_all_meeting_reminders": "periodic",
    "participation.opendata.tasks.enqueue_nightly_bundles": "periodic",
    "network.benchmarks.tasks.refresh_all_metrics": "periodic",
    "billing.tasks.reconcile_with_stripe": "periodic",
    "billing.tasks.run_daily_sweep": "periodic",
    "tenants.sweeps.requeue_stuck_provisioning": "periodic",
    "tenants.verification_cron.purge_verification_data": "periodic",
    "participation.accounts.export_sweep.sweep_stuck_exports": "periodic",
    "participation.accounts.retention.enqueue_retention": "periodic",
    # Retention purges of one tenant: idempotent, and the next night runs them again.
    "participation.accounts.retention.apply_retention": "periodic",
}


def job_name(func: Callable | str) -> str:
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


def retry_policy(func: Callable | str) -> Retry:
    kind = JOB_RETRY_KINDS.get(job_name(func), "default")
    return RETRY_POLICIES[kind]


class PnyxQueue(Queue):
    """A queue that gives every job it creates the retry policy of its kind (unless the
    caller chose one): the outbox relay, the cron fan-outs and the scheduler all create
    their jobs through it."""

    def create_job(self, func, *args, retry: Retry | None = None, **kwargs):
        if retry is None:
            retry = retry_policy(func)
        return super().create_job(func, *args, retry=retry, **kwargs)


def get_queue(name: str = "default", app: Flask | None = None) -> PnyxQueue:
    app = app or current_app
    return PnyxQueue(name, connection=worker_redis_connection(app), is_async=app.config["RQ_ASYNC"])
