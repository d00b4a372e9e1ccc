"""Survey benchmark: server time of a consultation's results pages with 10,000 responses.

Run from the repository root:

    .venv/bin/python bench/surveys.py [--responses 10000] [--requests 200] [--keep]

It creates a scratch database ``pnyx_bench_<random>`` on DATABASE_URL's server (dropped at
the end unless --keep), provisions one tenant, creates a published consultation of nine
questions (single choice, multiple choice, scale, ranking, number, date, short and long
text, one of them conditional) and bulk-inserts N responses with their answer rows, then
requests, interleaved and after a warm-up, the public results page (a citizen) and the
staff results page (an administrator, with the latest free-text answers), and prints the
median and p95 server time and the number of SQL statements against the 100 ms target.
The results are aggregated in SQL (a handful of GROUP BY queries), never by looping over
the responses in Python; the script checks the counts shown against a direct count.
"""

# ruff: noqa: E402

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event

from bench.common import PLATFORM_DOMAIN, heading, machine_info, scratch_app
from bench.participation import Stats
from core.app import create_app
from core.db import db
from tenants import invalidate_host_cache
from tenants.context import tenant_context
from tenants.provisioning import provision_now
from tenants.services import create_tenant

TENANT_CODE = "68224"
TENANT_SLUG = "mulhouse"
TARGET_MS = 100.0
SEED = 20261122
BATCH = 2_000


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
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if "surveys.results" not in app.view_functions:
        raise RuntimeError("participation.surveys is not registered by the app")
    return app


