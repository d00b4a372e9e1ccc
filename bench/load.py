"""Whole-product load benchmark: the product served as production serves it, under load.

Run from the repository root:

    .venv/bin/python bench/load.py [--schemas 10,1000] [--duration 20] [--users 32]
                                   [--workers 4] [--threads 4] [--keep]

What it does:

1. Creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at
   the end, also on error or Ctrl-C, unless --keep) and uses REDIS_URL (default database 12).
2. Seeds three tenants (Mulhouse, Angers, Saillans) with bench/participation.py's seeding:
   1,000 proposals, 20,000 supports (through the real trigger), 5,000 comments each, plus
   nine more published processes each (10 processes per tenant).
3. For each schema count of --schemas (ascending, the same database growing), provisions
   empty tenants with the tenancy benchmark's helpers until the database holds that many
   tenant schemas, then starts gunicorn the way production runs it (PNYX_ENV=production,
   a real SECRET_KEY, gthread workers, real PostgreSQL and Redis, rate limits on) with this
   file's app factory wrapper, which adds one bare route, ``/_bench/bare`` on the tenant
   site (host resolution and the security headers, no SQL): the ceiling of the stack.
4. Drives it with locust, headless, in a second process: --users concurrent users (no
   think time: each sends its next request as soon as it has the answer), spread evenly
   over the three seeded tenants, one scenario per endpoint for --duration seconds each:
   tenant home, process page, proposal list, proposal page (random proposals), API
   proposal list, the bare route.
5. Prints per endpoint req/s, p50, p95, p99 (ms, locust's rounding), errors and the
   throughput ratio to the bare route, the verdicts against the targets (every page at
   least 40 % of the bare route's throughput, p95 at most 50 ms, zero errors) and, with
   two schema counts, the change of each endpoint's throughput between them (target:
   within 20 %).

The API's rate limit (300 requests per minute per client address in production) is raised
for the bench: every locust user shares one address. The limiter still counts every
request in Redis, as in production.

This is a measuring script, not a test: nothing here is imported by the app, except the
``bench_app`` factory by the gunicorn it starts.
"""

# Project imports come after the sys.path fix below, so that `python bench/load.py`
# works as well as `python -m bench.load`.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Blueprint, Flask

from bench.tenancy import heading, machine_info, pick_communes, scratch_database

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
PLATFORM_DOMAIN = "pnyx.bench"
BARE_PATH = "/_bench/bare"
SEEDED = [("68224", "mulhouse"), ("49007", "angers"), ("26289", "saillans")]
EXTRA_PROCESSES = 9  # + the seeded one: 10 processes per seeded tenant
TARGET_RATIO = 0.40
TARGET_P95_MS = 50.0
TARGET_SCHEMA_DRIFT = 0.20
SCENARIOS = [
    ("home", "tenant home /"),
    ("process", "process page /demarches/<id>"),
    ("list", "proposal list /demarches/<id>/propositions"),
    ("proposal", "proposal page /propositions/<id>"),
    ("api", "API /api/v1/proposals?process=<id>"),
    ("bare", f"bare route {BARE_PATH}"),
]


# -- the app gunicorn serves -------------------------------------------------------------
def _bare() -> str:
    return "ok"


def bench_app() -> Flask:
    """The product's app, configured from the environment like production, plus the bare
    route. Only the bench adds it: the product has no such route."""
    from core.app import create_app
    from core.routing import TENANT_SITE

    app = create_app(
        {"API_RATE_LIMIT": os.environ.get("BENCH_API_RATE_LIMIT", "10000000 per minute")}
    )
    bare = Blueprint("bench_bare", __name__)
    bare.add_url_rule(BARE_PATH, "bare", _bare)
    app.register_blueprint(bare, subdomain=TENANT_SITE)
    return app


