"""Participation benchmark: server time and SQL query counts of the proposal pages on a
tenant with 1,000 proposals, 20,000 supports and 5,000 comments.

Run from the repository root:

    .venv/bin/python bench/participation.py [--requests 300] [--keep]

It creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at
the end, also on error or Ctrl-C, unless --keep), provisions one tenant, seeds it with
bulk inserts (the supports go through the real trigger that keeps ``supports_count``; the
comments are rows of the ``comments`` table), then requests each page through Flask's test
client, interleaved, after a warm-up, and prints the median and p95 server time and the
number of SQL statements of each page against the 30 ms target.
This is a measuring script, not a test: nothing here is imported by the app.
"""

# Project imports come after the sys.path fix below, so that `python bench/participation.py`
# works as well as `python -m bench.participation`.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event

from bench.common import PLATFORM_DOMAIN, heading, machine_info, scratch_app
from core.app import create_app
from core.db import db
from tenants import invalidate_host_cache
from tenants.context import tenant_context
from tenants.provisioning import provision_now
from tenants.services import create_tenant

TENANT_CODE = "68224"  # Mulhouse
TENANT_SLUG = "mulhouse"

PROPOSALS = 1_000
SUPPORTS = 20_000
COMMENTS = 5_000
CITIZENS = 600
TARGET_MS = 30.0
SEED = 20261122  # the same data every run

THEMES = ["Mobilités", "Environnement", "Cadre de vie", "Culture", "Solidarités", "Jeunesse"]
PLACES = ["Centre-ville", "Dornach", "Bourtzwiller", "Coteaux", "Rebberg", "Fonderie"]
WORDS = [
    *("vélo", "piste", "cyclable", "banc", "arbre", "fontaine", "jardin", "parc", "école"),
    *("place", "marché", "bus", "tram", "trottoir", "éclairage", "composteur", "fresque"),
    *("concert", "bibliothèque", "terrain", "jeux", "ombre", "eau", "quartier", "berge"),
    *("rivière", "sécurité", "passage", "piéton", "stationnement", "commerce"),
]


# -- small helpers -----------------------------------------------------------------------
@dataclass
class Stats:
    """Latencies in milliseconds."""

    samples: list[float]

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return self.pct(95)


