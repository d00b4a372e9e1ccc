"""rq plumbing: queues, enqueue-after-commit, per-job app context, the worker.

Rules (ARCHITECTURE §3): a job is enqueued only once the transaction it depends on has
committed; the forked work horse never reuses the parent's database connections; every
job runs in a fresh app context, so it has a session of its own.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.db import db

log = logging.getLogger(__name__)

_PENDING_KEY = "pnyx_pending_jobs"


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    conn = app.extensions.get("pnyx_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)
        app.extensions["pnyx_redis"] = conn
    return conn


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    app = app or current_app
    return Queue(name, connection=redis_connection(app), is_async=app.config["RQ_ASYNC"])


def enqueue(
    func: Callable, *args: Any, queue: str = "default", job_id: str | None = None, **options: Any
):
    """Enqueue now. Use :func:`enqueue_after_commit` when the job reads rows being written."""
    return get_queue(queue).enqueue_call(func, args=args, job_id=job_id, **options)


def enqueue_after_commit(
    func: Callable,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    session: Session | None = None,
    **options: Any,
) -> None:
    """Enqueue once the current transaction commits; drop it if the transaction rolls back."""
    session = session or db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, not just a commit, settles the pending jobs
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append((func, args, queue, job_id, options))


@event.listens_for(Session, "after_commit")
def _flush_pending_jobs(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    for func, args, queue, job_id, options in pending:
        enqueue(func, *args, queue=queue, job_id=job_id, **options)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_jobs(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_PENDING_KEY, None)


def job(func: Callable) -> Callable:
    """Run ``func`` in its own app context (and so its own session), created if needed."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any):
        app = current_app._get_current_object() if has_app_context() else _worker_app()
        with app.app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


_app_for_worker: Flask | None = None


def _worker_app() -> Flask:
    global _app_for_worker
    if _app_for_worker is None:
        from core import create_app

        _app_for_worker = create_app()
    return _app_for_worker


class PnyxWorker(Worker):
    """An rq worker whose work horse drops the inherited connection pool."""

    flask_app: Flask | None = None

    def main_work_horse(self, job, queue):
        # The forked child shares the parent's sockets: close=False detaches them without
        # sending a Terminate that would kill the parent's connections.
        if self.flask_app is not None:
            with self.flask_app.app_context():
                db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)


def run_worker(
    app: Flask, queues: list[str] | None = None, burst: bool = False, with_scheduler: bool = True
) -> bool:
    global _app_for_worker
    _app_for_worker = app
    names = queues or app.config["RQ_QUEUES"]
    conn = redis_connection(app)
    worker = PnyxWorker([Queue(name, connection=conn) for name in names], connection=conn)
    worker.flask_app = app
    return worker.work(burst=burst, with_scheduler=with_scheduler)