# -- locust (second process) -------------------------------------------------------------
LOCUSTFILE = """
import json, os, random
from locust import HttpUser, constant, task

TARGETS = json.loads(os.environ["PNYX_BENCH_TARGETS"])
SCENARIO = os.environ["PNYX_BENCH_SCENARIO"]
WAIT = float(os.environ.get("PNYX_BENCH_WAIT", "0"))


def path_for(target):
    if SCENARIO == "home":
        return "/"
    if SCENARIO == "process":
        return "/demarches/%d" % target["process_id"]
    if SCENARIO == "list":
        return "/demarches/%d/propositions" % target["process_id"]
    if SCENARIO == "proposal":
        return "/propositions/%d" % random.choice(target["proposal_ids"])
    if SCENARIO == "api":
        return "/api/v1/proposals?process=%d" % target["process_id"]
    if SCENARIO == "bare":
        return "__BARE__"
    raise ValueError(SCENARIO)


class Visitor(HttpUser):
    wait_time = constant(WAIT)

    def on_start(self):
        # Users are spread evenly over the tenants, each keeps to one (as a browser would).
        Visitor.count = getattr(Visitor, "count", -1) + 1
        self.target = TARGETS[Visitor.count % len(TARGETS)]

    @task
    def visit(self):
        headers = {"Host": self.target["host"], "X-Forwarded-Proto": "https"}
        with self.client.get(
            path_for(self.target), headers=headers, name=SCENARIO,
            allow_redirects=False, catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure("HTTP %d" % response.status_code)
""".replace("__BARE__", BARE_PATH)


@dataclass
class Result:
    key: str
    label: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def run_locust(
    workdir: Path,
    port: int,
    targets: list[dict],
    scenario: str,
    args: argparse.Namespace,
    quiet: bool = False,
) -> Result:
    locustfile = workdir / "locustfile.py"
    if not locustfile.exists():
        locustfile.write_text(LOCUSTFILE, encoding="utf-8")
    prefix = workdir / f"locust-{scenario}-{int(time.time())}"
    env = {
        **os.environ,
        "PNYX_BENCH_TARGETS": json.dumps(targets),
        "PNYX_BENCH_SCENARIO": scenario,
        "PNYX_BENCH_WAIT": str(args.wait),
    }
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(locustfile),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--run-time",
        f"{args.duration}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "ERROR",
        "--stop-timeout",
        "5",
    ]
    completed = subprocess.run(
        command,
        env=env,
        cwd=workdir,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=args.duration + 120,
    )
    label = dict(SCENARIOS)[scenario]
    try:
        with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
            row = next(r for r in csv.DictReader(fh) if r["Name"] == scenario)
    except (OSError, StopIteration):
        if not quiet:
            print(f"  locust gave no figures for {scenario}:", flush=True)
            print(completed.stderr.decode(errors="replace")[-2000:], flush=True)
        nan = float("nan")
        return Result(scenario, label, 0, 0, 0.0, nan, nan, nan)
    return Result(
        key=scenario,
        label=label,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=float(row["Requests/s"]),
        p50=float(row["50%"] if row["50%"] != "N/A" else "nan"),
        p95=float(row["95%"] if row["95%"] != "N/A" else "nan"),
        p99=float(row["99%"] if row["99%"] != "N/A" else "nan"),
    )


# -- gunicorn (the product, as production runs it) ---------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, redis_url: str, args: argparse.Namespace):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PNYX_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # The proxy in front of production terminates TLS and says so.
        "TRUSTED_PROXY_COUNT": "1",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--backlog",
        "2048",
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        "bench.load:bench_app()",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        wait_until_ready(port)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_ready(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{BARE_PATH}", headers={"Host": f"{SEEDED[0][1]}.{PLATFORM_DOMAIN}"}
    )
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - local
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer in time")


