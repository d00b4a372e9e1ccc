"""Whole-page cache for visitors without a session (tenant sites).

It belongs to the tenancy: its pages, keys and invalidations are per tenant (a write to one
tenant's schema makes that tenant's pages stale). The factory installs it last
(``core.config.PAGE_CACHE_MODULE``).

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
the only input of a cookie-less visit besides the URL), scheme, host, path, and of the query
only the parameters the view reads. ``request.args`` is wrapped during rendering to record the
names the view asked for (present or not); each process learns them per endpoint, and the key
holds, for each learned name, its values (in order, repeated values once). A view can only
branch on what it reads, so two URLs that agree on every name it read render the same page:
``?utm_source=N``, ``?fbclid=...`` and shuffled parameters all share one entry. A view that
walks the whole query (``request.args.items()``, ``**request.args``) makes its endpoint keyed
on the whole query, sorted by name. The first page of an endpoint rendered by a process is
stored but not looked up (its parameters are not known yet). A page must read its query
through ``request.args``: ``request.full_path`` in a page would show another visitor's query
(the footer's language link uses ``query_read_so_far()``).

Bounds: at most PAGE_CACHE_MAX_ENTRIES per tenant (an index sorted set per tenant; a full
tenant stores nothing more until entries expire or the content changes), every entry with a
TTL, and a change of content deletes the tenant's entries at once. Production runs Redis with
``maxmemory`` and ``maxmemory-policy volatile-lru`` as a last line (docs/features/resilience.md).
Endpoints that never answer a storable page (static files, ``/healthz``, downloads, CSV) are
not looked up at all: those met once with such an answer are remembered per process.

Freshness: any INSERT, UPDATE or DELETE on one of the tenant's tables (ORM or raw SQL,
seen where it is sent) bumps the tenant's generation in Redis when the transaction commits
(at once for statements outside the session), except writes to the tables declared
``ignore_writes_to`` (what no cached page shows: the ballot register, audit log...). Pages
rendered before the bump are never served after it: they are stored under the generation
read *before* rendering. Other processes read the generation at most every
PAGE_CACHE_CHECK_INTERVAL seconds. Every page also expires after PAGE_CACHE_TTL seconds
(5 minutes: a meeting that has started, a survey that closes at a given hour) and at the
latest at the next midnight in Paris, when phases, votes and surveys change by the date.
Redis down: no cache, pages are rendered as usual; calls fail fast (core.redis_client). An
invalidation that could not be published is owed: retried before the next lookup of this
process and by a background retry every PAGE_CACHE_RETRY_SECONDS until Redis takes it, so a
support recorded during an outage is never hidden behind a stale page once Redis answers.
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

from flask import Flask, Response, current_app, g, has_app_context, request, session
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict

from core import clock
from core.generation import GenerationCounter
from tenants.cache import dml_target
from tenants.resolver import TENANT

log = logging.getLogger(__name__)
PARIS = clock.PARIS

GENERATION_KEY = "pnyx:{database}:t{tenant_id}:pages-generation"
PAGE_KEY = "pnyx:{database}:t{tenant_id}:page:{generation}:{digest}"
# Sorted set of the tenant's stored pages (member: key, score: when it expires).
INDEX_KEY = "pnyx:{database}:t{tenant_id}:pages"
# Never a storable answer: not even looked up.
NEVER_STORED_ENDPOINTS = frozenset({"static", "health.healthz", "tenant_health.healthz"})
ALL_ARGS = "*"
CACHEABLE_TYPES = frozenset({"text/html", "application/json"})
# Headers never stored: set again for each answer (or must not be shared).
UNSTORED_HEADERS = frozenset({"set-cookie", "content-length", "date"})
HIT_HEADER = "X-Pnyx-Cache"
# Longest query kept in links back to the page (browsers and proxies refuse longer URLs).
MAX_BACK_LINK_QUERY = 2048
_PENDING = "pnyx_pages_changed"  # session.info key: tenant ids written in this transaction

_CONNECTIONS = "pnyx_pages_connections"  # session.info key: ids of its connections
_ignored_tables: set[str] = set()


def ignore_writes_to(*models: type) -> None:
    """Writes to these tables do not make cached pages stale: no page shows them."""
    _ignored_tables.update(model.__table__.name.lower() for model in models)


def no_store() -> None:
    """Called by a view: this answer must not be cached (it depends on more than the URL)."""
    g.pnyx_page_no_store = True


class TrackedArgs(ImmutableMultiDict):
    """``request.args`` while a cacheable page renders: records the names the view reads."""

    def __init__(self, mapping=None) -> None:
        super().__init__(mapping)
        self.names_read: set[str] = set()
        self.read_all = False

    def _whole(self) -> None:
        self.read_all = True

    def __getitem__(self, key):
        self.names_read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        self.names_read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self.names_read.add(key)
        return super().getlist(key, type)

    def __contains__(self, key) -> bool:
        self.names_read.add(key)
        return super().__contains__(key)

    def __iter__(self):
        self._whole()
        return super().__iter__()

    def __len__(self) -> int:
        self._whole()
        return super().__len__()

    def keys(self):
        self._whole()
        return super().keys()

    def values(self):
        self._whole()
        return super().values()

    def items(self, multi: bool = False):
        self._whole()
        return super().items(multi)

    def lists(self):
        self._whole()
        return super().lists()

    def listvalues(self):
        self._whole()
        return super().listvalues()

    def to_dict(self, flat: bool = True):
        self._whole()
        return super().to_dict(flat)

    def copy(self):
        self._whole()
        return super().copy()


def _dedup(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def normalised_query(args, names) -> str:
    """The query as the key sees it: ``names`` (or every name, ``ALL_ARGS``) sorted, each
    with its values in order, a repeated value once."""
    names = sorted(set(args.keys())) if names == ALL_ARGS else sorted(names)
    parts = []
    for name in names:
        values = _dedup(args.getlist(name))
        parts.append(json.dumps([name, values], ensure_ascii=False))
    return "&".join(parts)


def query_read_so_far() -> str:
    """``request.path`` with the query parameters the page has read so far: for links back
    to this page (the language switch) on a page that may be cached, where
    ``request.full_path`` would carry the query of whoever rendered it first."""
    args = request.args
    if len(request.query_string) > MAX_BACK_LINK_QUERY:
        # A query that long is no one's page to come back to: a 100 kB hostile query would
        # be encoded again into a link on every page it renders.
        return request.path
    if not isinstance(args, TrackedArgs):
        return request.full_path.rstrip("?")
    from urllib.parse import urlencode

    names = sorted(args.names_read)
    pairs = [
        (name, value) for name in names for value in _dedup(ImmutableMultiDict.getlist(args, name))
    ]
    return request.path + ("?" + urlencode(pairs) if pairs else "")


class PageCache:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ttl = int(app.config.get("PAGE_CACHE_TTL", 300))
        self.check_interval = float(app.config.get("PAGE_CACHE_CHECK_INTERVAL", 1.0))
        self.max_bytes = int(app.config.get("PAGE_CACHE_MAX_BYTES", 512 * 1024))
        self.max_entries = int(app.config.get("PAGE_CACHE_MAX_ENTRIES", 2000))
        self.retry_seconds = float(app.config.get("PAGE_CACHE_RETRY_SECONDS", 2.0))
        self.session_cookies = {
            app.config.get("SESSION_COOKIE_NAME", "session"),
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        }
        try:
            self.database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
        except (ArgumentError, KeyError):
            self.database = "default"
        self.generations = GenerationCounter(
            app,
            lambda tenant_id: (GENERATION_KEY.format(database=self.database, tenant_id=tenant_id),),
            self.check_interval,
        )
        self._lock = threading.Lock()
        # endpoint -> the query names its pages read (or ALL_ARGS), learned when rendering
        self.args_read: dict[str, frozenset[str] | str] = {}
        # endpoints met with an answer of a kind never stored (a file, a CSV)
        self.never_stored: set[str] = set(NEVER_STORED_ENDPOINTS)
        # tenants whose invalidation Redis has not taken yet
        self._owed: set[int] = set()
        self._retrying = False

    def _redis(self):
        from core.redis_client import redis_connection

        return redis_connection(self.app)

    def _index_key(self, tenant_id: int) -> str:
        return INDEX_KEY.format(database=self.database, tenant_id=tenant_id)

    def generation(self, tenant_id: int) -> bytes:
        """The tenant's content generation, read at most every check_interval seconds."""
        return self.generations.read(tenant_id)[0] or b"0"

    def bump(self, tenant_id: int) -> bool:
        """New generation for the tenant, its stored pages deleted. False (and owed, retried
        later) when Redis did not take it."""
        redis = self._redis()
        try:
            with redis.pipeline(transaction=True) as pipe:
                pipe.incr(self.generations.key(tenant_id))
                pipe.zrange(self._index_key(tenant_id), 0, -1)
                pipe.delete(self._index_key(tenant_id))
                value, stored, _ = pipe.execute()
        except RedisError:
            self._owe(tenant_id)
            return False
        with self._lock:
            self._owed.discard(tenant_id)
        self.generations.bumped(tenant_id, value)
        try:
            for start in range(0, len(stored), 500):
                redis.unlink(*stored[start : start + 500])
        except RedisError:
            pass  # unreachable under the old generation anyway; their TTL frees them
        return True

    # -- invalidations owed while Redis was away -------------------------------------------
    def _owe(self, tenant_id: int) -> None:
        log.warning("could not publish a page cache invalidation; retried until Redis takes it")
        with self._lock:
            self._owed.add(tenant_id)
            if self._retrying:
                return
            self._retrying = True
        threading.Thread(target=self._retry_loop, name="pagecache-owed", daemon=True).start()

    def settle_owed(self) -> bool:
        """Publish the invalidations owed; True when none is left."""
        return all(self.bump(tenant_id) for tenant_id in list(self._owed))

    def _retry_loop(self) -> None:
        # Also settles what a process that serves no more requests (a job, a command) owes.
        while True:
            time.sleep(self.retry_seconds)
            try:
                settled = self.settle_owed()
            except Exception:  # noqa: BLE001 - the loop must outlive any surprise
                log.exception("page cache: retrying owed invalidations failed")
                settled = False
            if settled:
                with self._lock:
                    if not self._owed:
                        self._retrying = False
                        return

    # -- keys ----------------------------------------------------------------------------
    def key(self, tenant_id: int, generation: bytes, names) -> str:
        from flask_babel import get_locale

        raw = "\n".join(
            (
                str(get_locale()),
                request.scheme,
                request.host.lower(),
                request.path,
                normalised_query(_plain_args(), names),
            )
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
        if request.endpoint is None or request.endpoint in self.never_stored:
            return False
        site = g.get("site")
        if site is None or site.kind != TENANT:
            return False
        return not any(name in request.cookies for name in self.session_cookies)

    def learn(self, endpoint: str, args: TrackedArgs) -> frozenset[str] | str:
        """The names this endpoint's pages read, this render's included."""
        known = self.args_read.get(endpoint)
        if args.read_all or known == ALL_ARGS:
            names: frozenset[str] | str = ALL_ARGS
        else:
            names = frozenset(args.names_read) | (known or frozenset())
        if names != known:
            with self._lock:
                self.args_read[endpoint] = names
        return names

    def fetch(self, key: str) -> Response | None:
        blob = self._redis().get(key)
        if blob is None:
            return None
        size = int.from_bytes(blob[:4], "big")
        headers = json.loads(blob[4 : 4 + size])
        response = Response(blob[4 + size :], status=200, headers=headers)
        response.headers[HIT_HEADER] = "hit"
        return response

    def store(self, tenant_id: int, key: str, response: Response) -> bool:
        redis = self._redis()
        index = self._index_key(tenant_id)
        now = time.time()
        with redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(index, "-inf", now)
            pipe.zcard(index)
            _, count = pipe.execute()
        if count >= self.max_entries:
            log.info("page cache full for tenant %s (%s pages)", tenant_id, count)
            return False
        body = response.get_data()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in UNSTORED_HEADERS]
        packed = json.dumps(headers).encode()
        blob = len(packed).to_bytes(4, "big") + packed + body
        keep = seconds_to_keep(self.ttl)
        with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, blob, ex=keep)
            pipe.zadd(index, {key: now + keep})
            pipe.expire(index, self.ttl + 60)
            pipe.execute()
        return True


