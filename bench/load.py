"""Whole-product load benchmark: the product served as production serves it, under load.

Run from the repository root:

    .venv/bin/python bench/load.py [--schemas 10,1000] [--duration 20] [--users 32]
                                   [--workers N] [--threads N] [--no-signed-in] [--keep]

What it does:

1. Creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at
   the end, also on error or Ctrl-C, unless --keep) and uses REDIS_URL (default database 12).
2. Seeds three tenants (Mulhouse, Angers, Saillans) with bench/participation.py's seeding:
   1,000 proposals, 20,000 supports (through the real trigger), 5,000 comments each, plus
   nine more published processes each (10 processes per tenant), and picks one usable
   citizen account per tenant for the signed-in scenarios.
3. For each schema count of --schemas (ascending, the same database growing), provisions
   empty tenants with the tenancy benchmark's helpers until the database holds that many
   tenant schemas, then starts gunicorn the way production runs it: ``gunicorn -c
   gunicorn.conf.py`` (its workers and threads unless --workers/--threads say otherwise,
   through PNYX_GUNICORN_WORKERS/THREADS), PNYX_ENV=production, a real SECRET_KEY, real
   PostgreSQL and Redis, rate limits on, with this file's app factory wrapper, which adds
   one bare route, ``/_bench/bare`` on the tenant site (host resolution and the security
   headers, no SQL): the ceiling of the stack.
4. Drives it with wrk (Debian's package, installed if missing; a C client, so that the
   load generator leaves the CPU to the server): --users connections over two wrk
   threads, no think time (each connection sends its next request as soon as it has the
   answer), one scenario per endpoint for --duration seconds each, every request going to
   the next of the three seeded tenants in turn: tenant home, process page, proposal
   list, proposal page (random proposals of that tenant), API proposal list, the bare
   route. A Lua script written to the temporary directory builds the requests, counts
   the answers that are not 200 and prints one JSON line of figures.
5. Then the same five pages as a signed-in citizen (--no-signed-in skips them): the
   session cookie of a real citizen of each tenant, signed with the server's SECRET_KEY as
   the app signs it. Cookie-bearing requests bypass any anonymous page cache; a first GET
   checks that the page really is the signed-in one (the log-out form).
6. Prints per endpoint req/s, p50, p95, p99 (ms), errors (socket errors and answers other
   than 200) and the throughput ratio to the bare route, the verdicts against the targets
   (every anonymous page at least 40 % of the bare route's throughput, p95 at most 50 ms,
   zero errors) and, with two schema counts, the change of each endpoint's throughput
   between them (target: within 20 %). The signed-in table is for information: the
   targets are about anonymous visitors.

wrk's percentiles include its correction for coordinated omission: after the run, each
recorded latency longer than twice the mean interval between two requests of one
connection adds synthetic samples, which lifts p95/p99 under queueing compared with
clients that only record what they measured (locust did).

The API's rate limit (300 requests per minute per client address in production) is raised
for the bench: every wrk connection shares one address. The limiter still counts every
request in Redis, as in production.

This is a measuring script, not a test: nothing here is imported by the app, except the
``bench_app`` factory by the gunicorn it starts.
"""

# Project imports come after the sys.path fix below, so that `python bench/load.py`
# works as well as `python -m bench.load`.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Blueprint, Flask

from bench.common import PLATFORM_DOMAIN, heading, machine_info, scratch_database, server_urls
from bench.tenancy import pick_communes

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
#: The pages measured again as a signed-in citizen (the bare route has no session work).
SIGNED_IN_SCENARIOS = [(key, label) for key, label in SCENARIOS if key != "bare"]
GUNICORN_CONF = "gunicorn.conf.py"  # relative to the repository root
WRK_THREADS = 2
#: Only a signed-in user's page has it: the log-out form of the tenant header
#: (templates/_nav_tenant.html, accounts.logout is POST /deconnexion).
SIGNED_IN_MARKER = re.compile(r'<form method="post" action="[^"]*/deconnexion"')


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