# -- seeding -----------------------------------------------------------------------------
def seed_tenants(app: Flask) -> list[dict]:
    """The three seeded tenants; returns locust's targets (host, process, proposal ids)."""
    import sqlalchemy as sa

    import bench.participation as participation_bench
    from core.db import db
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState
    from participation.proposals.models import Proposal
    from tenants.context import tenant_context

    targets = []
    for code, slug in SEEDED:
        participation_bench.TENANT_CODE, participation_bench.TENANT_SLUG = code, slug
        seeded = participation_bench.seed(app)
        with app.app_context(), tenant_context(seeded.tenant_id):
            today = datetime.now(UTC).date()
            for index in range(EXTRA_PROCESSES):
                start = today + timedelta(days=30 * (index - 5))
                process = Process(
                    title=f"Démarche {index + 2} : concertation de quartier",
                    summary="Une concertation sur l'aménagement d'un quartier.",
                    description="Des **réunions**, des propositions, une réponse de la ville.",
                    state=ProcessState.DRAFT,
                )
                for position, kind in enumerate(
                    (PhaseKind.INFORMATION, PhaseKind.CONTRIBUTIONS, PhaseKind.RESULTS), 1
                ):
                    process.phases.append(
                        Phase(
                            position=position,
                            kind=kind,
                            title=f"Phase {position}",
                            starts_on=start + timedelta(days=20 * (position - 1)),
                            ends_on=start + timedelta(days=20 * position - 1),
                            allows_propose=kind == PhaseKind.CONTRIBUTIONS,
                            allows_comment=True,
                        )
                    )
                db.session.add(process)
                db.session.flush()
                process.publish()
            db.session.commit()
            proposal_ids = list(
                db.session.scalars(
                    sa.select(Proposal.id)
                    .where(Proposal.process_id == seeded.process_id)
                    .order_by(Proposal.id)
                )
            )
        targets.append(
            {
                "host": seeded.tenant_host,
                "process_id": seeded.process_id,
                "proposal_ids": proposal_ids,
            }
        )
    return targets


def grow_to(app: Flask, schemas: int) -> float:
    """Provision empty tenants until ``schemas`` tenant schemas exist; returns seconds."""
    from core.db import db
    from tenants import invalidate_host_cache
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant

    started = time.perf_counter()
    with app.app_context():
        import sqlalchemy as sa

        existing = db.session.scalar(sa.text("SELECT count(*) FROM public.tenants")) or 0
        used = set(db.session.scalars(sa.text("SELECT code FROM public.tenants")))
        missing = schemas - existing
        if missing <= 0:
            return 0.0
        communes = [c for c in pick_communes(schemas + len(SEEDED)) if c[0] not in used]
        lock_timeout = app.config["TENANT_MIGRATION_LOCK_TIMEOUT"]
        for index, (code, slug) in enumerate(communes[:missing], 1):
            tenant_id = create_tenant(code, PLATFORM_DOMAIN, slug=slug).id
            db.session.commit()
            if provision_now(db.engine, tenant_id, lock_timeout) != "active":
                raise RuntimeError(f"provisioning of {slug} failed")
            if index % 100 == 0 or index == missing:
                print(f"  {existing + index}/{schemas} tenant schemas", flush=True)
        invalidate_host_cache()
        count = db.session.scalar(
            sa.text("SELECT count(*) FROM pg_namespace WHERE nspname ~ '^t_[0-9]+$'")
        )
    if count != schemas:
        raise RuntimeError(f"{count} tenant schemas, expected {schemas}")
    return time.perf_counter() - started


# -- report ------------------------------------------------------------------------------
def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_table(schemas: int, results: list[Result]) -> None:
    bare = next(r for r in results if r.key == "bare")
    print(f"\n  {schemas} tenant schemas")
    print(
        f"  {'endpoint':<45} {'req/s':>8} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'errors':>7} {'/bare':>6}"
    )
    for r in results:
        ratio = r.rps / bare.rps if bare.rps else float("nan")
        print(
            f"  {r.label:<45} {r.rps:>8.1f} {r.p50:>6.0f} {r.p95:>6.0f} {r.p99:>6.0f} "
            f"{r.failures:>7} {ratio:>6.2f}"
        )


