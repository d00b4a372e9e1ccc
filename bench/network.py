"""Network benchmark: refreshing the metric snapshots of many tenants.

Run from the repository root:

    .venv/bin/python bench/network.py [--tenants 500] [--keep]

Creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at the
end unless --keep; see bench/tenancy.py), provisions N tenants from the most populated
communes, seeds each with some participation over the last twelve months (one SQL batch per
tenant: 30 citizens, 40 proposals with answers and statuses, 150 supports, 60 comments),
then runs the per-tenant refresh job (network.benchmarks.tasks.refresh_tenant_metrics, the
function the rq worker runs) for every tenant, one after the other, and prints the total
seconds and the per-tenant milliseconds. Target: 500 tenants in ≤ 30 s.
"""

# ruff: noqa: E402

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from bench.common import PLATFORM_DOMAIN, heading, machine_info, scratch_app
from bench.tenancy import Stats, build_app, pick_communes
from core.db import db
from tenants import invalidate_host_cache
from tenants.context import tenant_context
from tenants.provisioning import provision_now
from tenants.services import create_tenant

TARGET_TOTAL_S = 30.0

# One batch per tenant, run with the tenant's search_path. Timestamps spread over the
# last twelve months so every month of the window has figures.
SEED_SQL = """
INSERT INTO users (email, display_name, age_bracket, demographics_consent_at)
SELECT 'citoyen' || i || '@exemple.fr', 'Citoyen ' || i,
       (ARRAY['18-24','25-39','40-54','55-64','65-79','80+'])[1 + mod(i, 6)],
       CASE WHEN mod(i, 3) = 0 THEN NULL ELSE now() END
  FROM generate_series(1, 30) i;
INSERT INTO processes (title, state) VALUES ('Budget des quartiers', 'published');
INSERT INTO proposals (process_id, author_id, title, body, status, status_reason, answer,
                       answered_at, created_at, updated_at)
SELECT (SELECT min(id) FROM processes), 1 + mod(i, 30), 'Proposition ' || i, 'Texte.',
       (ARRAY['received','studying','accepted','rejected','done'])[1 + mod(i, 5)],
       CASE WHEN mod(i, 5) = 3 THEN 'Hors compétence.' END,
       CASE WHEN mod(i, 4) <> 0 THEN 'Réponse.' END,
       CASE WHEN mod(i, 4) <> 0
            THEN now() - (i * 8 || ' days')::interval + (mod(i, 9) || ' days')::interval END,
       now() - (i * 8 || ' days')::interval, now() - (i * 8 || ' days')::interval
  FROM generate_series(1, 40) i;
INSERT INTO supports (proposal_id, user_id, created_at)
SELECT DISTINCT ON (p, u) p, u, now() - (p * 7 || ' days')::interval
  FROM (SELECT 1 + mod(i, 40) AS p, 1 + mod(i * 7, 30) AS u FROM generate_series(1, 150) i) s;
INSERT INTO comments (proposal_id, author_id, body, created_at, updated_at)
SELECT 1 + mod(i, 40), 1 + mod(i * 11, 30), 'Bonne idée.', now() - (i * 5 || ' days')::interval,
       now() - (i * 5 || ' days')::interval
  FROM generate_series(1, 60) i;
"""


def provision(app, n: int) -> list[int]:
    heading(f"Provisioning {n} tenants and seeding their participation")
    ids: list[int] = []
    start = time.perf_counter()
    with app.app_context():
        lock_timeout = app.config["TENANT_MIGRATION_LOCK_TIMEOUT"]
        for i, (code, slug) in enumerate(pick_communes(n), 1):
            tenant_id = create_tenant(code, PLATFORM_DOMAIN, slug=slug).id
            db.session.commit()
            if provision_now(db.engine, tenant_id, lock_timeout) != "active":
                raise RuntimeError(f"provisioning of {slug} failed")
            with tenant_context(tenant_id):
                db.session.connection().exec_driver_sql(SEED_SQL)
                db.session.commit()
            ids.append(tenant_id)
            if i % 100 == 0 or i == n:
                print(f"  {i}/{n} tenants ({time.perf_counter() - start:.0f} s)", flush=True)
        invalidate_host_cache()
    return ids


