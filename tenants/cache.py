"""Per-process cache of the small per-tenant values that every page reads (branding,
legal-document versions, proposal settings, filter lists), invalidated like the host cache.

Each value is kept for TENANT_CACHE_TTL seconds. Any INSERT, UPDATE or DELETE sent on a
watched table (``watch(Model)``: settings, legal documents, themes, quartiers...), by the
ORM or as raw SQL, drops the tenant's values in this process at once and bumps a
per-tenant generation counter in Redis, and so does the commit that follows; other
processes compare the counter at most every TENANT_CACHE_CHECK_INTERVAL seconds and drop
theirs when it moved. A session with uncommitted changes to a watched table reads around
the cache, so a value is never cached from a transaction that may still roll back.

Only plain data goes in (dicts, tuples, rows): never ORM objects, which belong to a session.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from core.generation import GenerationCounter
from tenants.context import current_tenant

log = logging.getLogger(__name__)
T = TypeVar("T")

# Per database as well as per tenant: two deployments (or test runs) sharing a Redis must
# not drop each other's values, their tenant ids overlap.
GENERATION_KEY = "pnyx:{database}:t{tenant_id}:values-generation"
# Bumped by a change to a table watched for every tenant (``watch_all_tenants``: the public
# billing subscriptions): every tenant's values are dropped, in every process.
ALL_TENANTS_GENERATION_KEY = "pnyx:{database}:all-tenants:values-generation"
_PENDING = "pnyx_tenant_values_changed"  # session.info key: tenant ids with changes
_PENDING_ALL = "pnyx_all_tenant_values_changed"  # session.info key: a shared table changed

_watched_tables: set[str] = set()
_watched_for_all: set[str] = set()
_caches: weakref.WeakSet[TenantValueCache] = weakref.WeakSet()


class TenantValueCache:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ttl = float(app.config.get("TENANT_CACHE_TTL", 30.0))
        check_interval = float(app.config.get("TENANT_CACHE_CHECK_INTERVAL", 1.0))
        self._values: dict[tuple[int, str], tuple[float, object]] = {}
        self._lock = threading.Lock()
        uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
        try:
            self.database = make_url(uri).database or "default"
        except ArgumentError:
            self.database = "default"
        # The tenant's counter and the all-tenants one, read together in one round trip.
        self.generations = GenerationCounter(
            app, lambda tenant_id: (self._key(tenant_id), self._all_key()), check_interval
        )

    def _key(self, tenant_id: int) -> str:
        return GENERATION_KEY.format(database=self.database, tenant_id=tenant_id)

    def _all_key(self) -> str:
        return ALL_TENANTS_GENERATION_KEY.format(database=self.database)

    def _redis(self):
        from core.redis_client import redis_connection

        return redis_connection(self.app)

    def get(self, tenant_id: int, name: str, loader: Callable[[], T]) -> T:
        now = time.monotonic()
        if self.generations.changed(tenant_id, now):  # Redis down: the TTL still applies
            self.drop_local(tenant_id)
        hit = self._values.get((tenant_id, name))
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[return-value]
        value = loader()
        with self._lock:
            if len(self._values) > 50_000:  # bounded, whatever the number of tenants
                self._values.clear()
            self._values[(tenant_id, name)] = (now + self.ttl, value)
        return value

    def drop_local(self, tenant_id: int) -> None:
        with self._lock:
            for key in [key for key in self._values if key[0] == tenant_id]:
                del self._values[key]

    def drop_all_local(self) -> None:
        with self._lock:
            self._values.clear()

    def publish(self, tenant_id: int) -> None:
        try:
            self.generations.bump(tenant_id)
        except RedisError:
            log.warning("could not publish a tenant values invalidation; TTL will apply")

    def publish_all(self) -> None:
        try:
            self._redis().incr(self._all_key())
        except RedisError:
            log.warning("could not publish an all-tenants values invalidation; TTL will apply")
        # Our own bump is seen at the next check as a change: one extra reload, harmless.


def _cache_for(app: Flask) -> TenantValueCache:
    cache = app.extensions.get("pnyx_tenant_values")
    if cache is None:
        cache = app.extensions["pnyx_tenant_values"] = TenantValueCache(app)
        _caches.add(cache)
    return cache


def cached(name: str, loader: Callable[[], T]) -> T:
    """``loader()``'s value for the current tenant, from this process's cache when fresh.

    Without a tenant, outside an app, with TENANT_VALUES_CACHE off, or while the session
    holds uncommitted changes to a watched model, ``loader()`` is simply called."""
    tenant = current_tenant()
    if tenant is None or not has_app_context():
        return loader()
    app = current_app._get_current_object()
    if not app.config.get("TENANT_VALUES_CACHE", True):
        return loader()
    from core.db import db

    info = db.session.info
    if info.get(_PENDING_ALL) or tenant.id in info.get(_PENDING, ()):
        return loader()
    return _cache_for(app).get(tenant.id, name, loader)


def invalidate(tenant_id: int) -> None:
    """Drop the tenant's cached values here (every app of the process) and elsewhere."""
    published: set[str] = set()
    for cache in list(_caches):
        cache.drop_local(tenant_id)
        if cache._key(tenant_id) not in published:  # one bump per database
            cache.publish(tenant_id)
            published.add(cache._key(tenant_id))
    if not published and has_app_context():
        _cache_for(current_app._get_current_object()).publish(tenant_id)


