"""Tenancy benchmark: provisioning, no-op migrations, per-request tenant resolution cost.

Run from the repository root:

    .venv/bin/python bench/tenancy.py [--tenants 200] [--requests 2000] [--keep]

It creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at
the end, also on error or Ctrl-C, unless --keep), uses REDIS_URL (default db 12 so that it
does not touch the development data), and prints its figures with a PASS/FAIL summary.
This is a measuring script, not a test: nothing here is imported by the app.
"""

# Project imports come after the sys.path fix below, so that `python bench/tenancy.py`
# works as well as `python -m bench.tenancy`.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import http.client
import logging
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from flask import Blueprint, Flask
from werkzeug.serving import make_server

from bench.common import PLATFORM_DOMAIN, heading, machine_info, scratch_app
from core.app import create_app
from core.db import db
from core.routing import TENANT_SITE
from tenants import invalidate_host_cache, official
from tenants.migrate import TENANT as TENANT_TREE
from tenants.migrate import head_revision, migrate_all
from tenants.provisioning import provision_now, provisioning_hooks
from tenants.resolver import TENANT, get_resolver
from tenants.services import RESERVED_SLUGS, create_tenant

MAX_TENANTS = 2000

# Targets (see the brief of the tenancy work).
TARGET_PROVISION_MS = 150.0  # per tenant, row creation + provisioning
TARGET_MIGRATE_S_PER_1000 = 10.0  # no-op migrate_all over 1,000 tenants
TARGET_OVERHEAD_MS = 0.5  # per request, resolution + binding

# Two routes registered by this script only, identical but for the site they live on, so
# that the difference of their latencies is the cost of tenant resolution and binding.
BENCH_PATH = "/_bench/ok"
PLATFORM_CASE = f"platform {BENCH_PATH}"
TENANT_CASE = f"tenant {BENCH_PATH}"


# -- small helpers -----------------------------------------------------------------------
@dataclass
class Stats:
    """Latencies in milliseconds."""

    samples: list[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    def pct(self, p: float) -> float:
        # Nearest-rank percentile: simple and good enough for thousands of samples.
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)

    def line(self, label: str, unit: str = "ms", digits: int = 3) -> str:
        return (
            f"  {label:<34} mean {self.mean:8.{digits}f} {unit}   p50 {self.p50:8.{digits}f}"
            f" {unit}   p95 {self.p95:8.{digits}f} {unit}   (n={len(self.samples)})"
        )


def ms_since(start_ns: int) -> float:
    return (time.perf_counter_ns() - start_ns) / 1e6


# -- the app -----------------------------------------------------------------------------
def _ok() -> str:
    return "ok"


def build_app(database_url: str, redis_url: str) -> Flask:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
            "RQ_ASYNC": False,
        }
    )
    # Same view, same path, on each site. The tenant one is registered like
    # participation's blueprint (subdomain=TENANT_SITE): its request resolves the host to
    # a tenant and binds the session to the tenant's schema; the platform one does not.
    platform_bp = Blueprint("bench_platform", __name__)
    platform_bp.add_url_rule(BENCH_PATH, "ok", _ok)
    tenant_bp = Blueprint("bench_tenant", __name__)
    tenant_bp.add_url_rule(BENCH_PATH, "ok", _ok)
    app.register_blueprint(platform_bp)
    app.register_blueprint(tenant_bp, subdomain=TENANT_SITE)
    # create_app sets the root logger to INFO; the dev server would log every request.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


# -- 1. provisioning ---------------------------------------------------------------------
def pick_communes(n: int) -> list[tuple[str, str]]:
    """(INSEE code, slug) of the ``n`` most populated communes: real codes, same every run."""
    picked: list[tuple[str, str]] = []
    used: set[str] = set(RESERVED_SLUGS)
    # The index is ranked by population; the public search() needs a query, we need a walk.
    for c in official._index().ranked:
        if c.kind != "commune":
            continue
        slug = official.suggest_slug(c)
        if slug in used:  # homonyms (Saint-Denis 93 and 974): make the slug unique
            slug = f"{slug[:34].rstrip('-')}-{c.code.lower()}"
        used.add(slug)
        picked.append((c.code, slug))
        if len(picked) == n:
            break
    return picked