def refresh_all(app, tenant_ids: list[int]) -> tuple[float, Stats, int]:
    from network.benchmarks.tasks import refresh_tenant_metrics

    heading(f"Refreshing the metric snapshots of {len(tenant_ids)} tenants (one job each)")
    samples: list[float] = []
    rows = 0
    with app.app_context():
        start = time.perf_counter()
        for tenant_id in tenant_ids:
            one = time.perf_counter_ns()
            rows += refresh_tenant_metrics(tenant_id)
            samples.append((time.perf_counter_ns() - one) / 1e6)
        total = time.perf_counter() - start
    return total, Stats(samples), rows


def _refresh_chunk(app, tenant_ids: list[int], queue) -> None:
    """In a forked worker process: what an rq work horse does (fresh pool, then the jobs)."""
    from network.benchmarks.tasks import refresh_tenant_metrics

    with app.app_context():
        db.engine.dispose(close=False)
        samples = []
        for tenant_id in tenant_ids:
            one = time.perf_counter_ns()
            refresh_tenant_metrics(tenant_id)
            samples.append((time.perf_counter_ns() - one) / 1e6)
    queue.put(samples)


def refresh_parallel(app, tenant_ids: list[int], workers: int) -> tuple[float, Stats]:
    """``workers`` processes share the tenants, as that many rq workers would."""
    import multiprocessing

    heading(f"Refreshing {len(tenant_ids)} tenants with {workers} worker processes")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    chunks = [tenant_ids[i::workers] for i in range(workers)]
    start = time.perf_counter()
    processes = [ctx.Process(target=_refresh_chunk, args=(app, c, queue)) for c in chunks]
    for process in processes:
        process.start()
    samples = [s for _ in processes for s in queue.get()]
    for process in processes:
        process.join()
    return time.perf_counter() - start, Stats(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes of the parallel run (0: none)"
    )
    args = parser.parse_args(argv)
    with scratch_app(build_app, args.keep) as (app, _database_url):
        info = machine_info(app)
        ids = provision(app, args.tenants)
        total, stats, rows = refresh_all(app, ids)
        # A second run: what the nightly job does every night (rows replaced).
        total2, stats2, _rows = refresh_all(app, ids)
        parallel = refresh_parallel(app, ids, args.workers) if args.workers > 1 else None
        with app.app_context(), db.engine.connect() as conn:
            stored = conn.scalar(sa.text("SELECT count(*) FROM public.tenant_metric_snapshots"))
    heading("Summary")
    for key, value in info.items():
        print(f"  {key:<14} {value}")
    print(f"  figures written per run: {rows} ({stored} rows in the table)")
    for label, seconds, st in (("first run", total, stats), ("second run", total2, stats2)):
        print(f"  {label}: total {seconds:.2f} s for {len(ids)} tenants")
        print(st.line("per tenant", digits=2))
    if parallel is not None:
        print(f"  {args.workers} worker processes: total {parallel[0]:.2f} s")
        print(parallel[1].line("per tenant", digits=2))
    best = min(total, total2, *([parallel[0]] if parallel else []))
    scaled = best * 500 / max(len(ids), 1)
    ok = scaled <= TARGET_TOTAL_S
    print(
        f"  500 tenants: {scaled:.2f} s ({'measured' if len(ids) == 500 else 'scaled'}) "
        f"— target <= {TARGET_TOTAL_S:.0f} s: {'PASS' if ok else 'FAIL'}"
    )
    print(f"  median per tenant (sequential) {statistics.median(stats2.samples):.2f} ms")
    print(f"  load avg at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