# -- wrk (second process) ----------------------------------------------------------------
def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when it is missing, as the Makefile's
    browser-deps target installs chromium (root: apt-get; else sudo; else exit 2)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo"):
        prefix = ["sudo"]
    else:
        print(
            "bench/load.py: wrk is missing, and this user can neither install packages "
            "(not root) nor use sudo.\n  Ask an administrator for: apt-get install wrk",
            file=sys.stderr,
        )
        raise SystemExit(2)
    print("  wrk is missing: installing Debian's package", flush=True)
    install = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "wrk"]
    try:
        subprocess.run([*prefix, "apt-get", "update"], check=True)
        subprocess.run([*prefix, *install], check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"bench/load.py: installing wrk failed ({error})", file=sys.stderr)
        raise SystemExit(2) from error
    found = shutil.which("wrk")
    if not found:
        print("bench/load.py: wrk is still missing after apt-get install", file=sys.stderr)
        raise SystemExit(2)
    return found


# The targets are written into the script; each wrk thread runs its own copy (one Lua
# state per thread), setup() and done() run in the main thread's. Arguments after `--`:
# the scenario, then "signed" or "anonymous".
WRK_SCRIPT = """
local targets = __TARGETS__
local wait_ms = __WAIT_MS__
local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  scenario = args[1]
  signed = args[2] == "signed"
  non200 = 0
  misses = 0
  -- Round-robin over the tenants; the threads start on different ones.
  turn = id
  math.randomseed(os.time() * 1000 + id)
end

local function path_for(target)
  if scenario == "home" then
    return "/"
  elseif scenario == "process" then
    return "/demarches/" .. target.process_id
  elseif scenario == "list" then
    return "/demarches/" .. target.process_id .. "/propositions"
  elseif scenario == "proposal" then
    local ids = target.proposal_ids
    return "/propositions/" .. ids[math.random(#ids)]
  elseif scenario == "api" then
    return "/api/v1/proposals?process=" .. target.process_id
  elseif scenario == "bare" then
    return "__BARE__"
  end
  error("unknown scenario " .. tostring(scenario))
end

function request()
  local target = targets[(turn % #targets) + 1]
  turn = turn + 1
  local headers = { ["Host"] = target.host, ["X-Forwarded-Proto"] = "https" }
  if signed then
    headers["Cookie"] = target.cookie
  end
  return wrk.format("GET", path_for(target), headers)
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
  if headers["X-Pnyx-Cache"] == "miss" then
    misses = misses + 1
  end
end

if wait_ms > 0 then
  function delay()
    return wait_ms
  end
end

function done(summary, latency, requests)
  local bad, rendered = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
    rendered = rendered + thread:get("misses")
  end
  local seconds = summary.duration / 1000000
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "rps": %.3f, '
      .. '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, '
      .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "non200": %d, '
      .. '"misses": %d}\\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    e.connect, e.read, e.write, e.timeout, bad, rendered))
end
""".replace("__BARE__", BARE_PATH)

_LUA_SAFE = re.compile(r"[A-Za-z0-9._=:;/+-]*")


def _lua_string(value: str) -> str:
    if not _LUA_SAFE.fullmatch(value):
        raise ValueError(f"unexpected characters for a Lua literal: {value!r}")
    return f'"{value}"'


def write_wrk_script(workdir: Path, targets: list[dict], wait: float) -> Path:
    """The Lua script with the targets (host, process, proposal ids, cookie) inlined."""
    items = []
    for target in targets:
        ids = ", ".join(str(i) for i in target["proposal_ids"])
        items.append(
            f"  {{ host = {_lua_string(target['host'])}, "
            f"process_id = {int(target['process_id'])}, "
            f"cookie = {_lua_string(target.get('cookie', ''))},\n"
            f"    proposal_ids = {{ {ids} }} }}"
        )
    text = WRK_SCRIPT.replace("__TARGETS__", "{\n" + ",\n".join(items) + "\n}").replace(
        "__WAIT_MS__", str(round(wait * 1000))
    )
    path = workdir / "load.lua"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Result:
    key: str
    label: str
    requests: int
    failures: int  # socket errors (connect, read, write, timeout) + answers other than 200
    rps: float
    p50: float
    p95: float
    p99: float
    rendered: int = 0  # answers the page cache did not have (X-Pnyx-Cache: miss)