def _plain_args():
    """The query as parsed, read without recording anything."""
    return g.get("pnyx_plain_args", request.args)


def seconds_to_keep(ttl: int, now: datetime | None = None) -> int:
    """``ttl``, but never past the next midnight in Paris: phases, votes and surveys open and
    close by the collectivité's day, so no page outlives the day it was rendered on."""
    now = now or clock.paris_now()
    midnight = datetime.combine(now.date() + timedelta(days=1), dt_time(), tzinfo=PARIS)
    return max(1, min(ttl, math.ceil((midnight - now).total_seconds())))


def _cache() -> PageCache | None:
    return current_app.extensions.get("pnyx_page_cache")


def _lookup():
    cache = _cache()
    if cache is None:
        return None
    if cache._owed:
        cache.settle_owed()  # before serving anything: an owed change makes pages stale
    if not cache.eligible():
        return None
    tenant = g.site.tenant
    names = cache.args_read.get(request.endpoint)
    plain = request.args
    # The view reads the query through this wrapper: what it asks for makes the key.
    request.args = TrackedArgs(plain)
    g.pnyx_plain_args = plain
    g.pnyx_page_tracked = True
    try:
        generation = cache.generation(tenant.id)
        g.pnyx_page_generation = generation
        if names is None:
            return None  # first page of this endpoint here: stored, not looked up
        hit = cache.fetch(cache.key(tenant.id, generation, names))
    except (RedisError, ValueError):
        log.warning("page cache unavailable; rendering the page", exc_info=True)
        g.pop("pnyx_page_generation", None)
        return None
    if hit is not None:
        g.pnyx_page_hit = True
        return hit
    return None