@dataclass
class ProvisioningResult:
    create: Stats
    provision: Stats
    total: Stats
    wall_s: float
    slugs: list[str]


def bench_provisioning(app: Flask, n: int) -> ProvisioningResult:
    heading(f"Provisioning {n} tenants (create_tenant + commit, then provision_now)")
    communes = pick_communes(n)
    create_ms: list[float] = []
    provision_ms: list[float] = []
    wall_start = time.perf_counter()
    with app.app_context():
        lock_timeout = app.config["TENANT_MIGRATION_LOCK_TIMEOUT"]
        for i, (code, slug) in enumerate(communes, 1):
            # What the web/CLI does: insert the tenant and its domain, commit (which also
            # publishes the host-cache invalidation to Redis).
            start = time.perf_counter_ns()
            tenant_id = create_tenant(code, PLATFORM_DOMAIN, slug=slug).id
            db.session.commit()
            create_ms.append(ms_since(start))
            # What the rq job does: schema + alembic upgrade + default settings + active.
            start = time.perf_counter_ns()
            result = provision_now(db.engine, tenant_id, lock_timeout)
            provision_ms.append(ms_since(start))
            if result != "active":
                raise RuntimeError(f"provisioning of {slug} returned {result!r}")
            if i % 100 == 0 or i == n:
                print(f"  {i}/{n} tenants", flush=True)
        # The rq job does this after provision_now: hosts now resolve to active tenants.
        invalidate_host_cache()
    wall_s = time.perf_counter() - wall_start
    result = ProvisioningResult(
        create=Stats(create_ms),
        provision=Stats(provision_ms),
        total=Stats([a + b for a, b in zip(create_ms, provision_ms, strict=True)]),
        wall_s=wall_s,
        slugs=[slug for _, slug in communes],
    )
    print(f"  total time: {wall_s:.2f} s for {n} tenants")
    print(result.create.line("row creation (create + commit)", digits=2))
    print(result.provision.line("provision_now", digits=2))
    print(result.total.line("total per tenant", digits=2))
    first = result.total.samples[0]
    print(f"  (first tenant: {first:.1f} ms, includes loading the official data and alembic)")
    if n >= 200:
        # Does provisioning slow down as the catalog (pg_class, pg_namespace…) grows?
        slices = [statistics.fmean(result.provision.samples[i : i + 100]) for i in range(0, n, 100)]
        print(
            "  provision_now mean per 100 tenants, in order: "
            + " ".join(f"{value:.0f}" for value in slices)
            + " ms"
        )
    return result


# -- 2. no-op migrations -----------------------------------------------------------------
def bench_noop_migrate(app: Flask, database_url: str, n: int, runs: int = 3) -> float:
    heading(f"No-op migrate_all(jobs=2) over {n} tenants at head ({runs} runs)")
    times: list[float] = []
    with app.app_context():
        for run in range(1, runs + 1):
            start = time.perf_counter()
            results = migrate_all(db.engine, database_url, jobs=2)
            elapsed = time.perf_counter() - start
            statuses = {r.status for r in results}
            if len(results) != n or statuses != {"skipped"}:
                raise RuntimeError(f"expected {n} skipped schemas, got {len(results)} {statuses}")
            times.append(elapsed)
            print(f"  run {run}: {elapsed:.3f} s")
    median = statistics.median(times)
    per_1000 = median * 1000 / n
    how = (
        "measured"
        if n == 1000
        else f"extrapolated linearly from {n} tenants; conservative, fixed costs scale too"
    )
    print(f"  median: {median:.3f} s  ->  {per_1000:.2f} s per 1,000 tenants ({how})")
    return per_1000


