"""Redis frozen (SIGSTOP), down or back: pages and ``/healthz`` answer within a second, and a
change recorded while Redis was away still invalidates the cached pages once it is back
(core.redis_client, tenants.pagecache). A real redis-server, started here on a free port."""

from __future__ import annotations

import time

import pytest
from redis.exceptions import RedisError

from core.db import db
from core.security.limits import storage_uri
from tests.support import base_config, ensure_legal_documents
from tests.support import client_on as make_client
from tests.support.redis_server import RedisServer

HIT = "X-Pnyx-Cache"


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.close()


def _app(database_url, redis_url, server, **overrides):
    from core import create_app

    # The rate limits stay on the session's live Redis (see tests/conftest.py): the limiter
    # is one per process.
    config = base_config(
        database_url,
        server.url,
        PAGE_CACHE=True,
        REDIS_BREAKER_SECONDS=0.5,
        PAGE_CACHE_RETRY_SECONDS=0.2,
        RATELIMIT_STORAGE_URI=storage_uri(redis_url),
        **overrides,
    )
    return create_app(config)


@pytest.fixture
def tenant(app, make_tenant):
    ref = make_tenant()
    ensure_legal_documents(app, ref)
    return ref


def _timed(client, path: str):
    started = time.monotonic()
    answer = client.get(path)
    return answer, time.monotonic() - started


def test_a_frozen_redis_costs_pages_and_health_less_than_a_second(
    app, database_url, redis_url, redis_server, tenant
):
    cached = _app(database_url, redis_url, redis_server)
    client = make_client(cached, tenant)
    assert client.get("/demarches").status_code == 200
    redis_server.freeze()
    try:
        for path in [
            "/demarches",
            "/demarches?utm_source=lettre",
            "/",
            "/confidentialite",
            "/demarches",
        ]:
            answer, took = _timed(client, path)
            assert answer.status_code == 200, path
            assert answer.headers.get(HIT) != "hit"
            assert took < 1.0, f"{path} took {took:.2f} s"
        health, took = _timed(client, "/healthz")
        assert took < 1.0
        assert health.status_code == 503
        assert health.json["redis"] == "unavailable" and health.json["database"] == "ok"
    finally:
        redis_server.thaw()


def test_a_stopped_redis_costs_pages_and_health_less_than_a_second(
    app, database_url, redis_url, redis_server, tenant
):
    cached = _app(database_url, redis_url, redis_server)
    client = make_client(cached, tenant)
    redis_server.stop()
    for path in ["/demarches", "/", "/healthz"]:
        answer, took = _timed(client, path)
        assert took < 1.0, f"{path} took {took:.2f} s"
        assert answer.status_code == (503 if path == "/healthz" else 200)
    # Back: served from the cache again once the breaker lets a probe through.
    redis_server.start()
    time.sleep(0.6)
    assert client.get("/healthz").status_code == 200
    client.get("/demarches")
    client.get("/demarches")
    assert client.get("/demarches").headers[HIT] == "hit"


def test_a_change_made_while_redis_was_down_invalidates_the_pages_when_it_is_back(
    app, database_url, redis_url, redis_server, tenant
):
    """Redis restarts with its data (a snapshot, a replica taking over): the pages cached
    before the outage come back with it, and must not hide a change made meanwhile."""
    from core.redis_client import redis_connection
    from participation.processes.models import Process
    from tenants.context import tenant_context
    from tests.support.participation import make_process

    cached = _app(database_url, redis_url, redis_server)
    process_id = make_process(cached, tenant, title="Un kiosque pour le parc")
    client = make_client(cached, tenant)
    client.get("/demarches")
    assert client.get("/demarches").headers[HIT] == "hit"

    redis_connection(cached).save()
    redis_server.stop()
    with cached.app_context(), tenant_context(tenant):
        db.session.get(Process, process_id).title = "Un kiosque à musique pour le parc"
        db.session.commit()  # the invalidation cannot reach Redis: it is owed
    redis_server.start()  # with the pages of before
    time.sleep(0.6)  # the breaker's pause
    page = client.get("/demarches")
    assert "Un kiosque à musique pour le parc" in page.get_data(as_text=True)
    assert page.headers[HIT] == "miss"


def test_an_owed_invalidation_is_published_without_any_further_request(
    app, database_url, redis_url, redis_server, tenant
):
    """A job or a command that wrote during the outage serves no page: the background retry
    publishes what it owes."""
    from core.redis_client import redis_connection
    from tenants.pagecache import GENERATION_KEY

    cached = _app(database_url, redis_url, redis_server)
    cache = cached.extensions["pnyx_page_cache"]
    redis_server.freeze()
    try:
        assert cache.bump(tenant.id) is False
    finally:
        redis_server.thaw()
    key = GENERATION_KEY.format(database=cache.database, tenant_id=tenant.id)

    def generation():
        try:
            return redis_connection(cached).get(key)
        except RedisError:
            return None

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and generation() is None:
        time.sleep(0.1)
    assert generation() == b"1"
    assert not cache._owed
