"""Whole-page cache for visitors without a session (tenant sites).

Most visits to a participation space are people reading it without an account: the same
home page, process pages, proposal lists and proposals, rendered again and again for
everyone. This cache keeps each such page, as rendered for a visitor without a session,
in Redis (shared by every worker), and serves it again without running the view.

When a page is served from here:
- GET on a tenant site, by a visitor who sends neither a session nor a remember cookie
  (so: not logged in, no flash message, no CSRF token, no language chosen by hand);
- the request went through every app-level ``before_request`` check first: host and
  tenant status (a suspended or archived space answers as usual), rate limits (Flask-Limiter
  checks the API blueprint's limit there too), legal acceptance...;
- the stored page was a 200 HTML or JSON answer, at most PAGE_CACHE_MAX_BYTES, that set no
  cookie, left the session empty and untouched, and was not marked private or no-store
  (``no_store()`` below opts a view out).

Key: tenant, the tenant's *content generation*, language (negotiated from Accept-Language,
the only input of a cookie-less visit besides the URL), scheme, host, path and query.

Freshness: any INSERT, UPDATE or DELETE on one of the tenant's tables (ORM or raw SQL,
seen where it is sent) bumps the tenant's generation in Redis when the transaction commits
(at once for statements outside the session), except writes to the tables declared
``ignore_writes_to`` (what no cached page shows: the ballot register, audit log...). Pages
rendered before the bump are never served after it: they are stored under the generation
read *before* rendering. Other processes read the generation at most every
PAGE_CACHE_CHECK_INTERVAL seconds. Every page also expires after PAGE_CACHE_TTL seconds
(5 minutes: a meeting that has started, a survey that closes at a given hour) and at the
latest at the next midnight in Paris, when phases, votes and surveys change by the date.
Redis down: no cache, pages are rendered as usual.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, g, has_app_context, request, session
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from tenants.cache import dml_target
from tenants.resolver import TENANT

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")

GENERATION_KEY = "pnyx:{database}:t{tenant_id}:pages-generation"
PAGE_KEY = "pnyx:{database}:t{tenant_id}:page:{generation}:{digest}"
CACHEABLE_TYPES = frozenset({"text/html", "application/json"})
# Headers never stored: set again for each answer (or must not be shared).
UNSTORED_HEADERS = frozenset({"set-cookie", "content-length", "date"})
HIT_HEADER = "X-Pnyx-Cache"
_PENDING = "pnyx_pages_changed"  # session.info key: tenant ids written in this transaction

_CONNECTIONS = "pnyx_pages_connections"  # session.info key: ids of its connections
_ignored_tables: set[str] = set()


def ignore_writes_to(*models: type) -> None:
    """Writes to these tables do not make cached pages stale: no page shows them."""
    _ignored_tables.update(model.__table__.name.lower() for model in models)


def no_store() -> None:
    """Called by a view: this answer must not be cached (it depends on more than the URL)."""
    g.pnyx_page_no_store = True


class PageCache:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ttl = int(app.config.get("PAGE_CACHE_TTL", 300))
        self.check_interval = float(app.config.get("PAGE_CACHE_CHECK_INTERVAL", 1.0))
        self.max_bytes = int(app.config.get("PAGE_CACHE_MAX_BYTES", 512 * 1024))
        self.session_cookies = {
            app.config.get("SESSION_COOKIE_NAME", "session"),
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        }
        try:
            self.database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
        except (ArgumentError, KeyError):
            self.database = "default"
        # tenant id -> (generation, when it was read)
        self._generations: dict[int, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def _redis(self):
        from core.jobs import redis_connection

        return redis_connection(self.app)

    def _generation_key(self, tenant_id: int) -> str:
        return GENERATION_KEY.format(database=self.database, tenant_id=tenant_id)

    def generation(self, tenant_id: int) -> bytes:
        now = time.monotonic()
        seen = self._generations.get(tenant_id)
        if seen is not None and now - seen[1] < self.check_interval:
            return seen[0]
        value = self._redis().get(self._generation_key(tenant_id)) or b"0"
        with self._lock:
            if len(self._generations) > 100_000:
                self._generations.clear()
            self._generations[tenant_id] = (value, now)
        return value

    def bump(self, tenant_id: int) -> None:
        try:
            value = self._redis().incr(self._generation_key(tenant_id))
        except RedisError:
            log.warning("could not publish a page cache invalidation; the TTL will apply")
            return
        with self._lock:
            self._generations[tenant_id] = (str(value).encode(), time.monotonic())

    def key(self, tenant_id: int, generation: bytes) -> str:
        from flask_babel import get_locale

        raw = "\n".join(
            (str(get_locale()), request.scheme, request.host.lower(), request.full_path)
        )
        digest = hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:40]
        return PAGE_KEY.format(
            database=self.database,
            tenant_id=tenant_id,
            generation=generation.decode(),
            digest=digest,
        )

    def eligible(self) -> bool:
        if request.method != "GET":
            return False
        site = g.get("site")
        if site is None or site.kind != TENANT:
            return False
        return not any(name in request.cookies for name in self.session_cookies)

    def fetch(self, key: str) -> Response | None:
        blob = self._redis().get(key)
        if blob is None:
            return None
        size = int.from_bytes(blob[:4], "big")
        headers = json.loads(blob[4 : 4 + size])
        response = Response(blob[4 + size :], status=200, headers=headers)
        response.headers[HIT_HEADER] = "hit"
        return response

    def store(self, key: str, response: Response) -> None:
        body = response.get_data()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in UNSTORED_HEADERS]
        packed = json.dumps(headers).encode()
        blob = len(packed).to_bytes(4, "big") + packed + body
        self._redis().set(key, blob, ex=seconds_to_keep(self.ttl))


def seconds_to_keep(ttl: int, now: datetime | None = None) -> int:
    """``ttl``, but never past the next midnight in Paris: phases, votes and surveys open and
    close by the collectivité's day, so no page outlives the day it was rendered on."""
    now = now or datetime.now(PARIS)
    midnight = datetime.combine(now.date() + timedelta(days=1), dt_time(), tzinfo=PARIS)
    return max(1, min(ttl, math.ceil((midnight - now).total_seconds())))