def markdown_table(schemas: int, results: list[Result]) -> str:
    bare = next(r for r in results if r.key == "bare")
    lines = [
        f"| {schemas} schemas | req/s | p50 ms | p95 ms | p99 ms | errors | ratio to bare |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r.rps / bare.rps if bare.rps else float("nan")
        lines.append(
            f"| {r.label} | {r.rps:.1f} | {r.p50:.0f} | {r.p95:.0f} | {r.p99:.0f} "
            f"| {r.failures} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def verdicts(by_schemas: dict[int, list[Result]]) -> bool:
    heading("Verdicts")
    ok = True
    for schemas, results in by_schemas.items():
        bare = next(r for r in results if r.key == "bare")
        for r in results:
            if r.key == "bare":
                checks = [("errors", r.failures == 0, f"{r.failures}")]
            else:
                ratio = r.rps / bare.rps if bare.rps else 0.0
                checks = [
                    ("≥ 40 % of bare", ratio >= TARGET_RATIO, f"{ratio:.0%}"),
                    ("p95 ≤ 50 ms", r.p95 <= TARGET_P95_MS, f"{r.p95:.0f} ms"),
                    ("errors", r.failures == 0, f"{r.failures}"),
                ]
            for name, passed, value in checks:
                ok &= passed
                mark = "PASS" if passed else "FAIL"
                print(f"  [{mark}] {schemas:>5} schemas, {r.label}: {name} ({value})")
    counts = sorted(by_schemas)
    if len(counts) >= 2:
        low, high = by_schemas[counts[0]], by_schemas[counts[-1]]
        for a, b in zip(low, high, strict=True):
            drift = (b.rps - a.rps) / a.rps if a.rps else float("nan")
            passed = abs(drift) <= TARGET_SCHEMA_DRIFT
            ok &= passed
            print(
                f"  [{'PASS' if passed else 'FAIL'}] {a.label}: req/s {a.rps:.1f} with "
                f"{counts[0]} schemas, {b.rps:.1f} with {counts[-1]} ({drift:+.0%}, within 20 %)"
            )
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--schemas",
        default="10,1000",
        help="tenant schema counts to measure at, comma-separated (default 10,1000)",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    parser.add_argument("--users", type=int, default=32, help="concurrent locust users")
    parser.add_argument("--wait", type=float, default=0.0, help="think time per user (s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per stage")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = sorted({int(x) for x in args.schemas.split(",") if x.strip()})
    if not counts or counts[0] < len(SEEDED):
        raise SystemExit(f"--schemas: at least {len(SEEDED)} (the seeded tenants)")
    from bench.participation import build_app
    from tenants.migrate import upgrade_public

    server_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    by_schemas: dict[int, list[Result]] = {}
    with (
        scratch_database(server_url, args.keep) as database_url,
        tempfile.TemporaryDirectory(prefix="pnyx-load-") as workdir,
    ):
        app = build_app(database_url, redis_url)
        with app.app_context():
            from core.db import db

            upgrade_public(db.engine)
        info = machine_info(app)
        heading("Machine")
        for key, value in info.items():
            print(f"  {key:<12} {value}")
        print(
            f"  gunicorn     {args.workers} gthread workers × {args.threads} threads; "
            f"locust {args.users} users, {args.duration} s per scenario, think time {args.wait} s"
        )
        started = time.perf_counter()
        targets = seed_tenants(app)
        print(f"  three tenants seeded in {time.perf_counter() - started:.0f} s")
        for schemas in counts:
            heading(f"{schemas} tenant schemas")
            seconds = grow_to(app, schemas)
            if seconds:
                print(f"  provisioned up to {schemas} schemas in {seconds:.0f} s")
            with gunicorn(database_url, redis_url, args) as port:
                if args.warmup:
                    warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                    for key, _label in SCENARIOS:
                        run_locust(Path(workdir), port, targets, key, warm, quiet=True)
                results = []
                for key, label in SCENARIOS:
                    before = load_average()
                    result = run_locust(Path(workdir), port, targets, key, args)
                    results.append(result)
                    print(
                        f"  {label:<45} {result.rps:>7.1f} req/s  p95 {result.p95:>5.0f} ms  "
                        f"errors {result.failures}  (load avg before: {before})",
                        flush=True,
                    )
            by_schemas[schemas] = results
            print_table(schemas, results)
        heading("Tables (markdown)")
        print(f"load avg at the end: {load_average()}")
        for schemas, results in by_schemas.items():
            print()
            print(markdown_table(schemas, results))
        ok = verdicts(by_schemas)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
