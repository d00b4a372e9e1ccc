"""Slow clients against gunicorn alone, then against nginx + gunicorn (the production topology).

Run from the repository root (nginx installed: ``make nginx-deps``):

    .venv/bin/python bench/slowloris.py [--clients 200] [--interval 2] [--requests 200]
                                        [--concurrency 4] [--phase-seconds 15]

What it does:

1. Creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at
   the end), migrates it and provisions one tenant; uses REDIS_URL (default database 12).
2. Starts gunicorn as production does (``gunicorn -c gunicorn.conf.py``: 1 process per core
   x 4 threads), PNYX_ENV=production, TRUSTED_PROXY_COUNT=1.
3. gunicorn alone: ``--requests`` GETs of the tenant's home page by ``--concurrency``
   clients (a new connection each, like new visitors), quiet; then the same while
   ``--clients`` slowloris connections each send one byte of an endless header every
   ``--interval`` seconds (reconnecting when the server closes them). The normal traffic is
   bounded to ``--phase-seconds``: requests not answered within 5 s count as failures.
4. The same two measurements through nginx (scripts/nginx, rendered for this checkout).
5. Prints, for each: requests answered, failures, p50 / p95 (ms), and how many slow
   connections the server cut.

Library part: tests/deploy/test_nginx_topology.py uses ``SlowlorisSwarm`` and ``measure``.
This is a measuring script, not a test.
"""

# ruff: noqa: E402

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import secrets
import socket
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REQUEST_TIMEOUT = 5.0