def run_wrk(
    wrk: str,
    script: Path,
    port: int,
    scenario: str,
    args: argparse.Namespace,
    signed: bool = False,
    quiet: bool = False,
) -> Result:
    threads = max(1, min(WRK_THREADS, args.users))
    command = [
        wrk,
        "-c",
        str(args.users),
        "-t",
        str(threads),
        "-d",
        f"{args.duration}s",
        "--timeout",
        f"{args.timeout}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
        "--",
        scenario,
        "signed" if signed else "anonymous",
    ]
    completed = subprocess.run(
        command,
        cwd=script.parent,
        check=False,
        capture_output=True,
        timeout=args.duration + 120,
    )
    label = dict(SCENARIOS)[scenario]
    stdout = completed.stdout.decode(errors="replace")
    figures = None
    for line in stdout.splitlines():
        if line.startswith('{"requests"'):
            with suppress(ValueError):
                figures = json.loads(line)
    nan = float("nan")
    if completed.returncode != 0 or figures is None:
        if not quiet:
            print(f"  wrk gave no figures for {scenario} (exit {completed.returncode}):")
            print((stdout + completed.stderr.decode(errors="replace"))[-2000:], flush=True)
        return Result(scenario, label, 0, 0, 0.0, nan, nan, nan)
    socket_errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    measured = figures["requests"] > 0
    return Result(
        key=scenario,
        label=label,
        requests=figures["requests"],
        failures=socket_errors + figures["non200"],
        rps=figures["rps"],
        p50=figures["p50_ms"] if measured else nan,
        p95=figures["p95_ms"] if measured else nan,
        p99=figures["p99_ms"] if measured else nan,
        rendered=figures.get("misses", 0),
    )


# -- gunicorn (the product, as production runs it) ---------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_overrides(args: argparse.Namespace) -> dict[str, str]:
    """The environment that overrides gunicorn.conf.py: only what the user asked for."""
    overrides = {}
    if args.workers is not None:
        overrides["PNYX_GUNICORN_WORKERS"] = str(args.workers)
    if args.threads is not None:
        overrides["PNYX_GUNICORN_THREADS"] = str(args.threads)
    return overrides


def gunicorn_settings(args: argparse.Namespace) -> dict:
    """gunicorn.conf.py's values as the started gunicorn will read them."""
    with mock.patch.dict(os.environ, gunicorn_overrides(args)):
        return runpy.run_path(str(ROOT / GUNICORN_CONF))


@contextmanager
def gunicorn(database_url: str, redis_url: str, secret_key: str, args: argparse.Namespace):
    port = free_port()
    env = {
        **os.environ,
        **gunicorn_overrides(args),
        "PYTHONPATH": str(ROOT),
        "PNYX_ENV": "production",
        "SECRET_KEY": secret_key,
        "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # The proxy in front of production terminates TLS and says so.
        "TRUSTED_PROXY_COUNT": "1",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c",
        GUNICORN_CONF,
        "--bind",
        f"127.0.0.1:{port}",
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


# -- signed-in citizens ------------------------------------------------------------------
def client_identifier(app: Flask) -> str:
    """Flask-Login's session-protection identifier of wrk's requests (127.0.0.1, no
    User-Agent), as login_user() stores it in the session: without it, every answer would
    mark the session non-fresh and send a new cookie, which no real browser session does."""
    from flask_login.utils import _create_identifier

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        return _create_identifier()


def session_cookie(
    secret_key: str,
    tenant_id: int,
    user_id: int,
    session_version: int,
    identifier: str,
    session_token: str,
) -> str:
    """A session cookie for ``user_id``, signed exactly as the app signs it (as
    bench/ballots.py's credentials(): the tenant's salt, Flask's serializer and SHA-1)."""
    from core.security.sessions import session_serializer, tenant_salt

    serializer = session_serializer(secret_key, tenant_salt(tenant_id))
    session = {
        "_user_id": f"t{tenant_id}:{user_id}:{session_version}",
        # The server-side session record it names (core.security.auth).
        "pnyx_sid": session_token,
        "_fresh": True,
        "_id": identifier,
        # What Flask-WTF keeps in the session once a form was shown: the log-out form of
        # every signed-in page needs it, so the session is not rewritten on each answer.
        "csrf_token": secrets.token_hex(20),
    }
    return serializer.dumps(session)


def add_cookies(app: Flask, targets: list[dict], secret_key: str) -> None:
    cookie_name = app.config.get("SESSION_COOKIE_NAME", "session")
    from core.security.auth import issue_session_tokens
    from tenants.context import tenant_context

    identifier = client_identifier(app)
    for target in targets:
        with app.app_context(), tenant_context(target["tenant_id"]):
            token = issue_session_tokens("tenant", [target["citizen_id"]])[target["citizen_id"]]
        cookie = session_cookie(
            secret_key,
            target["tenant_id"],
            target["citizen_id"],
            target["citizen_version"],
            identifier,
            token,
        )
        target["cookie"] = f"{cookie_name}={cookie}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (log-in, terms to accept) is an answer, not followed


def fetch_home(port: int, target: dict, cookie: str | None) -> tuple[int, str, bool]:
    """(status, HTML, whether the answer sets a cookie) of GET / sent as wrk sends it."""
    headers = {"Host": target["host"], "X-Forwarded-Proto": "https"}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    opener.addheaders = []  # no User-Agent, as wrk
    try:
        with opener.open(request, timeout=30) as response:
            body = response.read().decode(errors="replace")
            return response.status, body, "Set-Cookie" in response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), "Set-Cookie" in error.headers


