"""The production topology, started for real: nginx (scripts/nginx) in front of gunicorn
(gunicorn.conf.py), with the test database and Redis.

Slow clients: gunicorn's gthread workers give a thread to each accepted connection and read
it with no timeout, so 8 connections sending one header byte every few seconds held every
thread of a 2 x 4 gunicorn (bench/slowloris.py prints it). Through nginx, 200 of them must
leave the normal visitors' p95 within twice the quiet one (or the quiet one + 20 ms, for
very small baselines where 2x is within the machine's noise).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

import pytest

from bench.slowloris import SlowlorisSwarm, measure
from scripts.nginx import render, topology
from tests.deploy.probe_app import PROBE_PATH
from tests.support import PLATFORM

pytestmark = pytest.mark.slow

NGINX_MISSING = (
    "nginx is not installed and could not be: `make nginx-deps` installs Debian's nginx "
    "(apt-get, as root or through sudo)"
)


@pytest.fixture(scope="module")
def nginx_available():
    if topology.nginx_binary() is None:
        pytest.skip(NGINX_MISSING)


@pytest.fixture(scope="module")
def stack(nginx_available, app, database_url, redis_url, tenant_a):
    """gunicorn (production settings, the probe app) behind nginx; yields nginx's port."""
    env = {
        "PNYX_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "PLATFORM_DOMAIN": PLATFORM,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TRUSTED_PROXY_COUNT": "1",
        # Every home page rendered by the app, not served from Redis: the load is real,
        # and no page of tenant A stays cached for the other tests of this worker.
        "PAGE_CACHE": "false",
    }
    target = "tests.deploy.probe_app:create_probe_app()"
    with (
        topology.gunicorn(env, target=target) as app_port,
        tempfile.TemporaryDirectory(prefix="pnyx-nginx-") as prefix,
        topology.nginx(app, Path(prefix), app_port) as port,
    ):
        topology.wait_for_http(port, tenant_a.primary_host, "/healthz", timeout=90)
        yield port


def request(port, method, path, host, headers=None, body=None, source="127.0.0.1"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_client_address_host_and_scheme_are_the_proxys_not_the_clients(stack, tenant_a, tenant_b):
    # The client connects from 127.0.0.2; nginx reaches gunicorn from 127.0.0.1. Without
    # ProxyFix the app would see 127.0.0.1, and with a naive one the forged headers.
    forged = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": tenant_b.primary_host,
        "X-Forwarded-Proto": "https",
        "Forwarded": f"for=203.0.113.9;host={tenant_b.primary_host};proto=https",
    }
    response, body = request(
        stack, "GET", PROBE_PATH, tenant_a.primary_host, forged, source="127.0.0.2"
    )
    assert response.status == 200, body
    seen = json.loads(body)
    assert seen["remote_addr"] == "127.0.0.2"
    assert seen["host"] == tenant_a.primary_host
    assert seen["scheme"] == "http"

    response, body = request(stack, "GET", "/api/v1/tenant", tenant_a.primary_host, forged)
    assert response.status == 200 and json.loads(body)["slug"] == tenant_a.slug
    # And the platform host stays the platform, whatever X-Forwarded-Host says.
    response, _ = request(stack, "GET", "/api/v1/tenant", PLATFORM, forged)
    assert response.status == 404


def test_body_over_the_limit_is_refused_by_nginx_and_a_large_upload_reaches_the_app(
    stack, tenant_a
):
    limit = 25 * 1024 * 1024
    assert render.DEFAULT_MAX_BODY == "25m"
    # Refused on the announced length, before any byte of the body is read.
    conn = http.client.HTTPConnection("127.0.0.1", stack, timeout=10)
    conn.putrequest("POST", PROBE_PATH, skip_host=True)
    conn.putheader("Host", tenant_a.primary_host)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(limit + 1))
    conn.endheaders()
    response = conn.getresponse()
    page = response.read().decode()
    conn.close()
    assert response.status == 413
    assert "Envoi trop volumineux" in page and 'lang="fr"' in page

    # 12 MB (a phone photo): buffered by nginx, then handed over whole to gunicorn.
    size = 12 * 1024 * 1024
    response, body = request(
        stack,
        "POST",
        PROBE_PATH,
        tenant_a.primary_host,
        {"Content-Type": "application/octet-stream"},
        body=os.urandom(1024) * (size // 1024),
    )
    assert response.status == 200 and json.loads(body)["received"] == size


def test_static_files_are_served_by_nginx_compressed(stack, app, tenant_a):
    locations = render.static_locations(app)
    assert {loc.url_prefix for loc in locations} >= {"/static/", "/reunions-static/"}
    for location in locations:
        sample = next(p for p in sorted(location.folder.rglob("*")) if p.is_file())
        path = location.url_prefix + sample.relative_to(location.folder).as_posix()
        response, body = request(stack, "GET", path, tenant_a.primary_host)
        assert response.status == 200, path
        assert body == sample.read_bytes(), path
        # Flask would answer "no-cache": this answer is nginx's.
        assert response.getheader("Cache-Control") == "max-age=600", path
        assert response.getheader("X-Content-Type-Options") == "nosniff"

    css = "/static/pnyx.css"
    response, body = request(stack, "GET", css, tenant_a.primary_host, {"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == (Path(app.static_folder) / "pnyx.css").read_bytes()
    # A path outside the folder is not served (alias with normalised URIs).
    response, _ = request(stack, "GET", "/static/../wsgi.py", tenant_a.primary_host)
    assert response.status in (400, 404)


def test_gunicorn_down_gives_the_french_maintenance_page(nginx_available, app, tenant_a):
    closed_port = topology.free_port()  # nothing listens there
    with (
        tempfile.TemporaryDirectory(prefix="pnyx-nginx-") as prefix,
        topology.nginx(app, Path(prefix), closed_port) as port,
    ):
        response, body = request(port, "GET", "/", tenant_a.primary_host)
    assert response.status == 502
    assert "Service momentanément indisponible" in body.decode()


def test_200_slow_clients_leave_normal_requests_served(stack, tenant_a):
    host = tenant_a.primary_host
    measure(stack, host, total=20, concurrency=4)  # warm every worker thread and pool
    quiet = measure(stack, host, total=200, concurrency=4)
    assert quiet.failures == 0, quiet.line()

    interval = 2.0
    with SlowlorisSwarm(stack, host, clients=200, interval=interval) as swarm:
        time.sleep(interval + 0.5)  # every slow client has sent a byte since connecting
        held = swarm.open_count()
        loaded = measure(stack, host, total=200, concurrency=4, max_seconds=30)
        still_held = swarm.open_count()

    bound = max(2 * quiet.p95, quiet.p95 + 0.020)
    figures = (
        f"quiet: {quiet.line()}; with 200 slow clients ({held} open at the start, {still_held} "
        f"at the end, {swarm.reconnects} cut by nginx and reopened): {loaded.line()}; "
        f"bound {bound * 1000:.1f} ms"
    )
    print(figures)
    assert held >= 190 and still_held >= 190, figures
    assert loaded.failures == 0 and len(loaded.latencies) == 200, figures
    assert loaded.p95 <= bound, figures
