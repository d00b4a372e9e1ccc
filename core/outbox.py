"""The jobs outbox: a job is written in the transaction that decides it, then handed to rq.

Why: an after-commit push to Redis loses the job when Redis is down (the data is committed,
the push raises, the user sees a 500 and nothing is ever sent). Here the job is a row of
``public.job_outbox`` written by :func:`write_job` in the same transaction as the data, so
both commit or neither does. Then:

- **fast path**: right after the commit, :func:`hand_over` pushes that transaction's rows to
  rq, on the request path's Redis connection (short timeouts, circuit breaker). A failure is
  logged, never raised: the user's action has succeeded;
- **relay**: ``flask jobs relay`` (:func:`run_relay`) hands over whatever is left, oldest
  first, with ``FOR UPDATE SKIP LOCKED`` (several relays, and the fast path, never take the
  same row), and backs off while Redis is down.

Exactly once per row: the rq job carries the row's identity in ``meta`` (id, and id with
creation time). A row pushed
but not marked (relay killed in between) is found in Redis under its job id and only marked;
a copy of it run twice finds its row ``done`` (core.jobs.job) and returns. A row whose job id
is already waiting in a queue under another row is not pushed again (the waiting job reads
the current state when it runs); one whose job id is running stays pending until it ends.

With ``RQ_ASYNC=False`` (tests) rq runs the job inside the push, so jobs run at relay time:
right after the commit, or when the relay runs after Redis came back.

One public table, not one per tenant schema: a relay would otherwise poll thousands of
schemas to find the few rows waiting; the tenant is kept in ``tenant_id``.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry as RedisRetry
from rq.job import JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import db
from core.queues import PnyxQueue, job_name, keepalive_option, rq_redis_url

log = logging.getLogger(__name__)

_SESSION_KEY = "pnyx_outbox_ids"
_COMMITTED_KEY = "pnyx_outbox_committed_ids"
#: A row that cannot be pushed for another reason than Redis (its function was removed by a
#: deployment, its payload does not load) is given up after this many attempts.
MAX_ATTEMPTS = 5
_WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


class OutboxJob(db.Model):
    __tablename__ = "job_outbox"
    __table_args__ = {"schema": "public"}

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    queue: Mapped[str] = mapped_column(sa.String(40))
    func_name: Mapped[str] = mapped_column(sa.String(200))
    job_id: Mapped[str | None] = mapped_column(sa.String(200))
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    relayed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<OutboxJob {self.id} {self.func_name} job_id={self.rq_job_id!r}>"

    @property
    def rq_job_id(self) -> str:
        return rq_job_id_for(self.id, self.tenant_id, self.job_id, self.created_at)


class SentMail(db.Model):
    """A Message-ID handed to the SMTP server (core.mail.deliver_mail): never sent again."""

    __tablename__ = "sent_mails"
    __table_args__ = {"schema": "public"}

    message_id: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    def __repr__(self) -> str:
        return f"<SentMail {self.message_id}>"


_table = OutboxJob.__table__


def row_key(row_id: int, created_at: datetime) -> str:
    """The row's identity in rq (``meta["outbox_id"]``, default job ids): the id alone could
    meet a job of a restored database, or of another deployment sharing the Redis."""
    return f"{int(row_id)}-{round(created_at.timestamp() * 1_000_000)}"


def rq_job_id_for(row_id: int, tenant_id: int | None, job_id: str | None, created_at) -> str:
    if job_id:
        return job_id
    key = row_key(row_id, created_at)
    return f"t{int(tenant_id)}-outbox-{key}" if tenant_id is not None else f"outbox-{key}"


def _tenant_id_of(session: Session, job_id: str | None) -> int | None:
    schema = getattr(session, "tenant_schema", None)
    if schema:
        return int(schema[2:])  # "t_<id>", checked by core.db
    if job_id and job_id.startswith("t"):
        head = job_id[1:].split("-", 1)[0]
        if head.isdigit():
            return int(head)
    return None


# --------------------------------------------------------------------------- writing


def write_job(
    session: Session,
    func: Callable | str,
    args: Iterable[Any],
    *,
    queue: str,
    job_id: str | None,
    options: dict[str, Any],
) -> int:
    """Insert the job's row in ``session``'s transaction; return its id."""
    payload = pickle.dumps((tuple(args), dict(options)), protocol=pickle.HIGHEST_PROTOCOL)
    row_id = session.execute(
        sa.insert(_table)
        .values(
            tenant_id=_tenant_id_of(session, job_id),
            queue=queue,
            func_name=job_name(func),
            job_id=job_id,
            payload=payload,
        )
        .returning(_table.c.id)
    ).scalar_one()
    session.info.setdefault(_SESSION_KEY, []).append(row_id)
    return row_id


@event.listens_for(Session, "after_commit")
def _ready_after_commit(session: Session) -> None:
    ids = session.info.pop(_SESSION_KEY, None)
    if ids:
        session.info.setdefault(_COMMITTED_KEY, []).extend(ids)


@event.listens_for(Session, "after_transaction_end")
def _hand_over_once_the_connection_is_back(session: Session, transaction) -> None:
    # Not in after_commit: the session still holds its connection there, and the fast path
    # takes another one from the same pool. Under load (every pooled connection held by a
    # committing request) each request would wait for a second connection that none can
    # give back: the pool's timeout, for everyone. after_transaction_end comes once the
    # session's connection has been returned.
    if transaction.parent is not None:
        return
    ids = session.info.pop(_COMMITTED_KEY, None)
    if not ids or not has_app_context():
        return
    hand_over(current_app._get_current_object(), ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_rows(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_SESSION_KEY, None)


# --------------------------------------------------------------------------- relaying


@dataclass
class RelayResult:
    handed: list[int] = field(default_factory=list)  # pushed, or found already in rq
    waiting: list[int] = field(default_factory=list)  # left pending (same job id running)
    given_up: list[int] = field(default_factory=list)
    redis_error: Exception | None = None
    seen: int = 0


def _fast_path_redis(app: Flask) -> Redis:
    """The request path's Redis client when the queues share its URL, else one like it."""
    from core import redis_client

    url = rq_redis_url(app)
    if url == app.config["REDIS_URL"]:
        return redis_client.redis_connection(app)
    conn = app.extensions.get("pnyx_outbox_fast_redis")
    if conn is None:
        conn = redis_client.connect(
            url,
            socket_timeout=float(app.config.get("REDIS_SOCKET_TIMEOUT", 0.25)),
            connect_timeout=float(app.config.get("REDIS_CONNECT_TIMEOUT", 0.25)),
            breaker_seconds=float(app.config.get("REDIS_BREAKER_SECONDS", 5.0)),
        )
        app.extensions["pnyx_outbox_fast_redis"] = conn
    return conn