def _cache() -> PageCache | None:
    return current_app.extensions.get("pnyx_page_cache")


def _lookup():
    cache = _cache()
    if cache is None or not cache.eligible():
        return None
    tenant = g.site.tenant
    try:
        key = cache.key(tenant.id, cache.generation(tenant.id))
        hit = cache.fetch(key)
    except (RedisError, ValueError):
        log.warning("page cache unavailable; rendering the page", exc_info=True)
        return None
    if hit is not None:
        g.pnyx_page_hit = True
        return hit
    g.pnyx_page_key = key
    return None


def _storable(cache: PageCache, response: Response) -> bool:
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
        return False
    if response.mimetype not in CACHEABLE_TYPES or "Set-Cookie" in response.headers:
        return False
    if response.cache_control.private or response.cache_control.no_store:
        return False
    if g.get("pnyx_page_no_store") or session.modified or len(session) > 0:
        return False
    length = response.calculate_content_length()
    return length is not None and length <= cache.max_bytes


def _after(response: Response) -> Response:
    key = g.pop("pnyx_page_key", None)
    cache = _cache()
    if cache is None:
        return response
    if g.get("pnyx_page_hit"):
        return response
    if key is not None:
        response.headers[HIT_HEADER] = "miss"
        if _storable(cache, response):
            try:
                cache.store(key, response)
            except RedisError:
                log.warning("could not store a page in the cache", exc_info=True)
    return response


def _pages_changed(tenant_id: int) -> None:
    if has_app_context():
        cache = _cache()
        if cache is not None:
            cache.bump(tenant_id)


def init_app(app: Flask) -> None:
    """Call last in the factory: the lookup must run after every other app-level
    ``before_request`` hook, and the store before every other ``after_request`` hook (they
    run in reverse order), so that what is stored is the view's answer alone."""
    if not app.config.get("PAGE_CACHE", True):
        return
    app.extensions["pnyx_page_cache"] = PageCache(app)
    app.before_request(_lookup)
    app.after_request(_after)


# -- invalidation -------------------------------------------------------------------------
@event.listens_for(Engine, "after_cursor_execute")
def _note_writes(conn, _cursor, statement: str, _params, _context, _executemany) -> None:
    target = dml_target(statement)
    if target is None:
        return
    tenant_id, table = target
    if tenant_id is None or table in _ignored_tables or not has_app_context():
        return
    if _cache() is None:
        return
    from core.db import db

    session = db.session()
    if id(conn) in session.info.get(_CONNECTIONS, ()):
        # Bumped when the transaction commits: a page rendered in between from the old
        # rows is stored under the old generation, never served after the commit.
        session.info.setdefault(_PENDING, set()).add(tenant_id)
    else:
        # A connection of its own (a job's, a command's): bump now, and again when it
        # commits. A page rendered in the instant between that bump and the commit itself
        # can stay stale up to PAGE_CACHE_TTL: such writes are rare, that window is one
        # round trip long.
        _pages_changed(tenant_id)
        if conn.in_transaction():
            conn.info.setdefault(_PENDING, set()).add(tenant_id)


@event.listens_for(Engine, "commit")
def _connection_commits(conn) -> None:
    for tenant_id in conn.info.pop(_PENDING, ()):
        _pages_changed(tenant_id)


@event.listens_for(Engine, "rollback")
def _connection_rolls_back(conn) -> None:
    conn.info.pop(_PENDING, None)


def _note_connection(session: Session, _transaction, connection) -> None:
    session.info.setdefault(_CONNECTIONS, set()).add(id(connection))


def _forget_connections(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTIONS, None)


def _flush_pending(session: Session) -> None:
    for tenant_id in session.info.pop(_PENDING, ()):
        _pages_changed(tenant_id)


event.listen(Session, "after_begin", _note_connection)
event.listen(Session, "after_transaction_end", _forget_connections)
event.listen(Session, "after_commit", _flush_pending)
event.listen(Session, "after_soft_rollback", lambda session, _tx: session.info.pop(_PENDING, None))
