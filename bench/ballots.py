"""Ballot casting benchmark: sustained ballots per second through the real HTTP endpoint
(``POST /budgets-participatifs/<id>/vote``) with 10,000 eligible voters, and the results
checked against the ballots cast, exactly.

Run from the repository root:

    .venv/bin/python bench/ballots.py [--voters 10000] [--clients 6] [--workers 3]
                                      [--threads 4] [--keep]

It creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at
the end, also on error or Ctrl-C, unless --keep), provisions Mulhouse, seeds a budget in its
vote (12 feasible projects, knapsack, envelope 500,000 €) and N citizens whose participation
is approved (bulk SQL), then starts gunicorn (``wsgi:app``, gthread workers) on a free port
and has several client *processes* post one ballot per voter over keep-alive HTTP
connections, each with the voter's own signed session cookie and CSRF token (what a browser
holds after logging in). Every voter picks a random selection that fits the envelope; the
script keeps the expected count per project.

Afterwards it checks: every answer was the 303 of a recorded ballot; ``budget_ballots`` and
``budget_voters`` each have N rows; the votes per project computed by the results service
equal the expected counts; then 200 voters try again: every answer is the 409 "déjà voté"
page and nothing changes. This is a measuring script, not a test.
"""

# ruff: noqa: E402

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from core import clock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from bench.common import PLATFORM_DOMAIN, heading, scratch_database, server_urls
from core.app import create_app
from core.db import db
from core.security.auth import SESSION_RECORD_KEY, issue_session_tokens
from core.security.sessions import session_serializer, tenant_salt
from tenants.context import tenant_context
from tenants.migrate import upgrade_public
from tenants.provisioning import provision_now
from tenants.services import create_tenant