# -- 3. per-request cost -----------------------------------------------------------------
def bench_resolver(app: Flask, tenant_host: str, calls: int = 100_000) -> float:
    """Cached-hit cost of HostResolver.resolve(), in microseconds per call."""
    heading(f"resolver.resolve(host), cached hit ({calls:,} calls)")
    resolver = get_resolver(app)
    if resolver.resolve(tenant_host).kind != TENANT:  # warms the cache, checks the host
        raise RuntimeError(f"{tenant_host} does not resolve to a tenant")
    figures = {}
    for label, host in (("tenant host", tenant_host), ("platform host", PLATFORM_DOMAIN)):
        timer = timeit.Timer("resolve(host)", globals={"resolve": resolver.resolve, "host": host})
        # Best of 3 runs of `calls`: the usual timeit practice, removes scheduler noise.
        best = min(timer.repeat(repeat=3, number=calls))
        figures[label] = best / calls * 1e6
        print(f"  {label:<14} {figures[label]:.2f} µs per call")
    # Includes the Redis GET of the generation counter, at most once a second.
    return figures["tenant host"]


def run_interleaved(
    requests: int, warmup: int, cases: dict[str, Callable[[], None]]
) -> dict[str, Stats]:
    """Time each case ``requests`` times, round-robin, rotating which case goes first."""
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(requests):
        shift = i % len(names)  # no case is always first (or always after another one)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter_ns()
            cases[name]()
            samples[name].append(ms_since(start))
    return {name: Stats(values) for name, values in samples.items()}


def bench_test_client(app: Flask, tenant_host: str, requests: int) -> dict[str, Stats]:
    heading(f"Flask test client, {requests} requests per route, interleaved")
    client = app.test_client()

    def case(host: str) -> Callable[[], None]:
        base_url = f"http://{host}/"

        def call() -> None:
            response = client.get(BENCH_PATH, base_url=base_url)
            if response.status_code != 200 or response.data != b"ok":
                raise RuntimeError(f"{host}{BENCH_PATH}: {response.status}")

        return call

    stats = run_interleaved(
        requests, 200, {PLATFORM_CASE: case(PLATFORM_DOMAIN), TENANT_CASE: case(tenant_host)}
    )
    for name, s in stats.items():
        print(s.line(name))
    print_difference(stats[TENANT_CASE], stats[PLATFORM_CASE])
    return stats


def print_difference(tenant: Stats, platform_: Stats) -> None:
    print(
        f"  tenant - platform: mean {tenant.mean - platform_.mean:+.3f} ms,"
        f" p50 {tenant.p50 - platform_.p50:+.3f} ms  (= resolution + binding overhead)"
    )