def _storable(cache: PageCache, response: Response) -> bool:
    if response.status_code != 200:
        return False
    if (
        response.direct_passthrough
        or response.is_streamed
        or (response.mimetype not in CACHEABLE_TYPES)
    ):
        # Files, downloads, CSV: never stored, so never looked up again in this process.
        if request.endpoint:
            cache.never_stored.add(request.endpoint)
        return False
    if "Set-Cookie" in response.headers:
        return False
    if response.cache_control.private or response.cache_control.no_store:
        return False
    if g.get("pnyx_page_no_store") or session.modified or len(session) > 0:
        return False
    length = response.calculate_content_length()
    return length is not None and length <= cache.max_bytes


def _after(response: Response) -> Response:
    cache = _cache()
    if cache is None or g.get("pnyx_page_hit") or not g.pop("pnyx_page_tracked", False):
        return response
    generation = g.pop("pnyx_page_generation", None)
    if generation is not None:  # else Redis was unavailable before rendering: no cache
        response.headers[HIT_HEADER] = "miss"
    args = request.args
    if not isinstance(args, TrackedArgs) or not _storable(cache, response):
        return response
    names = cache.learn(request.endpoint, args)
    if generation is None:
        return response
    try:
        cache.store(g.site.tenant.id, cache.key(g.site.tenant.id, generation, names), response)
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
    app.add_template_global(query_read_so_far)
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
    if conn.invalidated:
        # Lost with the database: its info went with it and nothing it wrote was committed.
        # Reading conn.info here would raise in the session's teardown, turning the French
        # maintenance page into a bare "Internal Server Error".
        return
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
