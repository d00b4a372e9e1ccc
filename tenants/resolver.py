"""Host → site resolution with a per-process TTL cache and cross-process invalidation.

Each process keeps host → TenantRef for TENANT_CACHE_TTL seconds (unknown hosts too, so a
flood of random hosts does not reach the database). Any change to a tenant or a domain
bumps a generation counter in Redis; processes compare it at most every
TENANT_CACHE_CHECK_INTERVAL seconds and drop their cache when it moved.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import RedisError

from core.db import db
from core.generation import GenerationCounter
from tenants.context import _REF_QUERY, TenantRef, row_to_ref

log = logging.getLogger(__name__)

GENERATION_KEY = "pnyx:tenant-cache:generation"

PLATFORM = "platform"
TENANT = "tenant"
UNKNOWN = "unknown"
UNAVAILABLE = "unavailable"  # the host could not be resolved (database down)


@dataclass(frozen=True, slots=True)
class Site:
    kind: str  # PLATFORM, TENANT, UNKNOWN or UNAVAILABLE
    host: str
    tenant: TenantRef | None = None


def normalise_host(raw: str | None) -> str:
    """``Mulhouse.Pnyx.FR.:443`` → ``mulhouse.pnyx.fr`` (port and trailing dot dropped)."""
    host = (raw or "").strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]", 1)[0] + "]"
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".")


class HostResolver:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.platform_host = normalise_host(app.config["PLATFORM_DOMAIN"])
        self.ttl = float(app.config["TENANT_CACHE_TTL"])
        self._cache: dict[str, tuple[TenantRef | None, float]] = {}
        self._lock = threading.Lock()
        # One counter for the whole platform: a change to any tenant or domain.
        self.generation = GenerationCounter(
            app, lambda _scope: (GENERATION_KEY,), float(app.config["TENANT_CACHE_CHECK_INTERVAL"])
        )
        self._engine_obj: sa.Engine | None = None

    # -- public API ---------------------------------------------------------------------
    def resolve(self, raw_host: str | None) -> Site:
        host = normalise_host(raw_host)
        if host == self.platform_host:
            return Site(PLATFORM, host)
        ref = self._lookup(host)
        return Site(TENANT, host, ref) if ref is not None else Site(UNKNOWN, host)

    def invalidate(self) -> None:
        """Drop this process's cache and tell the other processes to drop theirs."""
        with self._lock:
            self._cache.clear()
        try:
            self.generation.bump()
        except RedisError:
            log.warning("could not publish the tenant cache invalidation; TTL will apply")

    # -- internals ----------------------------------------------------------------------
    def _lookup(self, host: str) -> TenantRef | None:
        now = time.monotonic()
        if self.generation.changed(now=now):  # Redis down: keep serving from the TTL cache
            with self._lock:
                self._cache.clear()
        hit = self._cache.get(host)
        if hit is not None and hit[1] > now:
            return hit[0]
        ref = self._query(host)
        with self._lock:
            if len(self._cache) > 10_000:  # bounded: random hosts must not grow it forever
                self._cache.clear()
            self._cache[host] = (ref, now + self.ttl)
        return ref

    def _query(self, host: str) -> TenantRef | None:
        stmt = sa.text(
            f"{_REF_QUERY.text} JOIN public.domains hd ON hd.tenant_id = t.id WHERE hd.host = :host"
        )
        with self._engine().connect() as conn:
            row = conn.execute(stmt, {"host": host}).first()
        return row_to_ref(row) if row else None

    def _engine(self) -> sa.Engine:
        # Resolution runs before the app context exists (when Flask builds the URL
        # adapter), so the engine is looked up once and kept.
        if self._engine_obj is None:
            with self.app.app_context():
                self._engine_obj = db.engine
        return self._engine_obj


def get_resolver(app: Flask) -> HostResolver:
    return app.extensions["pnyx_host_resolver"]