@contextmanager
def wsgi_server(app: Flask) -> Iterator[int]:
    """The app under werkzeug's threaded WSGI server (HTTP/1.1 keep-alive) on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bench-wsgi", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def bench_http(app: Flask, tenant_host: str, requests: int) -> dict[str, Stats]:
    heading(f"Real HTTP (werkzeug threaded server, 1 keep-alive connection), {requests} each")
    with wsgi_server(app) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sockets: set[int] = set()

        def get(host: str, path: str) -> int:
            conn.request("GET", path, headers={"Host": host})
            response = conn.getresponse()
            response.read()
            sockets.add(id(conn.sock))  # to check that the connection was kept alive
            return response.status

        def case(host: str, path: str) -> Callable[[], None]:
            def call() -> None:
                if (status := get(host, path)) != 200:
                    raise RuntimeError(f"{host}{path}: HTTP {status}")

            return call

        cases = {
            PLATFORM_CASE: case(PLATFORM_DOMAIN, BENCH_PATH),
            TENANT_CASE: case(tenant_host, BENCH_PATH),
        }
        # For information only: real routes, which do different work (JSON vs template).
        # Other packages change them, so one that does not answer 200 today is skipped
        # (its error, logged by the app, is muted) rather than failing the whole run.
        for name, host, path in (
            ("tenant GET /api/v1/tenant", tenant_host, "/api/v1/tenant"),
            ("platform GET /", PLATFORM_DOMAIN, "/"),
        ):
            logging.disable(logging.ERROR)
            try:
                status = get(host, path)
            finally:
                logging.disable(logging.NOTSET)
            if status == 200:
                cases[name] = case(host, path)
            else:
                print(f"  skipped {name}: HTTP {status} (informational route, not the bench's)")
        stats = run_interleaved(requests, 200, cases)
        conn.close()
    for name, s in stats.items():
        print(s.line(name))
    print_difference(stats[TENANT_CASE], stats[PLATFORM_CASE])
    print(f"  TCP connections used: {len(sockets)} (1 = keep-alive held)")
    return stats


# -- machine and summary -----------------------------------------------------------------
def workload_info(app: Flask) -> dict[str, str]:
    """What one tenant schema holds: provisioning cost grows with it, so runs made at
    different revisions of the code are only comparable with this alongside."""
    with app.app_context(), db.engine.connect() as conn:
        tables = conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_tables"
                " WHERE schemaname = (SELECT 't_' || min(id) FROM public.tenants)"
            )
        )
    return {
        "tenant head": head_revision(TENANT_TREE),
        "tenant schema": f"{tables} tables, {len(provisioning_hooks)} provisioning hook(s)",
    }


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"


def print_summary(
    info: dict[str, str],
    n: int,
    prov: ProvisioningResult,
    migrate_per_1000: float,
    resolve_us: float,
    client: dict[str, Stats],
    http_: dict[str, Stats],
) -> None:
    heading("Summary")
    for key, value in info.items():
        print(f"  {key:<14} {value}")
    client_overhead = client[TENANT_CASE].mean - client[PLATFORM_CASE].mean
    http_overhead = http_[TENANT_CASE].mean - http_[PLATFORM_CASE].mean
    migrate_how = "measured" if n == 1000 else f"extrap. from {n}"
    rows = [
        (
            "provisioning, mean per tenant",
            f"{prov.total.mean:.1f} ms (p95 {prov.total.p95:.1f})",
            f"<= {TARGET_PROVISION_MS:.0f} ms",
            verdict(prov.total.mean, TARGET_PROVISION_MS),
        ),
        (
            f"no-op migrate, per 1,000 ({migrate_how})",
            f"{migrate_per_1000:.2f} s",
            f"<= {TARGET_MIGRATE_S_PER_1000:.0f} s",
            verdict(migrate_per_1000, TARGET_MIGRATE_S_PER_1000),
        ),
        (
            "resolve() cached hit",
            f"{resolve_us / 1000:.4f} ms",
            f"<= {TARGET_OVERHEAD_MS} ms",
            verdict(resolve_us / 1000, TARGET_OVERHEAD_MS),
        ),
        (
            "overhead, test client (mean diff)",
            f"{client_overhead:.3f} ms",
            f"<= {TARGET_OVERHEAD_MS} ms",
            verdict(client_overhead, TARGET_OVERHEAD_MS),
        ),
        (
            "overhead, real HTTP (mean diff)",
            f"{http_overhead:.3f} ms",
            f"<= {TARGET_OVERHEAD_MS} ms",
            verdict(http_overhead, TARGET_OVERHEAD_MS),
        ),
    ]
    print()
    print(f"  {'measure':<44} {'value':<24} {'target':<11} result")
    print(f"  {'-' * 44} {'-' * 24} {'-' * 11} ------")
    for measure, value, target, result in rows:
        print(f"  {measure:<44} {value:<24} {target:<11} {result}")


# -- main --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark of Pnyx's tenancy layer.")
    parser.add_argument("--tenants", type=int, default=200, help="tenants to create (200)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per route (2000)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)
    if not 1 <= args.tenants <= MAX_TENANTS:
        parser.error(f"--tenants must be between 1 and {MAX_TENANTS}")
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with scratch_app(build_app, args.keep) as (app, database_url):
        info = machine_info(app)
        prov = bench_provisioning(app, args.tenants)
        info.update(workload_info(app))
        migrate_per_1000 = bench_noop_migrate(app, database_url, args.tenants)
        tenant_host = f"{prov.slugs[0]}.{PLATFORM_DOMAIN}"
        resolve_us = bench_resolver(app, tenant_host)
        client = bench_test_client(app, tenant_host, args.requests)
        http_ = bench_http(app, tenant_host, args.requests)
        print_summary(info, args.tenants, prov, migrate_per_1000, resolve_us, client, http_)
    return 0


if __name__ == "__main__":
    sys.exit(main())