def seed(app: Flask, responses: int) -> dict:
    heading(f"Seeding one tenant: a consultation of 9 questions, {responses:,} responses")
    from participation.accounts.legal import insert_default_legal_documents
    from participation.accounts.models import StaffRole, User
    from participation.surveys.models import (
        QuestionKind,
        Survey,
        SurveyAnswer,
        SurveyOption,
        SurveyQuestion,
        SurveyResponse,
        SurveyState,
    )

    rng = random.Random(SEED)
    started = time.perf_counter()
    with app.app_context():
        tenant = create_tenant(TENANT_CODE, PLATFORM_DOMAIN, slug=TENANT_SLUG)
        db.session.commit()
        tenant_id = tenant.id
        if provision_now(db.engine, tenant_id) != "active":
            raise RuntimeError("provisioning failed")
        invalidate_host_cache()
        db.session.rollback()
        with tenant_context(tenant_id) as ref:
            insert_default_legal_documents(db.session.connection(), ref.name)
            now = datetime.now(UTC)
            citizen = User(email="lecteur@exemple.fr", display_name="Lecteur", session_version=1)
            admin = User(
                email="admin@exemple.fr",
                display_name="Admin",
                session_version=1,
                staff_role=StaffRole.ADMIN,
                totp_secret="JBSWY3DPEHPK3PXP",
                totp_enabled=True,
            )
            for user in (citizen, admin):
                user.email_confirmed_at = now
            db.session.add_all([citizen, admin])
            db.session.flush()
            from participation.accounts.services import accept_current_legal_documents

            accept_current_legal_documents(citizen)
            accept_current_legal_documents(admin)
            today = date.today()
            survey = Survey(
                title="Mobilités douces : vos habitudes",
                state=SurveyState.PUBLISHED,
                is_anonymous=True,
                opens_on=today - timedelta(days=40),
                closes_on=today - timedelta(days=1),
                results_published_at=now,
            )
            db.session.add(survey)
            specs = [
                (QuestionKind.SINGLE, ["Voiture", "Bus", "Vélo", "Marche", "Autre"]),
                (QuestionKind.MULTIPLE, ["Pistes", "Vol", "Distance", "Relief", "Pas de vélo"]),
                (QuestionKind.SCALE, []),
                (QuestionKind.RANKING, ["Pistes séparées", "Parkings", "Zones 30", "Trottoirs"]),
                (QuestionKind.NUMBER, []),
                (QuestionKind.DATE, []),
                (QuestionKind.SINGLE, ["Oui", "Parfois", "Jamais"]),
                (QuestionKind.SHORT_TEXT, []),  # only for « Jamais »
                (QuestionKind.LONG_TEXT, []),
            ]
            questions = []
            for position, (kind, labels) in enumerate(specs, start=1):
                question = SurveyQuestion(kind=kind, text=f"Question {position}", position=position)
                question.options = [
                    SurveyOption(label=label, position=i) for i, label in enumerate(labels, 1)
                ]
                survey.questions.append(question)
                questions.append(question)
            db.session.flush()
            questions[7].condition_option_id = questions[6].options[2].id
            db.session.flush()
            q = questions
            expected_first = 0
            for start in range(0, responses, BATCH):
                n = min(BATCH, responses - start)
                ids = db.session.scalars(
                    sa.insert(SurveyResponse).returning(SurveyResponse.id),
                    [
                        {
                            "survey_id": survey.id,
                            "user_id": None,
                            "submitted_at": now - timedelta(hours=rng.randint(24, 40 * 24)),
                        }
                        for _ in range(n)
                    ],
                ).all()
                rows = []
                for rid in ids:
                    mode = rng.choices(q[0].options, (34, 22, 24, 16, 4))[0]
                    expected_first += mode is q[0].options[0]
                    rows.append({"response_id": rid, "question_id": q[0].id, "option_id": mode.id})
                    for option in rng.sample(q[1].options, rng.randint(0, 3)):
                        rows.append(
                            {"response_id": rid, "question_id": q[1].id, "option_id": option.id}
                        )
                    rows.append(
                        {
                            "response_id": rid,
                            "question_id": q[2].id,
                            "number_value": Decimal(rng.randint(1, 5)),
                        }
                    )
                    order = list(q[3].options)
                    rng.shuffle(order)
                    for rank, option in enumerate(order, 1):
                        rows.append(
                            {
                                "response_id": rid,
                                "question_id": q[3].id,
                                "option_id": option.id,
                                "rank": rank,
                            }
                        )
                    if rng.random() < 0.7:
                        rows.append(
                            {
                                "response_id": rid,
                                "question_id": q[4].id,
                                "number_value": Decimal(rng.randint(1, 30)),
                            }
                        )
                    if rng.random() < 0.3:
                        rows.append(
                            {
                                "response_id": rid,
                                "question_id": q[5].id,
                                "date_value": today + timedelta(days=rng.randint(1, 60)),
                            }
                        )
                    used = rng.choice(q[6].options)
                    rows.append({"response_id": rid, "question_id": q[6].id, "option_id": used.id})
                    if used.label == "Jamais" and rng.random() < 0.6:
                        rows.append(
                            {"response_id": rid, "question_id": q[7].id, "text_value": "Trop loin"}
                        )
                    if rng.random() < 0.3:
                        rows.append(
                            {
                                "response_id": rid,
                                "question_id": q[8].id,
                                "text_value": f"Remarque libre numéro {rid} sur les pistes.",
                            }
                        )
                db.session.execute(sa.insert(SurveyAnswer), rows)
            db.session.commit()
            answers = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyAnswer))
            seeded = {
                "tenant_id": ref.id,
                "host": f"{TENANT_SLUG}.{PLATFORM_DOMAIN}",
                "survey_id": survey.id,
                "citizen": (citizen.id, citizen.session_version),
                "admin": (admin.id, admin.session_version),
                "expected_first": expected_first,
                "answers": answers,
            }
    with app.app_context(), db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f'VACUUM ANALYZE "t_{seeded["tenant_id"]}".survey_answers, '
            f'"t_{seeded["tenant_id"]}".survey_responses'
        )
    print(f"  responses {responses:,}, answer rows {seeded['answers']:,}")
    print(f"  seeded in {time.perf_counter() - started:.1f} s (tenant t_{seeded['tenant_id']})")
    return seeded


