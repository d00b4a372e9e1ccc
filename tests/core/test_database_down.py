"""PostgreSQL goes away under a running app (issue 13 §5): every page answers 503 with the
French maintenance page, and the app recovers on its own when the database comes back.

The app talks to PostgreSQL through a TCP proxy of the test's own. It is warmed through it
first (pooled connections, tenants resolved and cached, an anonymous page in the page cache,
signed-in sessions), then the proxy is cut: every relayed socket closed, new connections
refused, as a PostgreSQL restart or a failover does. A test pointing a brand new app at a
closed port (tests/core/test_hostile_input.py) sees none of that: its pool is empty and no
host is cached.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from tests.support import (
    PLATFORM,
    base_config,
    create_person,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    host_client,
    random_address,
)

#: The longest any answer may take while the database is down.
PATIENCE_SECONDS = 3.0
#: Pages drawn without the database (the platform's home and log-in form): a 200 is fine.
NEEDS_NO_DATABASE = {"platform home", "platform log-in"}


class TcpProxy:
    """Relays 127.0.0.1:<port> to an upstream address; ``cut()`` closes every relayed socket
    and refuses new connections, ``restore()`` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._listener: socket.socket | None = None
        self._stopped = False
        self._listen()
        self._thread = threading.Thread(target=self._loop, name="pg-proxy", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
            self._selector.register(listener, selectors.EVENT_READ)

    def _loop(self) -> None:
        while not self._stopped:
            with self._lock:
                ready = self._selector.select(timeout=0.05)
                for key, _events in ready:
                    sock = key.fileobj
                    if sock is self._listener:
                        self._accept()
                    elif sock in self._peers:
                        self._relay(sock)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(True)
            sock.settimeout(5)
        self._peers[client], self._peers[server] = server, client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(server, selectors.EVENT_READ)

    def _relay(self, sock: socket.socket) -> None:
        peer = self._peers[sock]
        try:
            data = sock.recv(65536)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        peer = self._peers.pop(sock, None)
        for one in (sock, peer):
            if one is None:
                continue
            self._peers.pop(one, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(one)
            with contextlib.suppress(OSError):
                one.shutdown(socket.SHUT_RDWR)
            one.close()

    @property
    def relayed(self) -> int:
        with self._lock:
            return len(self._peers) // 2

    def cut(self) -> None:
        with self._lock:
            for sock in list(self._peers):
                self._drop(sock)
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None

    def restore(self) -> None:
        self._listen()

    def close(self) -> None:
        self.cut()
        self._stopped = True
        self._thread.join(timeout=2)


@pytest.fixture
def proxied(database_url):
    url = make_url(database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


@pytest.fixture(scope="module")
def world(app, make_tenant):
    from tests.api.seed import seed_tenant

    tenant = make_tenant()
    ensure_legal_documents(app, tenant)
    seeded = seed_tenant(app, tenant, bulk=2)
    return seeded, create_person(app, tenant), create_person(app, tenant, "admin")


def _visits(fault_app, world):
    """(label, callable returning a response): the pages warmed, then asked for again."""
    seeded, citizen_person, admin_person = world
    tenant = seeded.tenant
    anonymous = host_client(fault_app, tenant.primary_host)
    anonymous.environ_base["REMOTE_ADDR"] = random_address()
    citizen = host_client(fault_app, tenant.primary_host)
    citizen.environ_base["REMOTE_ADDR"] = random_address()
    forge_session(citizen, tenant, citizen_person)
    admin = host_client(fault_app, tenant.primary_host)
    admin.environ_base["REMOTE_ADDR"] = random_address()
    forge_session(admin, tenant, admin_person)
    platform = host_client(fault_app, PLATFORM)
    platform.environ_base["REMOTE_ADDR"] = random_address()
    token = csrf_for(citizen)  # made before the cut: the session cookie carries its secret
    debate = seeded.debate_id

    def comment():
        return citizen.post(
            "/commentaires",
            data={
                "csrf_token": token,
                "target_type": "debate",
                "target_id": str(debate),
                "body": "Je soutiens ce projet de piste cyclable le long du canal.",
                "next": f"/debats/{debate}",
                "website": "",
            },
        )

    return [
        ("tenant home, anonymous (page cache)", lambda: anonymous.get("/")),
        ("debate, anonymous", lambda: anonymous.get(f"/debats/{debate}")),
        ("account, citizen", lambda: citizen.get("/compte")),
        ("debate, citizen", lambda: citizen.get(f"/debats/{debate}")),
        ("staff home, admin", lambda: admin.get("/gestion/")),
        ("platform home", lambda: platform.get("/")),
        ("platform log-in", lambda: platform.get("/connexion")),
        ("comment posted, citizen", comment),
        ("tenant /healthz", lambda: anonymous.get("/healthz")),
        ("platform /healthz", lambda: platform.get("/healthz")),
        ("API", lambda: anonymous.get("/api/v1/processes")),
    ]


def _timed(visit):
    started = time.monotonic()
    response = visit()
    return response, time.monotonic() - started


def test_postgresql_going_away_under_a_warm_app_answers_503_then_recovers(
    app, world, proxied, redis_url
):
    from core import create_app
    from core.db import db
    from core.security.limits import storage_uri

    proxy, proxied_url = proxied
    fault_app = create_app(
        base_config(
            proxied_url,
            redis_url,
            PAGE_CACHE=True,
            # As in production: hosts and pages cached for a while, not looked up each time.
            TENANT_CACHE_CHECK_INTERVAL=1.0,
            PAGE_CACHE_CHECK_INTERVAL=1.0,
            RATELIMIT_STORAGE_URI=storage_uri(redis_url),
        )
    )
    visits = _visits(fault_app, world)

    # Warm: every page answers, the anonymous home three times (stored, then served).
    for _ in range(3):
        home = visits[0][1]()
        assert home.status_code == 200
    assert home.headers.get("X-Pnyx-Cache") == "hit"
    for label, visit in visits:
        response = visit()
        assert response.status_code in (200, 302, 303), (label, response.status_code)
    assert proxy.relayed >= 1, "the app did not keep a pooled connection"

    proxy.cut()
    down = {}
    for label, visit in visits:
        response, seconds = _timed(visit)
        body = response.get_data(as_text=True)
        down[label] = response.status_code
        assert seconds < PATIENCE_SECONDS, (label, seconds)
        assert response.status_code != 500, (label, body[:400])
        assert "Internal Server Error" not in body, (label, body[:400])
        if label == visits[0][0] and response.status_code == 200:
            assert response.headers.get("X-Pnyx-Cache") == "hit"  # the cached page is fine
            continue
        if label in NEEDS_NO_DATABASE and response.status_code == 200:
            assert '<html lang="fr">' in body, label
            continue
        assert response.status_code == 503, (label, response.status_code, body[:400])
        if "healthz" in label:  # for probes: says what is down
            assert json.loads(body)["database"] == "unavailable"
            continue
        assert response.headers.get("Retry-After") == "30", label
        if label == "API":
            assert "indisponible" in json.loads(body)["error"]["message"]
        else:
            assert "Service momentanément indisponible" in body, (label, body[:400])
            assert '<html lang="fr">' in body
    # Twice: the first request after the cut meets the dead pooled connection, the next
    # ones a refused connection; both are the same French page.
    for label, visit in visits[1:4]:
        response, seconds = _timed(visit)
        assert response.status_code == 503 and seconds < PATIENCE_SECONDS, (label, seconds)

    proxy.restore()
    deadline = time.monotonic() + 10
    while visits[2][1]().status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    for label, visit in visits:
        response = visit()
        assert response.status_code in (200, 302, 303), (label, response.status_code)
    with fault_app.app_context():
        db.engine.dispose()