def relay_redis_connection(app: Flask) -> Redis:
    """The relay's client: a socket timeout long enough for a loaded Redis, short enough that a
    frozen one does not hold the relay (and its row locks) for ever; retries are the relay's."""
    conn = app.extensions.get("pnyx_relay_redis")
    if conn is None:
        conn = Redis.from_url(
            rq_redis_url(app),
            socket_timeout=float(app.config.get("OUTBOX_RELAY_REDIS_TIMEOUT", 5.0)),
            socket_connect_timeout=float(app.config.get("OUTBOX_RELAY_REDIS_TIMEOUT", 5.0)),
            health_check_interval=30,
            retry=RedisRetry(NoBackoff(), 0),
            **keepalive_option(rq_redis_url(app)),
        )
        app.extensions["pnyx_relay_redis"] = conn
    return conn


def hand_over(app: Flask, ids: list[int]) -> RelayResult | None:
    """The fast path: push these rows now if Redis answers; never raise."""
    try:
        result = relay(app, _fast_path_redis(app), ids=ids)
    except Exception:
        log.warning("outbox: rows %s left to the relay", ids, exc_info=True)
        return None
    if result.redis_error is not None:
        log.warning(
            "outbox: Redis unavailable (%s); %d job(s) left to the relay",
            result.redis_error,
            len(ids) - len(result.handed),
        )
    return result