# -- the slow clients ---------------------------------------------------------------------
class SlowlorisSwarm:
    """``clients`` connections, each sending one more header byte every ``interval`` seconds
    and never ending its request; a connection the server closes is opened again (a real
    attacker reconnects). ``silent=True`` sends nothing at all after connecting."""

    def __init__(
        self,
        port: int,
        host_header: str,
        clients: int = 200,
        interval: float = 2.0,
        silent: bool = False,
    ):
        self.address = ("127.0.0.1", port)
        self.host_header = host_header
        self.clients = clients
        self.interval = interval
        self.silent = silent
        self.sockets: list[socket.socket | None] = []
        self.reconnects = 0
        self.bytes_sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self, index: int) -> socket.socket | None:
        try:
            sock = socket.create_connection(self.address, timeout=2)
        except OSError:
            return None
        sock.settimeout(0.5)
        if not self.silent:
            # The request line and the host at once, then the endless header byte by byte.
            start = f"GET /?slow={index} HTTP/1.1\r\nHost: {self.host_header}\r\nX-Slow: "
            try:
                sock.sendall(start.encode())
            except OSError:
                sock.close()
                return None
        return sock

    def open_count(self) -> int:
        return sum(1 for s in self.sockets if s is not None)

    def start(self) -> SlowlorisSwarm:
        self.sockets = [self._open(i) for i in range(self.clients)]
        self._thread = threading.Thread(target=self._run, name="slowloris", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for index, sock in enumerate(self.sockets):
                if self._stop.is_set():
                    return
                if sock is not None and not self.silent:
                    try:
                        sock.send(b"a")
                        self.bytes_sent += 1
                        continue
                    except OSError:
                        sock.close()
                elif sock is not None:
                    # A silent client only notices that the server closed it.
                    try:
                        sock.setblocking(False)
                        if sock.recv(1, socket.MSG_PEEK) != b"":
                            continue
                    except BlockingIOError:
                        continue
                    except OSError:
                        pass
                    sock.close()
                self.reconnects += 1
                self.sockets[index] = self._open(index)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
        for sock in self.sockets:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self.sockets = []

    def __enter__(self) -> SlowlorisSwarm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- the normal visitors -------------------------------------------------------------------
@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # seconds, answered with 200
    failures: int = 0
    attempted: int = 0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p95(self) -> float:
        return self.percentile(0.95)

    def line(self) -> str:
        if not self.latencies:
            return f"answered 0/{self.attempted}, failures {self.failures}"
        return (
            f"answered {len(self.latencies)}/{self.attempted}, failures {self.failures}, "
            f"p50 {self.p50 * 1000:.1f} ms, p95 {self.p95 * 1000:.1f} ms, "
            f"mean {statistics.fmean(self.latencies) * 1000:.1f} ms"
        )


def measure(
    port: int,
    host_header: str,
    path: str = "/",
    total: int = 200,
    concurrency: int = 4,
    max_seconds: float = 60.0,
    timeout: float = REQUEST_TIMEOUT,
) -> Stats:
    """``total`` GETs by ``concurrency`` clients, each on a new connection; stops starting
    new ones after ``max_seconds``. A failure is anything but a 200 within ``timeout``."""
    stats = Stats()
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        while True:
            with lock:
                if remaining[0] <= 0 or time.monotonic() > deadline:
                    return
                remaining[0] -= 1
                stats.attempted += 1
            started = time.perf_counter()
            ok = False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                conn.request("GET", path, headers={"Host": host_header})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                conn.close()
            except OSError:
                pass
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    stats.latencies.append(elapsed)
                else:
                    stats.failures += 1

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats


# -- the bench ------------------------------------------------------------------------------
def _phase(label: str, port: int, host: str, args: argparse.Namespace) -> None:
    quiet = measure(port, host, total=args.requests, concurrency=args.concurrency)
    print(f"{label}, quiet:            {quiet.line()}", flush=True)
    with SlowlorisSwarm(port, host, args.clients, args.interval, args.silent) as swarm:
        time.sleep(args.interval + 0.5)  # every slow client has sent at least one byte
        opened = swarm.open_count()
        loaded = measure(
            port,
            host,
            total=args.requests,
            concurrency=args.concurrency,
            max_seconds=args.phase_seconds,
        )
        print(
            f"{label}, {args.clients} slow clients: {loaded.line()} "
            f"({opened} slow connections open at the start, {swarm.reconnects} cut by the "
            f"server and reopened)",
            flush=True,
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between bytes")
    parser.add_argument("--silent", action="store_true", help="slow clients send nothing")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--phase-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)

    import tempfile

    from bench.common import scratch_database
    from core import create_app
    from core.db import db
    from core.devtools.embedded import database_url_for_tests, redis_url_for_tests
    from scripts.nginx import topology
    from tenants import official
    from tenants.migrate import upgrade_public
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant

    if topology.nginx_binary() is None:
        print("nginx is not installed: run `make nginx-deps` first.", file=sys.stderr)
        return 1
    platform = "pnyx.bench"
    server_url = os.environ.get("DATABASE_URL") or database_url_for_tests()
    redis_url = os.environ.get("REDIS_URL") or redis_url_for_tests().replace("/13", "/12")
    with scratch_database(server_url, keep=False) as database_url:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "RQ_ASYNC": False}
        )
        with app.app_context():
            upgrade_public(db.engine)
            commune = official.search("Mulhouse", limit=1)[0]
            tenant = create_tenant(commune.code, platform, slug=f"bench-{secrets.token_hex(3)}")
            db.session.commit()
            tenant_id, host = tenant.id, f"{tenant.slug}.{platform}"
            provision_now(db.engine, tenant_id)
        env = {
            "PNYX_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "PLATFORM_DOMAIN": platform,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TRUSTED_PROXY_COUNT": "1",
        }
        print(
            f"{args.clients} slow clients "
            f"({'silent' if args.silent else f'one header byte every {args.interval:g} s'}), "
            f"{args.requests} GETs of {host}/ by "
            f"{args.concurrency} clients",
            flush=True,
        )
        with topology.gunicorn(env) as app_port:
            topology.wait_for_http(app_port, host, "/")
            _phase("gunicorn alone", app_port, host, args)
            # gunicorn's threads may still be held by the slow clients' last connections.
            topology.wait_for_http(app_port, host, "/", timeout=120)
            with tempfile.TemporaryDirectory(prefix="pnyx-nginx-") as prefix:
                with topology.nginx(app, Path(prefix), app_port) as port:
                    topology.wait_for_http(port, host, "/")
                    _phase("nginx + gunicorn", port, host, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