def anonymous_paths(target: dict) -> list[str]:
    """Every URL the anonymous scenarios can request on ``target``."""
    process = target["process_id"]
    return [
        "/",
        f"/demarches/{process}",
        f"/demarches/{process}/propositions",
        f"/api/v1/proposals?process={process}",
        *(f"/propositions/{pid}" for pid in target["proposal_ids"]),
    ]


def warm_page_cache(
    port: int, targets: list[dict], connections: int = 8
) -> tuple[int, Counter, float]:
    """Request every page of the anonymous scenarios once, as a visitor without a session,
    so that the measured runs see the cache as it is after some minutes of traffic (every
    page visited once since the last change). Returns (pages, answers by (status, cache
    header), seconds)."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(t["host"], path) for t in targets for path in anonymous_paths(t)]
    shares = [jobs[i::connections] for i in range(connections)]

    def visit(share):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        seen = Counter()
        for host, path in share:
            conn.request("GET", path, headers={"Host": host, "X-Forwarded-Proto": "https"})
            response = conn.getresponse()
            response.read()
            seen[(response.status, response.getheader("X-Pnyx-Cache") or "-")] += 1
        conn.close()
        return seen

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        seen = sum(pool.map(visit, shares), Counter())
    return len(jobs), seen, time.perf_counter() - started


def settle(port: int, target: dict, timeout: float = 30.0) -> None:
    """Wait until the server is idle again (a run's queued requests served): the bare
    route answers in under 5 ms three times in a row."""
    import http.client

    deadline = time.monotonic() + timeout
    fast = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while fast < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        started = time.perf_counter()
        conn.request("GET", BARE_PATH, headers={"Host": target["host"]})
        conn.getresponse().read()
        fast = fast + 1 if time.perf_counter() - started < 0.005 else 0
    conn.close()


def check_signed_in(port: int, targets: list[dict]) -> None:
    """The cookie really signs a citizen in: the home page shows the log-out form, which
    the anonymous home page does not."""
    for target in targets:
        status, html, _ = fetch_home(port, target, None)
        if status != 200 or SIGNED_IN_MARKER.search(html):
            raise RuntimeError(
                f"{target['host']}: the anonymous home page answered {status}"
                + (" with a log-out form" if SIGNED_IN_MARKER.search(html) else "")
                + "; the signed-in check cannot tell the two apart"
            )
        status, html, rewritten = fetch_home(port, target, target["cookie"])
        if status != 200 or not SIGNED_IN_MARKER.search(html):
            raise RuntimeError(
                f"{target['host']}: the session cookie of citizen {target['citizen_id']} "
                f"does not sign in: GET / answered {status} without the log-out form "
                "(wrong SECRET_KEY or salt, session_version, unusable account, or terms "
                "not accepted?)"
            )
        if rewritten:
            print(
                f"  note: {target['host']} answers the signed-in page with a new session "
                "cookie (the session is rewritten on every request)",
                flush=True,
            )


# -- seeding -----------------------------------------------------------------------------
def pick_citizen(limit: int = 50) -> tuple[int, int]:
    """(id, session_version) of a usable citizen account of the current tenant: active,
    neither deleted nor blocked, not staff, the current terms and charter accepted (else
    every page would redirect to the acceptance page)."""
    import sqlalchemy as sa

    from core.db import db
    from participation.accounts.models import User
    from participation.accounts.services import pending_legal_documents

    candidates = db.session.scalars(
        sa.select(User)
        .where(
            User.is_active_account.is_(True),
            User.deleted_at.is_(None),
            User.blocked_at.is_(None),
            User.staff_role.is_(None),
            User.email.is_not(None),
        )
        .order_by(User.id)
        .limit(limit)
    )
    for user in candidates:
        if user.is_active and not pending_legal_documents(user):
            return user.id, user.session_version
    raise RuntimeError("no usable citizen account (terms accepted) among the seeded users")


def seed_tenants(app: Flask) -> list[dict]:
    """The three seeded tenants; returns wrk's targets (host, process, proposal ids, and
    the tenant and citizen the signed-in cookie is made for)."""
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
            citizen_id, citizen_version = pick_citizen()
        targets.append(
            {
                "host": seeded.tenant_host,
                "tenant_id": seeded.tenant_id,
                "process_id": seeded.process_id,
                "proposal_ids": proposal_ids,
                "citizen_id": citizen_id,
                "citizen_version": citizen_version,
            }
        )
    return targets


def quiesce_database(app: Flask, timeout: float = 180.0) -> float:
    """Bring the database to a steady state before measuring: a checkpoint, then wait until
    no autovacuum worker runs (the seeding's and provisioning's bulk writes set them off,
    and a vacuum during a scenario takes CPU from the server being measured). Returns the
    seconds waited."""
    import sqlalchemy as sa

    from core.db import db

    started = time.perf_counter()
    with app.app_context(), db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("CHECKPOINT")
        quiet_since = None
        while time.perf_counter() - started < timeout:
            running = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                )
            )
            now = time.perf_counter()
            if running:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= 3.0:
                break
            time.sleep(0.5)
    return time.perf_counter() - started


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


def _bare_rps(results: list[Result]) -> float:
    return next((r.rps for r in results if r.key == "bare"), 0.0)


def print_table(title: str, results: list[Result], bare_rps: float) -> None:
    print(f"\n  {title}")
    print(
        f"  {'endpoint':<45} {'req/s':>8} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'errors':>7} {'/bare':>6} {'rendered':>9}"
    )
    for r in results:
        ratio = r.rps / bare_rps if bare_rps else float("nan")
        print(
            f"  {r.label:<45} {r.rps:>8.1f} {r.p50:>6.0f} {r.p95:>6.0f} {r.p99:>6.0f} "
            f"{r.failures:>7} {ratio:>6.2f} {r.rendered:>9}"
        )


def markdown_table(title: str, results: list[Result], bare_rps: float) -> str:
    lines = [
        f"| {title} | req/s | p50 ms | p95 ms | p99 ms | errors | ratio to bare |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r.rps / bare_rps if bare_rps else float("nan")
        lines.append(
            f"| {r.label} | {r.rps:.1f} | {r.p50:.0f} | {r.p95:.0f} | {r.p99:.0f} "
            f"| {r.failures} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def verdicts(by_schemas: dict[int, list[Result]], signed: dict[int, list[Result]]) -> bool:
    """The targets, on the anonymous scenarios; the signed-in ones are for information."""
    heading("Verdicts (anonymous visitors)")
    ok = True
    for schemas, results in by_schemas.items():
        bare_rps = _bare_rps(results)
        for r in results:
            if r.key == "bare":
                checks = [("errors", r.failures == 0, f"{r.failures}")]
            else:
                ratio = r.rps / bare_rps if bare_rps else 0.0
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
    counts = sorted(signed)
    if len(counts) >= 2:
        print("  signed-in citizen, for information:")
        low, high = signed[counts[0]], signed[counts[-1]]
        for a, b in zip(low, high, strict=True):
            drift = (b.rps - a.rps) / a.rps if a.rps else float("nan")
            print(
                f"  [info] {a.label}: req/s {a.rps:.1f} with {counts[0]} schemas, "
                f"{b.rps:.1f} with {counts[-1]} ({drift:+.0%})"
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
    parser.add_argument(
        "--users", type=int, default=32, help="concurrent connections (wrk -c, default 32)"
    )
    parser.add_argument("--wait", type=float, default=0.0, help="think time per request (s)")
    parser.add_argument(
        "--timeout",
        type=int,
        default=10,
        help="seconds after which wrk counts a request as a timeout error (default 10)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per gunicorn worker (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per scenario")
    parser.add_argument(
        "--no-signed-in",
        dest="signed_in",
        action="store_false",
        help="skip the signed-in citizen scenarios",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    return parser.parse_args(argv)


def measure(
    wrk: str,
    script: Path,
    port: int,
    targets: list[dict],
    scenarios: list,
    args: argparse.Namespace,
    signed: bool,
) -> list[Result]:
    results = []
    for key, label in scenarios:
        settle(port, targets[0])
        before = load_average()
        result = run_wrk(wrk, script, port, key, args, signed=signed)
        results.append(result)
        print(
            f"  {label:<45} {result.rps:>7.1f} req/s  p95 {result.p95:>5.0f} ms  "
            f"errors {result.failures}  rendered {result.rendered}  (load avg before: {before})",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = sorted({int(x) for x in args.schemas.split(",") if x.strip()})
    if not counts or counts[0] < len(SEEDED):
        raise SystemExit(f"--schemas: at least {len(SEEDED)} (the seeded tenants)")
    if args.users < 1 or args.duration < 1:
        raise SystemExit("--users and --duration: at least 1")
    wrk = ensure_wrk()
    settings = gunicorn_settings(args)
    from bench.participation import build_app
    from tenants.migrate import upgrade_public

    server_url, redis_url = server_urls()
    secret_key = secrets.token_urlsafe(48)  # the server's, so that cookies can be signed
    by_schemas: dict[int, list[Result]] = {}
    signed_by_schemas: dict[int, list[Result]] = {}
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
        origin = "--workers/--threads" if gunicorn_overrides(args) else GUNICORN_CONF
        print(
            f"  gunicorn     {settings['workers']} {settings['worker_class']} workers × "
            f"{settings['threads']} threads ({origin}); -c {GUNICORN_CONF}"
        )
        wrk_version = subprocess.run(
            [wrk, "-v"], capture_output=True, text=True, check=False
        ).stdout.splitlines()
        print(
            f"  wrk          {wrk_version[0].split(' Copyright')[0] if wrk_version else wrk}: "
            f"{args.users} connections, "
            f"{min(WRK_THREADS, args.users)} threads, {args.duration} s per scenario, "
            f"think time {args.wait} s, timeout {args.timeout} s"
        )
        started = time.perf_counter()
        targets = seed_tenants(app)
        print(f"  three tenants seeded in {time.perf_counter() - started:.0f} s")
        add_cookies(app, targets, secret_key)
        script = write_wrk_script(Path(workdir), targets, args.wait)
        for schemas in counts:
            heading(f"{schemas} tenant schemas")
            seconds = grow_to(app, schemas)
            if seconds:
                print(f"  provisioned up to {schemas} schemas in {seconds:.0f} s")
            waited = quiesce_database(app)
            print(f"  checkpoint, then no autovacuum running: waited {waited:.0f} s")
            with gunicorn(database_url, redis_url, secret_key, args) as port:
                if args.signed_in:
                    check_signed_in(port, targets)
                if args.warmup:
                    warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                    for key, _label in SCENARIOS:
                        run_wrk(wrk, script, port, key, warm, quiet=True)
                    if args.signed_in:
                        for key, _label in SIGNED_IN_SCENARIOS:
                            run_wrk(wrk, script, port, key, warm, signed=True, quiet=True)
                pages, seen, seconds = warm_page_cache(port, targets)
                answers = ", ".join(f"{n} {code} {hit}" for (code, hit), n in sorted(seen.items()))
                print(f"  page cache warmed: {pages} pages visited once in {seconds:.0f} s")
                print(f"  answers (status, X-Pnyx-Cache): {answers}")
                print("  anonymous visitors")
                results = measure(wrk, script, port, targets, SCENARIOS, args, signed=False)
                signed = []
                if args.signed_in:
                    print("  signed-in citizen")
                    signed = measure(
                        wrk, script, port, targets, SIGNED_IN_SCENARIOS, args, signed=True
                    )
            by_schemas[schemas] = results
            bare_rps = _bare_rps(results)
            print_table(f"{schemas} tenant schemas, anonymous", results, bare_rps)
            if signed:
                signed_by_schemas[schemas] = signed
                print_table(f"{schemas} tenant schemas, signed-in citizen", signed, bare_rps)
        heading("Tables (markdown)")
        print(f"load avg at the end: {load_average()}")
        for schemas, results in by_schemas.items():
            bare_rps = _bare_rps(results)
            print()
            print(markdown_table(f"{schemas} schemas", results, bare_rps))
            if schemas in signed_by_schemas:
                print()
                print(
                    markdown_table(
                        f"{schemas} schemas, signed-in citizen",
                        signed_by_schemas[schemas],
                        bare_rps,
                    )
                )
        ok = verdicts(by_schemas, signed_by_schemas)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
