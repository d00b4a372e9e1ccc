"""rq plumbing: queues, the outbox hand-off, retry policies, per-job app context, the worker.

Rules (ARCHITECTURE §3):

- a job a transaction decides is written to the outbox table in that same transaction
  (:func:`enqueue_after_commit`, core/outbox.py); after the commit a fast path hands it to
  rq at once, and the relay (``flask jobs relay``) hands over whatever the fast path could
  not (Redis down). A rolled-back transaction leaves no job behind;
- every job kind has a retry policy (:data:`RETRY_POLICIES`, :data:`JOB_RETRY_KINDS`), applied
  by :class:`PnyxQueue` to every job created, whoever creates it (outbox relay, cron fan-out,
  rq's own scheduler); a job whose worker was killed (rq's ``AbandonedJobError``) is retried
  under the same policy instead of being dropped;
- the forked work horse never reuses the parent's database connections; every job runs in a
  fresh app context, so it has a session of its own.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker, get_current_job
from rq.registry import StartedJobRegistry
from sqlalchemy.orm import Session

from core.db import db

log = logging.getLogger(__name__)


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
    "tenants.verification_services._hand_over": "provisioning",
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
    "core.cron.enqueue_notification_digests": "periodic",
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


def enqueue(
    func: Callable, *args: Any, queue: str = "default", job_id: str | None = None, **options: Any
):
    """Enqueue now, straight into Redis (raises when Redis is down).

    Only for code that runs outside a transaction and is itself retried when this fails:
    the cron fan-outs (a job that raises is retried by its own policy). Anything decided
    by a transaction goes through :func:`enqueue_after_commit`."""
    return get_queue(queue).enqueue_call(func, args=args, job_id=job_id, **options)


def enqueue_after_commit(
    func: Callable,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    session: Session | None = None,
    **options: Any,
) -> None:
    """Write the job into the outbox, in the current transaction of ``session``.

    It reaches rq once the transaction commits (at once when Redis answers, through the
    relay otherwise) and never if it rolls back. ``options`` are rq's ``enqueue_call``
    options (``retry`` overrides the policy of the job's kind, ``depends_on``, ``timeout``,
    ``description``...)."""
    from core import outbox

    outbox.write_job(
        session or db.session(), func, args, queue=queue, job_id=job_id, options=options
    )


# --------------------------------------------------------------------------- the job wrapper

#: Set while a job body runs: a job calling another job function directly (not through a
#: queue) is part of the outer job, whose outbox row is the one to check and mark.
_running_outbox_job: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pnyx_running_outbox_job", default=False
)


def _outbox_key_of_current_job() -> str | None:
    current = get_current_job()
    if current is None or current.worker_name == "sync":
        # A synchronous queue (RQ_ASYNC=False) runs the job inside the relay, which holds
        # the row's lock and marks it itself.
        return None
    key = (current.meta or {}).get("outbox_key")
    return str(key) if key else None


def job(func: Callable) -> Callable:
    """Run ``func`` in its own app context (and so its own session), created if needed.

    A job that came from the outbox runs at most once to completion: its row is marked done
    when it returns, and a copy of it pushed twice (the relay crashed between the push and
    marking the row) finds the row done and returns at once."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any):
        app = current_app._get_current_object() if has_app_context() else _worker_app()
        outbox_key = None if _running_outbox_job.get() else _outbox_key_of_current_job()
        with app.app_context():
            token = _running_outbox_job.set(True) if outbox_key is not None else None
            try:
                if outbox_key is not None:
                    from core import outbox

                    if outbox.is_done(outbox_key):
                        log.info("job %s: outbox row %s already done", job_name(func), outbox_key)
                        return None
                result = func(*args, **kwargs)
                if outbox_key is not None:
                    outbox.mark_done(outbox_key)
                return result
            finally:
                if token is not None:
                    _running_outbox_job.reset(token)
                db.session.remove()

    registered_jobs.add(job_name(func))
    return wrapper


#: Dotted names of every function wrapped by :func:`job` (imported so far).
registered_jobs: set[str] = set()

_app_for_worker: Flask | None = None


def _worker_app() -> Flask:
    global _app_for_worker
    if _app_for_worker is None:
        from core import create_app

        _app_for_worker = create_app()
    return _app_for_worker