def invalidate_all() -> None:
    """Drop every tenant's cached values here (every app of the process) and elsewhere."""
    published: set[str] = set()
    for cache in list(_caches):
        cache.drop_all_local()
        if cache._all_key() not in published:  # one bump per database
            cache.publish_all()
            published.add(cache._all_key())
    if not published and has_app_context():
        _cache_for(current_app._get_current_object()).publish_all()


def watch(*models: type) -> None:
    """An insert, update or delete on these models' tables invalidates the tenant's values."""
    _watched_tables.update(model.__table__.name.lower() for model in models)


def watch_all_tenants(*models: type) -> None:
    """An insert, update or delete on these tables (shared ones, in the public schema, that
    hold per-tenant rows: billing subscriptions) invalidates every tenant's values: such
    writes are rare, and the tenant they concern is not known from the SQL."""
    _watched_for_all.update(model.__table__.name.lower() for model in models)


# Every INSERT, UPDATE or DELETE on a watched table is seen where it is sent, whoever
# sends it: the ORM's flushes, bulk ``sa.delete(...)``, raw SQL. A prefix test keeps the
# cost to a few hundred nanoseconds for every other statement.
_DML = re.compile(
    r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:"?(\w+)"?\.)?"?(\w+)"?', re.IGNORECASE
)
_TENANT_SCHEMA = re.compile(r"^t_([0-9]+)$")
_DML_WORDS = frozenset({"INSERT", "UPDATE", "DELETE"})


def dml_target(statement: str) -> tuple[int | None, str] | None:
    """``(tenant id or None, table)`` written by an INSERT, UPDATE or DELETE statement, None
    for any other statement. The tenant id comes from a ``t_<id>`` schema qualifier, else
    from the current tenant (unqualified names resolve to it); None for a shared table."""
    if statement.lstrip()[:6].upper() not in _DML_WORDS:
        return None
    match = _DML.match(statement)
    if match is None:
        return None
    schema = match.group(1) or ""
    tenant_schema = _TENANT_SCHEMA.match(schema)
    if tenant_schema:
        return int(tenant_schema.group(1)), match.group(2).lower()
    if schema and schema.lower() != "tenant":
        return None, match.group(2).lower()  # public.* and other shared schemas
    tenant = current_tenant()
    return (tenant.id if tenant else None), match.group(2).lower()


@event.listens_for(Engine, "after_cursor_execute")
def _note_changes(conn, _cursor, statement: str, _params, _context, _executemany) -> None:
    target = dml_target(statement)
    if target is None:
        return
    tenant_id, table = target
    if table in _watched_for_all:
        if has_app_context():
            from core.db import db

            db.session.info[_PENDING_ALL] = True
        invalidate_all()
        return
    if table not in _watched_tables or tenant_id is None:
        return
    tenant = current_tenant()
    # Drop the values now (this process and, through Redis, the others) and again when
    # the session commits; until then the session reads around the cache.
    if has_app_context() and tenant is not None and tenant.id == tenant_id:
        from core.db import db

        db.session.info.setdefault(_PENDING, set()).add(tenant_id)
    invalidate(tenant_id)


def _flush_pending(session: Session) -> None:
    if session.info.pop(_PENDING_ALL, False):
        invalidate_all()
    for tenant_id in session.info.pop(_PENDING, ()):
        invalidate(tenant_id)


# After a commit the new values must be read again; after a rollback, a value read while
# the changes were pending was not cached, but be safe: drop too.
event.listen(Session, "after_commit", _flush_pending)
event.listen(Session, "after_soft_rollback", lambda session, _tx: _flush_pending(session))