def build_app(database_url: str, redis_url: str) -> Flask:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
            "RQ_ASYNC": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    # Every package the pages use (each init_app is idempotent: a no-op once
    # participation/__init__.py registers them itself).
    from participation import accounts, debates, engagement, processes, proposals, staff

    for package in (accounts, staff, processes, engagement, debates, proposals):
        package.init_app(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


# -- seeding -----------------------------------------------------------------------------
def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


@dataclass
class Seeded:
    tenant_id: int
    tenant_host: str
    process_id: int
    viewer_id: int
    viewer_version: int
    busiest_id: int  # the most supported proposal
    chattiest_id: int  # the most commented proposal
    typical_id: int
    seconds: float


def seed(app: Flask) -> Seeded:
    heading(
        f"Seeding one tenant: {PROPOSALS:,} proposals, {SUPPORTS:,} supports, "
        f"{COMMENTS:,} comments, {CITIZENS} citizens"
    )
    from participation.accounts.legal import insert_default_legal_documents
    from participation.accounts.models import Neighbourhood, User
    from participation.accounts.services import accept_current_legal_documents
    from participation.engagement.comments import Comment
    from participation.engagement.models import Follow
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState, Theme
    from participation.proposals.models import Proposal, ProposalEvent, Support

    rng = random.Random(SEED)
    started = time.perf_counter()
    with app.app_context():
        tenant = create_tenant(TENANT_CODE, PLATFORM_DOMAIN, slug=TENANT_SLUG)
        db.session.commit()
        tenant_id = tenant.id
        if provision_now(db.engine, tenant_id) != "active":
            raise RuntimeError("provisioning failed")
        invalidate_host_cache()
        db.session.rollback()  # entering a tenant needs no open transaction
        with tenant_context(tenant_id) as ref:
            insert_default_legal_documents(db.session.connection(), ref.name)
            themes = [Theme(name=name, position=i) for i, name in enumerate(THEMES)]
            places = [Neighbourhood(name=name, position=i) for i, name in enumerate(PLACES)]
            db.session.add_all(themes + places)
            today = datetime.now(UTC).date()
            process = Process(
                title="Budget participatif 2027",
                summary="Vos idées pour la ville.",
                state=ProcessState.DRAFT,
                support_threshold=None,
            )
            process.phases.append(
                Phase(
                    position=1,
                    kind=PhaseKind.CONTRIBUTIONS,
                    title="Propositions et soutiens",
                    starts_on=today - timedelta(days=30),
                    ends_on=today + timedelta(days=60),
                    allows_propose=True,
                    allows_support=True,
                    allows_comment=True,
                )
            )
            db.session.add(process)
            db.session.flush()
            process.publish()
            now = datetime.now(UTC)
            user_ids = db.session.scalars(
                sa.insert(User).returning(User.id),
                [
                    {
                        "email": f"habitant{i}@exemple.fr",
                        "display_name": f"Habitant·e {i}",
                        "email_confirmed_at": now,
                        "session_version": 1,
                        "is_active_account": True,
                        "totp_enabled": False,
                        "recovery_codes": [],
                        "notification_frequency": "daily",
                        "notify_answers": True,
                        "notify_comments": True,
                        "notify_processes": True,
                    }
                    for i in range(CITIZENS)
                ],
            ).all()
            viewer = db.session.get(User, user_ids[0])
            accept_current_legal_documents(viewer)
            statuses = ["received"] * 6 + ["studying"] * 2 + ["accepted", "done"]
            rows = []
            for i in range(PROPOSALS):
                status = rng.choice(statuses + ["rejected"])
                created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
                rows.append(
                    {
                        "process_id": process.id,
                        "author_id": rng.choice(user_ids),
                        "title": f"Proposition {i} : {_sentence(rng, 5)}",
                        "body": f"**{_sentence(rng, 8)}**\n\n{_sentence(rng, 60)}",
                        "theme_id": rng.choice(themes).id if rng.random() < 0.8 else None,
                        "neighbourhood_id": rng.choice(places).id if rng.random() < 0.6 else None,
                        "status": status,
                        "status_reason": _sentence(rng, 12) if status == "rejected" else None,
                        "answer": _sentence(rng, 30) if status in ("accepted", "done") else None,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
            proposal_ids = db.session.scalars(
                sa.insert(Proposal).returning(Proposal.id), rows
            ).all()
            author_of = dict(zip(proposal_ids, (r["author_id"] for r in rows), strict=True))
            db.session.execute(
                sa.insert(ProposalEvent),
                [
                    {
                        "proposal_id": pid,
                        "kind": "created",
                        "to_status": "received",
                        "actor_id": author_of[pid],
                        "is_public": True,
                    }
                    for pid in proposal_ids
                ]
                + [
                    {
                        "proposal_id": pid,
                        "kind": "status",
                        "from_status": "received",
                        "to_status": r["status"],
                        "body": r["status_reason"],
                        "is_public": True,
                    }
                    for pid, r in zip(proposal_ids, rows, strict=True)
                    if r["status"] != "received"
                ],
            )
            db.session.execute(
                sa.insert(Follow),
                [
                    {"user_id": uid, "target_type": "proposal", "target_id": pid}
                    for pid, uid in author_of.items()
                ],
            )
            # Supports: a popularity skew (a few proposals gather hundreds), every pair once.
            weights = [1 / (rank + 1) ** 0.8 for rank in range(len(proposal_ids))]
            pairs: set[tuple[int, int]] = set()
            while len(pairs) < SUPPORTS:
                pid = rng.choices(proposal_ids, weights)[0]
                pairs.add((pid, rng.choice(user_ids)))
            # Supports arrive one by one, each in its own transaction, as on a live site:
            # shuffled, autocommitted on a connection of their own (the trigger updates the
            # count row by row). Inserted in a few big transactions instead, no old row
            # version could be pruned before the transaction ends and the proposals' pages
            # would fill up as no live server sees them. synchronous_commit is off for
            # that connection only (a scratch database): it changes no row, only the wait.
            ordered = sorted(pairs)
            rng.shuffle(ordered)
            db.session.commit()
            insert_support = (
                f'INSERT INTO "{ref.schema}".supports (proposal_id, user_id) VALUES (%s, %s)'
            )
            with db.engine.connect() as raw:
                raw = raw.execution_options(isolation_level="AUTOCOMMIT")
                raw.exec_driver_sql("SET synchronous_commit = off")
                for pair in ordered:
                    raw.exec_driver_sql(insert_support, pair)
                raw.exec_driver_sql("RESET synchronous_commit")
            # Comments: four fifths on the proposals, one fifth replies to those.
            top_level = COMMENTS * 4 // 5
            comment_rows = [
                {
                    "proposal_id": rng.choices(proposal_ids, weights)[0],
                    "author_id": rng.choice(user_ids),
                    "body": _sentence(rng, 25),
                    "depth": 0,
                }
                for _ in range(top_level)
            ]
            comment_ids = db.session.scalars(
                sa.insert(Comment).returning(Comment.id), comment_rows
            ).all()
            replies = []
            for _ in range(COMMENTS - top_level):
                index = rng.randrange(top_level)
                replies.append(
                    {
                        "proposal_id": comment_rows[index]["proposal_id"],
                        "parent_id": comment_ids[index],
                        "author_id": rng.choice(user_ids),
                        "body": _sentence(rng, 15),
                        "depth": 1,
                    }
                )
            db.session.execute(sa.insert(Comment), replies)
            db.session.commit()

            counts = {
                "proposals": db.session.scalar(sa.select(sa.func.count(Proposal.id))),
                "supports": db.session.scalar(sa.select(sa.func.count()).select_from(Support)),
                "comments": db.session.scalar(sa.select(sa.func.count(Comment.id))),
                "sum of supports_count": db.session.scalar(
                    sa.select(sa.func.sum(Proposal.supports_count))
                ),
            }
            busiest = db.session.scalar(
                sa.select(Proposal.id).order_by(Proposal.supports_count.desc()).limit(1)
            )
            chattiest = db.session.scalar(
                sa.select(Comment.proposal_id)
                .group_by(Comment.proposal_id)
                .order_by(sa.func.count().desc())
                .limit(1)
            )
            typical = proposal_ids[len(proposal_ids) // 2]
            result = Seeded(
                tenant_id=ref.id,
                tenant_host=f"{TENANT_SLUG}.{PLATFORM_DOMAIN}",
                process_id=process.id,
                viewer_id=viewer.id,
                viewer_version=viewer.session_version,
                busiest_id=busiest,
                chattiest_id=chattiest,
                typical_id=typical,
                seconds=time.perf_counter() - started,
            )
            per = db.session.execute(
                sa.select(sa.func.max(Proposal.supports_count)).select_from(Proposal)
            ).scalar()
            comments_on_chattiest = db.session.scalar(
                sa.select(sa.func.count()).where(Comment.proposal_id == chattiest)
            )
            tenant_ref_id = ref.id
    # 20,000 trigger updates left as many dead row versions: what autovacuum would clean
    # up on a live server. Measure the steady state, not the seeding's leftovers.
    with app.app_context(), db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f'VACUUM ANALYZE "t_{tenant_ref_id}".proposals, "t_{tenant_ref_id}".supports, '
            f'"t_{tenant_ref_id}".comments, "t_{tenant_ref_id}".proposal_events, '
            f'"t_{tenant_ref_id}".users, "t_{tenant_ref_id}".follows'
        )
        # The support trigger's row updates: HOT ones leave the indexes (the search
        # vector's GIN included) alone; t0009 gives the proposals pages room for them.
        hot = conn.execute(
            sa.text(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                "WHERE schemaname = :schema AND relname = 'proposals'"
            ),
            {"schema": f"t_{tenant_ref_id}"},
        ).first()
    for key, value in counts.items():
        print(f"  {key:<24} {value:,}")
    if hot is not None and hot[0]:
        print(
            f"  proposals row updates    {hot[0]:,}, HOT {hot[1]:,} ({100 * hot[1] / hot[0]:.0f} %)"
        )
    if counts["sum of supports_count"] != counts["supports"]:
        raise RuntimeError("the trigger's counts do not match the supports rows")
    print(f"  most supported proposal: {per} supports; most commented: {comments_on_chattiest}")
    print(f"  seeded in {result.seconds:.1f} s (tenant t_{tenant_ref_id})")
    return result


# -- measuring ---------------------------------------------------------------------------
@dataclass
class PageResult:
    wall: Stats  # server time seen by the client (ms)
    cpu: Stats  # CPU time of this process during the request (ms): Python's share
    queries: int
    size: int
    informational: bool = False


#: A page of another package, measured for scale only: what any tenant page costs here.
REFERENCE_PAGE = ("reference: account page /compte", "/compte")


def measure(app: Flask, seeded: Seeded, requests: int) -> dict[str, PageResult]:
    heading(f"Flask test client, {requests} requests per page, interleaved, logged-in citizen")
    client = app.test_client()
    base_url = f"http://{seeded.tenant_host}/"
    from core.security.auth import SESSION_RECORD_KEY, issue_session_token
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(seeded.tenant_id):
        token = issue_session_token("tenant", seeded.viewer_id)
    with client.session_transaction(base_url=base_url) as sess:
        sess[SESSION_RECORD_KEY] = token
        sess["_user_id"] = f"t{seeded.tenant_id}:{seeded.viewer_id}:{seeded.viewer_version}"
        sess["_fresh"] = True
    process = seeded.process_id
    lists = f"/demarches/{process}/propositions"
    pages = {
        "list, page 1 (recent, 20 cards)": lists,
        "list, 50 most supported": f"{lists}?sort=supports&per_page=50",
        "list, search « vélo »": f"{lists}?q=v%C3%A9lo",
        "list, random, page 10": f"{lists}?sort=random&seed=bench42&page=10",
        "proposal, typical": f"/propositions/{seeded.typical_id}",
        "proposal, most supported": f"/propositions/{seeded.busiest_id}",
        "proposal, most commented": f"/propositions/{seeded.chattiest_id}",
    }
    statements: list[int] = [0]

    def count(*_args) -> None:
        statements[0] += 1

    with app.app_context():
        engine = db.engine

    def get(path: str) -> tuple[float, float, int, int, int]:
        statements[0] = 0
        event.listen(engine, "before_cursor_execute", count)
        try:
            start, cpu = time.perf_counter(), time.process_time()
            response = client.get(path, base_url=base_url)
            elapsed = (time.perf_counter() - start) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return elapsed, cpu_ms, statements[0], len(response.data), response.status_code

    for name, path in pages.items():
        if (status := get(path)[4]) != 200:
            raise RuntimeError(f"{name} {path}: HTTP {status}")
    informational = set()
    name, path = REFERENCE_PAGE
    logging.disable(logging.ERROR)
    try:
        status = get(path)[4]
    finally:
        logging.disable(logging.NOTSET)
    if status == 200:
        pages[name] = path
        informational.add(name)
    else:
        print(f"  skipped {name}: HTTP {status}")

    warmup = min(50, requests)
    for _ in range(warmup):
        for path in pages.values():
            get(path)
    wall: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    queries: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for _ in range(requests):
        for name, path in pages.items():
            elapsed, cpu_ms, n, size, _status = get(path)
            wall[name].append(elapsed)
            cpu[name].append(cpu_ms)
            queries[name] = n
            sizes[name] = size
    return {
        name: PageResult(
            Stats(wall[name]), Stats(cpu[name]), queries[name], sizes[name], name in informational
        )
        for name in pages
    }


def print_summary(info: dict[str, str], results: dict[str, PageResult]) -> bool:
    heading("Summary")
    for key, value in info.items():
        print(f"  {key:<11} {value}")
    print()
    print(
        f"  {'page':<36} {'median':>9} {'p95':>9} {'cpu p50':>9} {'queries':>8} {'kB':>6}"
        "  target    result"
    )
    print(f"  {'-' * 36} {'-' * 9} {'-' * 9} {'-' * 9} {'-' * 8} {'-' * 6}  --------  ------")
    ok = True
    for name, r in results.items():
        if r.informational:
            verdict, target = "(info)", ""
        else:
            verdict = "PASS" if r.wall.p50 <= TARGET_MS else "FAIL"
            target = f"<= {TARGET_MS:.0f} ms"
            ok &= verdict == "PASS"
        print(
            f"  {name:<36} {r.wall.p50:7.2f}ms {r.wall.p95:7.2f}ms {r.cpu.p50:7.2f}ms"
            f" {r.queries:>8} {r.size / 1024:6.1f}  {target:<8}  {verdict}"
        )
    print(f"  load avg at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark of Pnyx's proposal pages.")
    parser.add_argument("--requests", type=int, default=300, help="requests per page (300)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with scratch_app(build_app, args.keep) as (app, _database_url):
        info = machine_info(app)
        seeded = seed(app)
        results = measure(app, seeded, args.requests)
        ok = print_summary(info, results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