# --------------------------------------------------------------------------- the worker


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_is_dead(connection: Redis, worker_name: str | None) -> bool:
    """True when ``worker_name`` is certainly gone: its key expired or was removed at its
    death, or it ran on this host under a pid that no longer exists (SIGKILL, OOM killer)."""
    if not worker_name:
        return False
    data = connection.hgetall(Worker.redis_worker_namespace_prefix + worker_name)
    if not data:
        return True
    if data.get(b"death"):
        return True
    hostname = (data.get(b"hostname") or b"").decode()
    pid = data.get(b"pid")
    if hostname == socket.gethostname() and pid and pid.isdigit():
        return not _pid_alive(int(pid))
    return False


def requeue_jobs_of_dead_workers(queues: list[Queue], connection: Redis) -> list[str]:
    """Hand the jobs of dead workers to rq's own abandoned-job handling now.

    rq notices an abandoned job only once its execution's heartbeat has expired (a minute
    and a half at best) and a worker cleans the registries (every 10 minutes by default).
    A worker restarted after a SIGKILL knows better: the pid that ran the job is gone. Its
    registry entry is expired at once and rq's cleanup then does what it does for any
    ``AbandonedJobError``: failure callbacks, and a retry under the job's policy (a job
    with no retry left goes to the failed registry)."""
    requeued: list[str] = []
    for queue in queues:
        registry = StartedJobRegistry(queue.name, connection=connection, job_class=queue.job_class)
        expire: dict[bytes, int] = {}
        for entry in connection.zrange(registry.key, 0, -1):
            job_id = registry.parse_job_id(entry)
            found = queue.fetch_job(job_id)
            if found is None:
                continue
            if _worker_is_dead(connection, found.worker_name):
                expire[entry] = 0
                requeued.append(job_id)
        if expire:
            connection.zadd(registry.key, expire, xx=True)
            log.warning("jobs of dead workers on %s handed to retry: %s", queue.name, requeued)
            registry.cleanup(timestamp=1)  # only the entries just set to 0
    return requeued


class PnyxWorker(Worker):
    """An rq worker whose work horse drops the inherited connection pool, and which retries
    at start-up (and at each maintenance) the jobs of workers that died mid-job."""

    flask_app: Flask | None = None
    queue_class = PnyxQueue

    def main_work_horse(self, job, queue):
        # The forked child shares the parent's sockets: close=False detaches them without
        # sending a Terminate that would kill the parent's connections.
        if self.flask_app is not None:
            with self.flask_app.app_context():
                db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)

    def validate_queues(self):
        # Any rq queue will do: the retry policy matters where jobs are created.
        for queue in self.queues:
            if not isinstance(queue, Queue):
                raise TypeError(f"{queue} is not an rq Queue")

    def subscribe(self):
        # rq's thread waits up to 60 s per read of the command channel, and its stop joins
        # that thread: a worker stopping before the channel was subscribed (a burst worker,
        # a quick SIGTERM) then hung for a minute. One second costs nothing.
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def run_maintenance_tasks(self):
        try:
            requeue_jobs_of_dead_workers(self.queues, self.connection)
        except RedisError:
            log.warning("could not look for the jobs of dead workers", exc_info=True)
        super().run_maintenance_tasks()


def run_worker(
    app: Flask, queues: list[str] | None = None, burst: bool = False, with_scheduler: bool = True
) -> bool:
    """Run a worker; when it stops on an error (Redis restarted mid-command), start a new
    one after a pause instead of exiting. A requested stop (SIGINT, SIGTERM) ends it."""
    global _app_for_worker
    _app_for_worker = app
    names = queues or app.config["RQ_QUEUES"]
    conn = worker_redis_connection(app)
    pause = 1.0
    while True:
        worker = PnyxWorker(
            [PnyxQueue(name, connection=conn) for name in names],
            connection=conn,
            maintenance_interval=int(app.config.get("RQ_MAINTENANCE_INTERVAL", 60)),
        )
        worker.flask_app = app
        started = time.monotonic()
        try:
            worked = worker.work(burst=burst, with_scheduler=with_scheduler)
        except RedisError:
            log.warning("worker: Redis unavailable at start-up", exc_info=True)
            worked = False
        if burst or worker._stop_requested:
            return worked
        if time.monotonic() - started > 60:
            pause = 1.0
        log.warning("worker stopped unexpectedly; starting a new one in %.0f s", pause)
        time.sleep(pause)
        pause = min(pause * 2, 30.0)


# Registers the outbox's session hooks (after_commit fast path, rollback) with this module.
from core import outbox as _outbox  # noqa: E402,F401