TENANT_CODE = "68224"  # Mulhouse
TENANT_SLUG = "mulhouse"
HOST = f"{TENANT_SLUG}.{PLATFORM_DOMAIN}"
ENVELOPE = 500_000
TARGET = 300.0
SEED = 20261122
PROJECTS = [
    ("Des bancs au parc Salvator", 42_000),
    ("Pistes cyclables rue du Sauvage", 165_000),
    ("Une fontaine à boire place de la Réunion", 28_000),
    ("Un terrain multisport à Bourtzwiller", 135_000),
    ("Des arbres fruitiers dans les cours d'école", 32_000),
    ("Une boîte à livres dans chaque quartier", 14_000),
    ("Éclairer le passage sous la voie ferrée à Dornach", 52_000),
    ("Des composteurs partagés aux Coteaux", 11_000),
    ("Une fresque sur le mur de la gare", 40_000),
    ("Des toilettes publiques au parc de la Citadelle", 95_000),
    ("Un jardin partagé au Rebberg", 38_000),
    ("Des arceaux vélo au centre historique", 16_000),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- seeding -----------------------------------------------------------------------------
def seed(app, tenant_id: int, voters: int) -> tuple[int, dict[str, int], list[int]]:
    """The budget (in its vote today), its projects, ``voters`` approved citizens."""
    from participation.accounts.legal import insert_default_legal_documents
    from participation.budgets.models import Budget, BudgetProject, ProjectStatus

    with app.app_context(), tenant_context(tenant_id) as tenant:
        insert_default_legal_documents(db.session.connection(), tenant.name)
        day = clock.paris_today()
        budget = Budget(
            title="Budget participatif 2026 (bench)",
            description="",
            envelope=ENVELOPE,
            submission_starts_on=day - timedelta(days=60),
            submission_ends_on=day - timedelta(days=30),
            vote_starts_on=day - timedelta(days=1),
            vote_ends_on=day + timedelta(days=20),
            implementation_starts_on=day + timedelta(days=60),
            minimum_age=16,
            require_residency=True,
            eligible_population=voters,
            published_at=sa.func.now(),
        )
        db.session.add(budget)
        db.session.flush()
        projects = {}
        for title, cost in PROJECTS:
            project = BudgetProject(
                budget_id=budget.id,
                title=title,
                description="Projet du banc d'essai.",
                proposed_cost=cost,
                estimated_cost=cost,
                status=ProjectStatus.FEASIBLE,
            )
            db.session.add(project)
            db.session.flush()
            projects[title] = project.id
        conn = db.session.connection()
        conn.execute(
            sa.text(
                "INSERT INTO users (email, display_name, email_confirmed_at, terms_version, "
                "charter_version) SELECT 'votant' || n || '@bench.example.fr', 'Votant ' || n, "
                "now(), (SELECT max(version) FROM legal_documents WHERE kind = 'terms'), "
                "(SELECT max(version) FROM legal_documents WHERE kind = 'charter') "
                "FROM generate_series(1, :n) AS n"
            ),
            {"n": voters},
        )
        user_ids = list(
            conn.scalars(
                sa.text("SELECT id FROM users WHERE email LIKE '%@bench.example.fr' ORDER BY id")
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO budget_eligibilities (budget_id, user_id, full_name, birth_date, "
                "resident, status) SELECT :b, id, display_name, date '1980-01-01', true, "
                "'approved' FROM users WHERE email LIKE '%@bench.example.fr'"
            ),
            {"b": budget.id},
        )
        db.session.commit()
        return budget.id, projects, user_ids


def choose(rng: random.Random, projects: dict[str, int]) -> list[int]:
    """A random selection within the envelope (what a voter might pick)."""
    costs = dict(PROJECTS)
    order = list(projects)
    rng.shuffle(order)
    chosen, total = [], 0
    for title in order:
        if total + costs[title] <= ENVELOPE and rng.random() < 0.6:
            chosen.append(projects[title])
            total += costs[title]
    if not chosen:
        chosen = [projects[min(costs, key=costs.get)]]
    return chosen


# -- credentials -------------------------------------------------------------------------
def credentials(
    secret_key: str, tenant_id: int, user_ids: list[int], session_tokens: dict[int, str]
) -> list[tuple[str, str]]:
    """(session cookie, CSRF form token) per voter, signed exactly as the app signs them
    (core.security.sessions: one salt per tenant; Flask-WTF's token salt), naming the
    voter's server-side session record (core.security.auth)."""
    cookies = session_serializer(secret_key, tenant_salt(tenant_id))
    tokens = URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token")
    out = []
    for user_id in user_ids:
        raw = secrets.token_hex(20)  # what Flask-WTF keeps in the session
        session = {
            "_user_id": f"t{tenant_id}:{user_id}:1",
            SESSION_RECORD_KEY: session_tokens[user_id],
            "_fresh": True,
            "csrf_token": raw,
        }
        out.append((cookies.dumps(session), tokens.dumps(raw)))
    return out


# -- clients -----------------------------------------------------------------------------
class RawClient:
    """A minimal keep-alive HTTP/1.1 client over one socket: the requests are built as bytes
    before the clock starts, the answers read by Content-Length. Much lighter than
    http.client, so that the client processes leave the CPU to the server they measure."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = None
        self.buffer = b""

    def _connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in range(3):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(raw)
                return self._read()
            except (ConnectionError, OSError, ValueError):
                self.close()
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")

    def _read(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        closing = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                closing = True
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if closing:
            self.close()
        return status, body

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def raw_post(path: str, cookie_name: str, cookie: str, body: str) -> bytes:
    data = body.encode()
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {HOST}\r\n"
        "X-Forwarded-Proto: https\r\n"
        # Over HTTPS, Flask-WTF checks that the form was posted from this site.
        f"Referer: https://{HOST}{path}\r\n"
        f"Cookie: {cookie_name}={cookie}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def client_worker(args) -> tuple[list[float], Counter, list[str], float]:
    """One client process: its share of voters, one keep-alive connection, sequential."""
    port, path, cookie_name, jobs = args
    requests = [
        raw_post(
            path,
            cookie_name,
            cookie,
            urlencode([("csrf_token", token)] + [("project", str(p)) for p in choices]),
        )
        for cookie, token, choices in jobs
    ]
    cpu_start = time.process_time()
    client = RawClient(port)
    latencies, codes, odd = [], Counter(), []
    for raw in requests:
        start = time.perf_counter()
        status, data = client.exchange(raw)
        latencies.append((time.perf_counter() - start) * 1000)
        codes[status] += 1
        if status not in (303, 409) and len(odd) < 3:
            odd.append(f"{status}: {data[:300]!r}")
        if status == 409 and "déjà voté".encode() not in data and len(odd) < 3:
            odd.append(f"409 without the message: {data[:300]!r}")
    client.close()
    return latencies, codes, odd, time.process_time() - cpu_start


def run_clients(port, path, cookie_name, jobs, clients: int):
    shares = [jobs[i::clients] for i in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        start = time.perf_counter()
        results = pool.map(client_worker, [(port, path, cookie_name, share) for share in shares])
        elapsed = time.perf_counter() - start
    latencies = [x for r in results for x in r[0]]
    codes = sum((r[1] for r in results), Counter())
    odd = [x for r in results for x in r[2]]
    client_cpu = sum(r[3] for r in results)
    return elapsed, latencies, codes, odd, client_cpu


def cpu_seconds(server_pgid: int, database: str) -> tuple[float, float]:
    """CPU time used so far by the gunicorn processes and by this database's PostgreSQL
    backends (from /proc: what the machine spent on the ballots, whatever else runs)."""
    tick = os.sysconf("SC_CLK_TCK")
    server = backends = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used = int(fields[11]) + int(fields[12])  # utime + stime
        if int(fields[2]) == server_pgid:
            server += used
        elif command.startswith(b"postgres: ") and f" {database} ".encode() in command:
            backends += used
    return server / tick, backends / tick


# -- server ------------------------------------------------------------------------------
def start_server(
    env: dict, port: int, workers: int | None, threads: int | None, worker_class: str | None
) -> subprocess.Popen:
    """gunicorn with the production settings file (gunicorn.conf.py); the options given
    override its defaults through its environment variables."""
    env = dict(env)
    for name, value in (
        ("PNYX_GUNICORN_WORKERS", workers),
        ("PNYX_GUNICORN_THREADS", threads),
        ("PNYX_GUNICORN_WORKER_CLASS", worker_class),
    ):
        if value is not None:
            env[name] = str(value)
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "wsgi:app",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": PLATFORM_DOMAIN})
            if conn.getresponse().status < 500:
                return process
        except OSError:
            time.sleep(0.3)
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before serving")
    raise RuntimeError("gunicorn did not answer in 60 s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# -- main --------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=6, help="client processes")
    parser.add_argument(
        "--workers", type=int, help="gunicorn worker processes (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--threads", type=int, help="threads per gunicorn worker (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--worker-class", help="gunicorn worker class (default: gunicorn.conf.py's, gthread)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    database_url, redis_url = server_urls()
    secret_key = secrets.token_hex(32)

    heading("Machine")
    print(f"{platform.node()} — {os.cpu_count()} CPU — Python {platform.python_version()}")
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")

    with scratch_database(database_url, args.keep) as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": redis_url,
                "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
                "SECRET_KEY": secret_key,
                "RQ_ASYNC": False,
            }
        )
        with app.app_context():
            upgrade_public(db.engine)
            tenant = create_tenant(TENANT_CODE, PLATFORM_DOMAIN, slug=TENANT_SLUG)
            db.session.commit()
            tenant_id = tenant.id
            provision_now(db.engine, tenant_id)
            server_version = db.session.scalar(sa.text("SHOW server_version"))
        print(f"PostgreSQL {server_version}")

        heading(f"Seeding {args.voters:,} eligible voters")
        start = time.perf_counter()
        budget_id, projects, user_ids = seed(app, tenant_id, args.voters)
        with app.app_context(), tenant_context(tenant_id):
            session_tokens = issue_session_tokens("tenant", user_ids)
        creds = credentials(secret_key, tenant_id, user_ids, session_tokens)
        rng = random.Random(SEED)
        jobs, expected = [], Counter()
        for cookie, token in creds:
            choices = choose(rng, projects)
            expected.update(choices)
            jobs.append((cookie, token, choices))
        print(f"seeded and signed in {time.perf_counter() - start:.1f} s")

        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
            "SECRET_KEY": secret_key,
            # As production runs: behind one trusting proxy that terminates TLS.
            "PNYX_ENV": "production",
            "TRUSTED_PROXY_COUNT": "1",
            "RQ_ASYNC": "0",
        }
        if args.threads:
            env["DATABASE_POOL_SIZE"] = str(args.threads + 1)
        port = free_port()
        heading(
            f"gunicorn -c gunicorn.conf.py: workers {args.workers or 'default'}, threads "
            f"{args.threads or 'default'}, class {args.worker_class or 'default'}; "
            f"{args.clients} client processes"
        )
        server = start_server(env, port, args.workers, args.threads, args.worker_class)
        path = f"/budgets-participatifs/{budget_id}/vote"
        cookie_name = app.config.get("SESSION_COOKIE_NAME", "session")
        try:
            # Warm-up: each worker loads templates and fills its pools on GET pages.
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for index in range(30):
                cookie = creds[index][0]
                warm.request(
                    "GET", path, headers={"Host": HOST, "Cookie": f"{cookie_name}={cookie}"}
                )
                warm.getresponse().read()
            warm.close()

            heading("Casting the ballots")
            database = sa.make_url(url).database
            server_before, db_before = cpu_seconds(server.pid, database)
            elapsed, latencies, codes, odd, client_cpu = run_clients(
                port, path, cookie_name, jobs, args.clients
            )
            server_after, db_after = cpu_seconds(server.pid, database)
            rate = len(jobs) / elapsed
            print(
                f"{len(jobs):,} ballots in {elapsed:.2f} s → {rate:,.0f} ballots/s "
                f"(target ≥ {TARGET:.0f})"
            )
            print(
                f"latency per ballot: p50 {statistics.median(latencies):.1f} ms, "
                f"p95 {pct(latencies, 95):.1f} ms, max {max(latencies):.1f} ms"
            )
            print(f"answers: {dict(codes)}")
            per = 1000 / len(jobs)
            server_ms = (server_after - server_before) * per
            db_ms = (db_after - db_before) * per
            print(
                f"CPU per ballot: app (gunicorn) {server_ms:.2f} ms, PostgreSQL {db_ms:.2f} ms, "
                f"HTTP clients {client_cpu * per:.2f} ms"
            )
            cores = os.cpu_count() or 1
            print(
                f"→ ballots/s that {cores} cores given to the app and the database alone "
                f"could sustain at that cost: {cores * 1000 / (server_ms + db_ms):,.0f}"
            )
            for line in odd:
                print(f"  unexpected: {line}")
            print(f"load average after: {os.getloadavg()}")

            heading("Second attempts (200 voters who already voted)")
            again_elapsed, _lat, again_codes, again_odd, _cpu = run_clients(
                port, path, cookie_name, jobs[:200], 4
            )
            print(f"answers: {dict(again_codes)} in {again_elapsed:.2f} s")
            for line in again_odd:
                print(f"  unexpected: {line}")
        finally:
            stop_server(server)

        heading("Checking the results against the ballots cast")
        from participation.budgets import services

        with app.app_context(), tenant_context(tenant_id):
            budget = services.get_budget(budget_id)
            counts = services.vote_counts(budget)
            results = services.compute_results(budget)
            ballots = db.session.scalar(
                sa.text("SELECT count(*) FROM budget_ballots WHERE budget_id = :b"),
                {"b": budget_id},
            )
            register = db.session.scalar(
                sa.text("SELECT count(*) FROM budget_voters WHERE budget_id = :b"), {"b": budget_id}
            )
            retained = ", ".join(row.project.title for row in results.retained)
            turnout = results.turnout
            db.session.rollback()
        checks = {
            "every first ballot answered 303": codes.get(303, 0) == len(jobs),
            "every second attempt answered 409": again_codes.get(409, 0) == 200,
            "ballots rows = voters": ballots == len(jobs),
            "register rows = voters": register == len(jobs),
            "votes per project = ballots cast": dict(counts) == dict(expected),
            "results service sees every ballot": results.ballots == len(jobs)
            and results.voters == len(jobs),
        }
        for name, ok in checks.items():
            print(f"{'OK ' if ok else 'FAIL'} {name}")
        print(f"turnout {turnout:.1%}; retained: {retained}")
        return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
