"""rq plumbing: enqueueing, the outbox hand-off, per-job app context, the worker.

Rules (docs/architecture.md, "Jobs: the outbox"):

- a job a transaction decides is written to the outbox table in that same transaction
  (:func:`enqueue_after_commit`, core/outbox.py); after the commit a fast path hands it to
  rq at once, and the relay (``flask jobs relay``) hands over whatever the fast path could
  not (Redis down). A rolled-back transaction leaves no job behind;
- every job kind has a retry policy (:data:`RETRY_POLICIES`, :data:`JOB_RETRY_KINDS`), applied
  by :class:`PnyxQueue` to every job created, whoever creates it (outbox relay, cron fan-out,
  rq's own scheduler); they live in core/queues.py, below the outbox. A job whose worker was
  killed (rq's ``AbandonedJobError``) is retried under the same policy instead of being dropped;
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
from rq import Queue, Worker, get_current_job
from rq.registry import StartedJobRegistry
from sqlalchemy.orm import Session

# Importing the outbox also registers its session hooks (after_commit fast path, rollback).
from core import outbox
from core.db import db

# The queues, their connections and retry policies, re-exported: the rest of the product
# (and its tests) reach the jobs machinery through this module.
from core.queues import (  # noqa: F401
    JOB_RETRY_KINDS,
    RETRY_POLICIES,
    PnyxQueue,
    get_queue,
    job_name,
    keepalive_option,
    redis_connection,
    retry_policy,
    rq_redis_url,
    worker_redis_connection,
)

log = logging.getLogger(__name__)


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
                if outbox_key is not None and outbox.is_done(outbox_key):
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