def measure(app: Flask, seeded: dict, responses: int, requests: int) -> dict:
    heading(f"Flask test client, {requests} requests per page, interleaved")
    base_url = f"http://{seeded['host']}/"
    survey_id = seeded["survey_id"]
    clients = {}
    for who in ("citizen", "admin"):
        client = app.test_client()
        user_id, version = seeded[who]
        from core.security.auth import SESSION_RECORD_KEY, issue_session_token
        from tenants.context import tenant_context

        with app.app_context(), tenant_context(seeded["tenant_id"]):
            token = issue_session_token("tenant", user_id)
        with client.session_transaction(base_url=base_url) as sess:
            sess[SESSION_RECORD_KEY] = token
            sess["_user_id"] = f"t{seeded['tenant_id']}:{user_id}:{version}"
            sess["_fresh"] = True
            sess["pnyx_2fa"] = True
        clients[who] = client
    results_path = f"/consultations/{survey_id}/resultats"
    staff_path = f"/gestion/consultations/{survey_id}/resultats"
    # "cold": the aggregates cache is emptied before each request (a new response would do
    # the same): the SQL aggregation is measured; "warm": the aggregates come from Redis.
    pages = {
        "public results, cold (SQL)": ("citizen", results_path, True),
        "public results, warm (cache)": ("citizen", results_path, False),
        "staff results, cold (SQL + texts)": ("admin", staff_path, True),
        "staff results, warm": ("admin", staff_path, False),
        "survey page": ("citizen", f"/consultations/{survey_id}", False),
    }
    from core.jobs import redis_connection

    cache = redis_connection(app)
    prefix = f"pnyx:t{seeded['tenant_id']}:survey:{survey_id}:results:*"

    def empty_cache() -> None:
        keys = list(cache.scan_iter(prefix))
        if keys:
            cache.delete(*keys)

    statements = [0]

    def count(*_args) -> None:
        statements[0] += 1

    with app.app_context():
        engine = db.engine

    def get(who: str, path: str, cold: bool = False):
        if cold:
            empty_cache()
        statements[0] = 0
        event.listen(engine, "before_cursor_execute", count)
        try:
            start, cpu = time.perf_counter(), time.process_time()
            response = clients[who].get(path, base_url=base_url)
            elapsed = (time.perf_counter() - start) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return elapsed, cpu_ms, statements[0], response

    for name, (who, path, _cold) in pages.items():
        response = get(who, path)[3]
        if response.status_code != 200:
            raise RuntimeError(f"{name} {path}: HTTP {response.status_code}")
    body = get("citizen", results_path, True)[3].get_data(as_text=True)
    expected = f"{responses:,}".replace(",", "\u202f")
    if expected not in body and str(responses) not in body:
        raise RuntimeError("the results page does not show the number of responses")
    first = f"{seeded['expected_first']:,}".replace(",", "\u202f")
    if first not in body and str(seeded["expected_first"]) not in body:
        raise RuntimeError("the count of the first choice does not match the rows")
    print(f"  checked: {responses:,} responses and {seeded['expected_first']:,} « Voiture » shown")
    for _ in range(min(20, requests)):
        for who, path, cold in pages.values():
            get(who, path, cold)
    wall = {name: [] for name in pages}
    cpu = {name: [] for name in pages}
    queries, sizes = {}, {}
    for _ in range(requests):
        for name, (who, path, cold) in pages.items():
            elapsed, cpu_ms, n, response = get(who, path, cold)
            wall[name].append(elapsed)
            cpu[name].append(cpu_ms)
            queries[name] = n
            sizes[name] = len(response.data)
    results = {
        name: (Stats(wall[name]), Stats(cpu[name]), queries[name], sizes[name]) for name in pages
    }
    with app.app_context(), db.engine.connect() as conn:
        conn.exec_driver_sql(f'SET search_path TO "t_{seeded["tenant_id"]}"')
        plan = conn.execute(
            sa.text(
                "EXPLAIN (ANALYZE, BUFFERS OFF) SELECT question_id, option_id, count(*), "
                "sum(rank) FROM survey_answers WHERE question_id IN "
                "(SELECT id FROM survey_questions WHERE survey_id = :s) "
                "AND option_id IS NOT NULL GROUP BY question_id, option_id"
            ),
            {"s": survey_id},
        ).all()
    print("  choice counts query plan (EXPLAIN ANALYZE):")
    for (line,) in plan:
        print(f"    {line}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark of Pnyx's survey results pages.")
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    with scratch_app(build_app, args.keep) as (app, _database_url):
        info = machine_info(app)
        seeded = seed(app, args.responses)
        results = measure(app, seeded, args.responses, args.requests)
    heading("Summary")
    for key, value in info.items():
        print(f"  {key:<11} {value}")
    print()
    print(f"  {'page':<36} {'median':>9} {'p95':>9} {'cpu p50':>9} {'queries':>8} {'kB':>6}")
    ok = True
    for name, (wall, cpu, queries, size) in results.items():
        verdict = "PASS" if wall.p50 <= TARGET_MS else "FAIL"
        ok &= verdict == "PASS"
        print(
            f"  {name:<36} {wall.p50:7.2f}ms {wall.p95:7.2f}ms {cpu.p50:7.2f}ms {queries:>8}"
            f" {size / 1024:6.1f}  <= {TARGET_MS:.0f} ms  {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