def relay(
    app: Flask, redis: Redis, *, ids: list[int] | None = None, limit: int = 100
) -> RelayResult:
    """Hand the pending rows (``ids`` only, if given) to rq, oldest first.

    Stops at the first Redis error (what follows keeps its order); the rows handed over
    before it are marked in the same transaction that locked them."""
    result = RelayResult()
    is_async = bool(app.config["RQ_ASYNC"])
    query = (
        sa.select(_table)
        .where(_table.c.relayed_at.is_(None))
        .order_by(_table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(_table.c.id.in_(ids))
    if not is_async:
        return _relay_inline(app, redis, query, result)
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        rows = conn.execute(query).all()
        result.seen = len(rows)
        done_now: list[int] = []
        for row in rows:
            try:
                outcome = _push(redis, row, is_async)
            except RedisError as exc:
                result.redis_error = exc
                break
            except Exception as exc:  # a payload or function that cannot be pushed
                attempts = row.attempts + 1
                give_up = attempts >= MAX_ATTEMPTS
                log.error(
                    "outbox: row %s (%s) cannot be pushed (attempt %d%s)",
                    row.id,
                    row.func_name,
                    attempts,
                    ", given up" if give_up else "",
                    exc_info=True,
                )
                conn.execute(
                    sa.update(_table)
                    .where(_table.c.id == row.id)
                    .values(
                        attempts=attempts,
                        last_error=repr(exc)[:2000],
                        relayed_at=sa.func.now() if give_up else None,
                    )
                )
                if give_up:
                    result.given_up.append(row.id)
                continue
            if outcome == "running":
                result.waiting.append(row.id)
                continue
            result.handed.append(row.id)
            if outcome == "ran" or outcome == "done":
                done_now.append(row.id)
        if result.handed:
            conn.execute(
                sa.update(_table)
                .where(_table.c.id.in_(result.handed))
                .values(relayed_at=sa.func.now())
            )
        if done_now:
            conn.execute(
                sa.update(_table)
                .where(_table.c.id.in_(done_now), _table.c.done_at.is_(None))
                .values(done_at=sa.func.now())
            )
    return result


def _relay_inline(app: Flask, redis: Redis, query, result: RelayResult) -> RelayResult:
    """``RQ_ASYNC=False``: rq runs each job inside the push. The rows are claimed (marked
    relayed) first and the jobs run once the relay's connection is back in the pool: a job
    takes a connection of its own, and a relay holding one meanwhile could, with as many
    committing threads as pooled connections, wait for ever for a second. A Redis error
    gives the rows not yet run back to the relay."""
    with app.app_context():
        with db.engine.begin() as conn:
            rows = conn.execute(query).all()
            result.seen = len(rows)
            if rows:
                conn.execute(
                    sa.update(_table)
                    .where(_table.c.id.in_([row.id for row in rows]))
                    .values(relayed_at=sa.func.now())
                )
        for index, row in enumerate(rows):
            try:
                outcome = _push(redis, row, is_async=False)
            except RedisError as exc:
                result.redis_error = exc
                with db.engine.begin() as conn:
                    conn.execute(
                        sa.update(_table)
                        .where(_table.c.id.in_([r.id for r in rows[index:]]))
                        .values(relayed_at=None)
                    )
                break
            except Exception:
                log.error("outbox: row %s (%s) failed inline", row.id, row.func_name, exc_info=True)
                continue
            result.handed.append(row.id)
            if outcome == "ran":
                with db.engine.begin() as conn:
                    conn.execute(
                        sa.update(_table)
                        .where(_table.c.id == row.id, _table.c.done_at.is_(None))
                        .values(done_at=sa.func.now())
                    )
    return result


def _push(redis: Redis, row: sa.Row, is_async: bool) -> str:
    if row.done_at is not None:
        return "done"
    queue = PnyxQueue(row.queue, connection=redis, is_async=is_async)
    job_id = rq_job_id_for(row.id, row.tenant_id, row.job_id, row.created_at)
    key = row_key(row.id, row.created_at)
    if is_async:
        existing = queue.fetch_job(job_id)
        if existing is not None:
            if (existing.meta or {}).get("outbox_key") == key:
                return "already"  # pushed by a relay that died before marking the row
            status = existing.get_status(refresh=False)
            if status in _WAITING:
                return "coalesced"  # it has not started: it will read the current state
            if status == JobStatus.STARTED:
                return "running"
    args, options = pickle.loads(row.payload)  # noqa: S301 - written by write_job only
    options = dict(options)
    meta = dict(options.pop("meta", None) or {})
    meta["outbox_id"], meta["outbox_key"] = row.id, key
    job = queue.enqueue_call(row.func_name, args=args, job_id=job_id, meta=meta, **options)
    if not is_async:
        return "ran" if job.get_status(refresh=False) == JobStatus.FINISHED else "pushed"
    return "pushed"


def run_relay(
    app: Flask,
    *,
    stop: threading.Event | None = None,
    poll_seconds: float | None = None,
    batch: int = 100,
) -> None:
    """The relay loop: hand over pending rows, back off while Redis (or PostgreSQL) fails."""
    stop = stop or threading.Event()
    poll = float(
        poll_seconds if poll_seconds is not None else app.config["OUTBOX_RELAY_POLL_SECONDS"]
    )
    max_backoff = float(app.config["OUTBOX_RELAY_MAX_BACKOFF_SECONDS"])
    redis = relay_redis_connection(app)
    backoff = poll
    failing_since: float | None = None
    log.info("outbox relay started (poll every %.1f s)", poll)
    while not stop.is_set():
        try:
            result = relay(app, redis, limit=batch)
            error: Exception | None = result.redis_error
        except (sa.exc.DBAPIError, RedisError) as exc:
            result, error = None, exc
        if error is not None:
            if failing_since is None:
                failing_since = time.monotonic()
                log.warning("outbox relay: %s; retrying with back-off", error)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        if failing_since is not None:
            log.warning("outbox relay: back after %.0f s", time.monotonic() - failing_since)
            failing_since = None
        backoff = poll
        if result.handed:
            log.info("outbox relay: %d job(s) handed to rq", len(result.handed))
        if result.seen < batch or len(result.handed) == 0:
            stop.wait(poll)
    log.info("outbox relay stopped")


# --------------------------------------------------------------------------- job side


def _row_id_of(key: str) -> int:
    return int(key.split("-", 1)[0])


def is_done(key: str) -> bool:
    """Has the row ``key`` (``meta["outbox_key"]``) been marked done?"""
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(_table.c.id, _table.c.created_at, _table.c.done_at).where(
                _table.c.id == _row_id_of(key)
            )
        ).first()
    return row is not None and row_key(row.id, row.created_at) == key and row.done_at is not None


def mark_done(key: str) -> None:
    with db.engine.begin() as conn:
        row = conn.execute(
            sa.select(_table.c.id, _table.c.created_at)
            .where(_table.c.id == _row_id_of(key), _table.c.done_at.is_(None))
            .with_for_update()
        ).first()
        if row is not None and row_key(row.id, row.created_at) == key:
            conn.execute(
                sa.update(_table).where(_table.c.id == row.id).values(done_at=sa.func.now())
            )


def pending_count() -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(_table).where(_table.c.relayed_at.is_(None))
    ).scalar_one()


def purge(outbox_days: int, sent_mail_days: int) -> tuple[int, int]:
    """Delete rows handed over more than ``outbox_days`` ago (their payload holds mail text
    and addresses: personal data kept no longer than needed) and Message-IDs recorded more
    than ``sent_mail_days`` ago (far beyond the last retry of any mail)."""
    with db.engine.begin() as conn:
        outbox = conn.execute(
            sa.delete(_table).where(
                _table.c.relayed_at < sa.func.now() - sa.text(f"interval '{int(outbox_days)} days'")
            )
        ).rowcount
        sent = conn.execute(
            sa.delete(SentMail.__table__).where(
                SentMail.__table__.c.sent_at
                < sa.func.now() - sa.text(f"interval '{int(sent_mail_days)} days'")
            )
        ).rowcount
    return outbox, sent
