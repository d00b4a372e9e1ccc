"""The Redis connection of the request path: short timeouts and a circuit breaker.

Every Redis call a request makes (page cache, tenant caches, host resolution, survey results,
``/healthz``, the after-commit hand-off of jobs) goes through :func:`redis_connection`. A page
must never wait on Redis longer than it would take to render without it:

- socket and connect timeouts of REDIS_SOCKET_TIMEOUT / REDIS_CONNECT_TIMEOUT seconds (0.25 by
  default; a local Redis answers in 0.1 ms), and no retry (redis-py retries three times by
  default, with back-off: a frozen Redis then held each call for seconds);
- a circuit breaker per Redis URL and process: after one connection failure or timeout, every
  call fails at once (``RedisUnavailable``, a ``redis.exceptions.ConnectionError``, so the
  callers' ``except RedisError`` already handles it) for REDIS_BREAKER_SECONDS (5 by default);
  then a single call probes Redis while the others keep failing fast; success closes it.

So a frozen (SIGSTOPped) or unreachable Redis costs one request of each process at most one
timeout, and every request after it nothing until the next probe.

pybreaker (PyPI) was considered: its ``CircuitBreaker.call`` holds one lock for the whole
protected call, so it would serialise every Redis round trip of a process's threads (gthread
workers run four) and queue them all behind the one stuck on a frozen Redis. What is needed
here is three numbers and a lock taken only to change them.

The rq worker and the outbox relay use a connection of their own without these timeouts
(``core.jobs``): a blocking dequeue waits for minutes by design.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app
from redis import Redis
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

log = logging.getLogger(__name__)

DEFAULT_SOCKET_TIMEOUT = 0.25
DEFAULT_CONNECT_TIMEOUT = 0.25
DEFAULT_BREAKER_SECONDS = 5.0
_EXTENSION = "pnyx_redis"


class RedisUnavailable(RedisConnectionError):
    """Redis failed recently: the call was not even tried (the circuit is open)."""


class CircuitBreaker:
    """Closed → (a failure) → open for ``reset_seconds`` → half-open: one probe at a time."""

    def __init__(self, name: str, reset_seconds: float) -> None:
        self.name = name
        self.reset_seconds = reset_seconds
        self._open_until = 0.0  # 0: closed
        self._probing = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._open_until != 0.0

    def allow(self) -> bool:
        if self._open_until == 0.0:  # the common case, without the lock
            return True
        if time.monotonic() < self._open_until:
            return False
        with self._lock:
            if self._probing or self._open_until == 0.0:
                return self._open_until == 0.0
            self._probing = True  # this caller probes; the others still fail fast
            return True

    def succeeded(self) -> None:
        if self._open_until != 0.0:
            with self._lock:
                if self._open_until != 0.0:
                    log.warning("Redis %s answers again: circuit closed", self.name)
                self._open_until = 0.0
                self._probing = False

    def failed(self) -> None:
        with self._lock:
            if self._open_until == 0.0:
                log.warning(
                    "Redis %s unreachable: calls skipped for %.1f s", self.name, self.reset_seconds
                )
            self._open_until = time.monotonic() + self.reset_seconds
            self._probing = False

    def reset(self) -> None:
        """Close the circuit (tests, or an operator who knows Redis is back)."""
        with self._lock:
            self._open_until = 0.0
            self._probing = False


_FAILURES = (RedisConnectionError, RedisTimeoutError)


def _guarded(breaker: CircuitBreaker, call, *args, **kwargs):
    if not breaker.allow():
        raise RedisUnavailable(f"Redis {breaker.name} unavailable (circuit open)")
    try:
        result = call(*args, **kwargs)
    except RedisUnavailable:
        raise
    except _FAILURES:
        breaker.failed()
        raise
    except Exception:
        # Any other error (a wrong type, a script error) came from a Redis that answers.
        breaker.succeeded()
        raise
    except BaseException:
        breaker.failed()  # interrupted mid-call: never leave a probe marked as running
        raise
    breaker.succeeded()
    return result


class GuardedPipeline(Pipeline):
    breaker: CircuitBreaker

    def execute(self, raise_on_error: bool = True):
        return _guarded(self.breaker, super().execute, raise_on_error)

    def immediate_execute_command(self, *args, **options):  # WATCH and friends
        return _guarded(self.breaker, super().immediate_execute_command, *args, **options)


class GuardedRedis(Redis):
    """A ``redis.Redis`` whose every command and pipeline goes through a circuit breaker."""

    breaker: CircuitBreaker

    def execute_command(self, *args, **options):
        return _guarded(self.breaker, super().execute_command, *args, **options)

    def pipeline(self, transaction: bool = True, shard_hint=None) -> GuardedPipeline:
        pipe = GuardedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipe.breaker = self.breaker
        return pipe


# One breaker per Redis URL and process: every app of the process talking to the same Redis
# learns at once that it is down (tests build many apps; gunicorn one per process).
_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(url: str, reset_seconds: float = DEFAULT_BREAKER_SECONDS) -> CircuitBreaker:
    with _breakers_lock:
        breaker = _breakers.get(url)
        if breaker is None:
            name = url.rsplit("@", 1)[-1]  # never log a password
            breaker = _breakers[url] = CircuitBreaker(name, reset_seconds)
        breaker.reset_seconds = reset_seconds
        return breaker


def connect(
    url: str,
    *,
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    breaker_seconds: float = DEFAULT_BREAKER_SECONDS,
) -> GuardedRedis:
    conn = GuardedRedis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 0),
    )
    conn.breaker = breaker_for(url, breaker_seconds)
    return conn


def redis_connection(app: Flask | None = None) -> GuardedRedis:
    """The app's request-path Redis client (one per app, thread-safe, pooled)."""
    app = app or current_app
    conn = app.extensions.get(_EXTENSION)
    if conn is None:
        conn = connect(
            app.config["REDIS_URL"],
            socket_timeout=float(app.config.get("REDIS_SOCKET_TIMEOUT", DEFAULT_SOCKET_TIMEOUT)),
            connect_timeout=float(app.config.get("REDIS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)),
            breaker_seconds=float(app.config.get("REDIS_BREAKER_SECONDS", DEFAULT_BREAKER_SECONDS)),
        )
        app.extensions[_EXTENSION] = conn
    return conn
