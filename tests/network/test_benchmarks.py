"""Benchmarks: figures exact on seeded data (computed by hand below), peers and strata,
the pages and the refresh job."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from core.db import db
from network.benchmarks.metrics import (
    NATIONAL_ADULT_AGE_SHARES,
    population_stratum,
    representativeness_index,
)
from tests.support import logged_platform, platform_client
from tests.support.benchmarks import TODAY, insert_snapshot, seed_participation, share
from tests.support.network import make_network

NOV = date(2026, 11, 1)
OCT = date(2026, 10, 1)


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("population", "stratum"),
    [
        (0, "lt3500"),
        (3_499, "lt3500"),
        (3_500, "3500-20000"),
        (20_000, "3500-20000"),
        (20_001, "20000-100000"),
        (100_000, "20000-100000"),
        (100_001, "gt100000"),
        (2_100_000, "gt100000"),
    ],
)
def test_population_strata_boundaries(population, stratum):
    assert population_stratum(population) == stratum


def test_reference_age_shares_add_up_to_100():
    assert sum(NATIONAL_ADULT_AGE_SHARES.values()) == pytest.approx(100.0)


def test_representativeness_index_by_hand():
    # Same structure as the reference: 100. Only 18-24: 100 - (89.6 + 89.6) / 2 = 10.4.
    same = {k: int(v * 10) for k, v in NATIONAL_ADULT_AGE_SHARES.items()}
    assert representativeness_index(same) == pytest.approx(100.0)
    assert representativeness_index({"18-24": 7}) == pytest.approx(10.4)
    assert representativeness_index({"0-17": 12}) is None  # minors are left out


# --------------------------------------------------------------------------- the job


def _snapshots(app, tenant_id) -> dict[tuple[str, date, str], tuple[float | None, int]]:
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT metric, period, span, value, base_count FROM "
                "public.tenant_metric_snapshots WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        )
        return {
            (r.metric, r.period, r.span): (
                None if r.value is None else float(r.value),
                r.base_count,
            )
            for r in rows
        }


def _refresh(app, tenant, today=TODAY) -> int:
    from network.benchmarks.compute import refresh_tenant
    from tenants.context import load_tenant_ref, tenant_context

    with app.app_context():
        ref = load_tenant_ref(tenant.id)
        with tenant_context(ref):
            count = refresh_tenant(ref, today)
            db.session.commit()
    return count


@pytest.fixture(scope="module")
def seeded(app, make_tenant):
    tenant = make_tenant()
    seed_participation(app, tenant)
    _refresh(app, tenant)
    return tenant


def test_figures_are_exact_on_seeded_data(app, seeded):
    snap = _snapshots(app, seeded.id)
    year = lambda metric: snap[(metric, NOV, "year")]  # noqa: E731
    month = lambda metric, m: snap[(metric, m, "month")]  # noqa: E731

    # Participants: Oct u1, u2 (proposals); Nov u3, u4, u5 (proposals), u6 (support and a
    # withdrawn proposal), u7 (support), u1 (support, proposal), u2 (comment, proposal).
    # The admin's comment and proposal-free staff never count.
    assert month("participants", OCT) == (2, 2)
    assert month("participants", NOV) == (7, 7)
    assert year("participants") == (7, 7)
    # Contributions: Oct p1, p2; Nov p3, p4, p5, p7 (withdrawn still counts), p8, p9 and
    # u2's comment (the staff comment and the hidden one do not). Base: the contributors.
    assert month("contributions", OCT) == (2, 2)
    assert month("contributions", NOV) == (7, 6)
    assert year("contributions") == (9, 6)
    # Per 1,000 inhabitants (population 2,000): 7 / 2000 × 1000 = 3.5; Oct 2 → 1.0.
    assert year("participants_per_1000") == (3.5, 7)
    assert month("participants_per_1000", OCT) == (1.0, 2)
    # Proposals filed in the window, neither withdrawn nor hidden: p1 p2 p3 p4 p5 p8 p9.
    # Answered: all but p4 → 6 / 7; retained (accepted or done): p1 p3 p5 p8 p9 → 5 / 7;
    # realised among retained: p3 p8 → 2 / 5.
    assert year("answered_share") == (pytest.approx(100 * 6 / 7, abs=1e-4), 7)
    assert year("retained_share") == (pytest.approx(100 * 5 / 7, abs=1e-4), 7)
    assert year("realised_share") == (40.0, 5)
    assert month("answered_share", OCT) == (100.0, 2)
    assert month("realised_share", NOV) == (50.0, 4)  # p3 p8 among p3 p5 p8 p9
    # Days to answer: p1 10, p2 20, p3 2, p5 6, p8 10, p9 3 → median of 2 3 6 10 10 20 = 8.
    # By month of the answer: Nov holds p2 p3 p5 p8 p9 → 2 3 6 10 20 → 6; Oct p1 → 10.
    assert year("median_days_to_answer") == (8.0, 6)
    assert month("median_days_to_answer", NOV) == (6.0, 5)
    assert month("median_days_to_answer", OCT) == (10.0, 1)
    # Ages of the consenting participants: 18-24, 25-39 ×2, 40-54, 65-79, 80+ (u7 did not
    # consent, the admin is staff): shares 1/6, 2/6, 1/6, 0, 1/6, 1/6 against the reference.
    shares = {"18-24": 100 / 6, "25-39": 200 / 6, "40-54": 100 / 6, "55-64": 0.0}
    shares.update({"65-79": 100 / 6, "80+": 100 / 6})
    gap = sum(abs(shares[k] - NATIONAL_ADULT_AGE_SHARES[k]) for k in shares)
    assert year("representativeness") == (pytest.approx(100 - gap / 2, abs=1e-4), 6)
    # A month without activity: zero, and shares that cannot be computed.
    assert month("participants", date(2026, 5, 1)) == (0, 0)
    assert month("answered_share", date(2026, 5, 1)) == (None, 0)
    # Twelve months and the year for each metric that applies.
    assert len([k for k in snap if k[0] == "participants"]) == 13


def test_optional_tables_give_no_data_not_an_error(app, seeded):
    snap = _snapshots(app, seeded.id)
    with app.app_context():
        present = db.session.scalar(
            sa.text("SELECT to_regclass(:t) IS NOT NULL"),
            {"t": f"{seeded.schema}.survey_responses"},
        )
    assert any(k[0] == "survey_responses" for k in snap) == bool(present)


def test_refresh_replaces_the_window_and_keeps_older_history(app, seeded):
    insert_snapshot(app, seeded.id, "participants", 42, 42, period=date(2025, 1, 1), span="month")
    first = _snapshots(app, seeded.id)
    _refresh(app, seeded)
    again = _snapshots(app, seeded.id)
    assert again == first
    assert again[("participants", date(2025, 1, 1), "month")] == (42, 42)


def test_the_job_and_the_cli_refresh_a_tenant(app, make_tenant):
    from network.benchmarks.tasks import refresh_tenant_metrics

    tenant = make_tenant()
    with app.app_context():
        assert refresh_tenant_metrics(tenant.id) >= 13 * 8
    assert _snapshots(app, tenant.id)
    result = app.test_cli_runner().invoke(
        args=["network", "refresh-metrics", "--tenant", str(tenant.id)]
    )
    assert result.exit_code == 0, result.output
    assert f"tenant {tenant.id}:" in result.output


# --------------------------------------------------------------------------- peers


def _bare_tenant(app, make_tenant, population: int, kind: str = "commune"):
    tenant = make_tenant(provision=False)
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE public.tenants SET population = :p, kind = :k WHERE id = :id"),
            {"p": population, "k": kind, "id": tenant.id},
        )
        db.session.commit()
    return tenant


def test_peer_median_takes_same_kind_and_stratum_only(app, make_tenant):
    from network.benchmarks import queries
    from network.core.access import get_network

    me = _bare_tenant(app, make_tenant, 20_000)
    same_a = _bare_tenant(app, make_tenant, 3_500)  # same stratum (lower bound)
    same_b = _bare_tenant(app, make_tenant, 12_000)
    same_c = _bare_tenant(app, make_tenant, 19_999)
    above = _bare_tenant(app, make_tenant, 20_001)  # next stratum
    below = _bare_tenant(app, make_tenant, 3_499)  # previous stratum
    epci = _bare_tenant(app, make_tenant, 15_000, kind="epci")  # same stratum, other kind
    small = _bare_tenant(app, make_tenant, 10_000)  # same peers, but fewer than 5 people
    tenants = (me, same_a, same_b, same_c, above, below, epci, small)
    values = (50, 10, 30, 20, 1000, 2000, 3000, 4000)
    bases = (40, 40, 40, 40, 40, 40, 40, 4)
    net = make_network(app, members=tenants)
    for tenant, value, base in zip(tenants, values, bases, strict=True):
        insert_snapshot(app, tenant.id, "participants", value, base)
        share(app, net["id"], tenant.id, ["participants"])
    with app.app_context():
        network = get_network(net["slug"])
        figures = queries.shared_figures(network, span="year")
        by_tenant = queries.latest_year_figures(figures)["participants"]
        mine = by_tenant[me.id]
        median, count = queries.peer_median(mine, list(by_tenant.values()))
    assert (median, count) == (20, 3)  # 10, 20, 30
    assert by_tenant[small.id].suppressed and by_tenant[small.id].value is None


# --------------------------------------------------------------------------- pages


@pytest.fixture(scope="module")
def shared_network(app, seeded):
    net = make_network(app, members=(seeded,), public_sections=("members",))
    from network.benchmarks.metrics import METRIC_KEYS

    share(app, net["id"], seeded.id, METRIC_KEYS)
    return net


def test_definitions_page_lists_every_metric(app):
    from network.benchmarks.metrics import METRICS

    page = platform_client(app).get("/reseaux/indicateurs/definitions")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for metric in METRICS:
        assert f'id="def-{metric.key}"' in html
    assert "Licence Ouverte" in html
    assert "INSEE" in html  # the national reference is said


def test_index_and_territory_pages_show_the_figures(app, seeded, shared_network):
    client, _uid = logged_platform(app, "member", tenant_id=seeded.id)
    page = client.get(f"/reseaux/{shared_network['slug']}/indicateurs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html and "<caption" in html
    assert "3,50" in html  # participants per 1,000 inhabitants, twelve months
    territory = client.get(f"/reseaux/{shared_network['slug']}/indicateurs/territoires/{seeded.id}")
    assert territory.status_code == 200
    text = territory.get_data(as_text=True)
    assert "&lt; 5" in text  # October's two participants
    assert "par mois" in text and "<circle" in text  # the line chart, points drawn
    assert (
        client.get(f"/reseaux/{shared_network['slug']}/indicateurs/territoires/999999").status_code
        == 404
    )


def test_open_data_files_carry_the_licence_and_definitions(app, seeded, shared_network):
    import csv
    import io

    client, _uid = logged_platform(app, "member", tenant_id=seeded.id)
    data = client.get(f"/reseaux/{shared_network['slug']}/indicateurs.json").get_json()
    assert "Licence Ouverte" in data["licence"]
    assert {d["indicateur"] for d in data["definitions"]} == {
        r["indicateur"] for r in data["donnees"]
    }
    assert "participants" in {d["indicateur"] for d in data["definitions"]}
    row = next(
        r
        for r in data["donnees"]
        if r["indicateur"] == "participants_per_1000" and r["duree"] == "12 mois"
    )
    assert (row["valeur"], row["effectif"], row["masque_petit_effectif"]) == (3.5, 7, False)
    raw = client.get(f"/reseaux/{shared_network['slug']}/indicateurs.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    assert rows and all("Licence Ouverte" in r["licence"] for r in rows)
    assert all(r["definition"] for r in rows)


def test_surveys_and_budget_votes_are_counted(app, make_tenant):
    """Five identified survey responses and one anonymous; six budget voters (five with an
    account, one on paper) for an eligible population of 400 → turnout 1.5 %."""
    from datetime import UTC, datetime

    from tenants.context import tenant_context

    tenant = make_tenant()
    nov = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    with app.app_context(), tenant_context(tenant.id):
        if not db.session.scalar(sa.text("SELECT to_regclass('budget_voters') IS NOT NULL")):
            pytest.skip("the budgets tables are not in this tenant schema yet")
        users = [
            db.session.scalar(
                sa.text("INSERT INTO users (email, display_name) VALUES (:e, 'V') RETURNING id"),
                {"e": f"v{i}@exemple.fr"},
            )
            for i in range(5)
        ]
        survey = db.session.scalar(
            sa.text(
                "INSERT INTO surveys (title, opens_on, closes_on, state) "
                "VALUES ('Mobilités', '2026-11-01', '2026-11-30', 'published') RETURNING id"
            )
        )
        for user_id in (*users, None):
            db.session.execute(
                sa.text(
                    "INSERT INTO survey_responses (survey_id, user_id, submitted_at) "
                    "VALUES (:s, :u, :at)"
                ),
                {"s": survey, "u": user_id, "at": nov},
            )
        budget = db.session.scalar(
            sa.text(
                "INSERT INTO budgets (title, description, envelope, split_by_neighbourhood, "
                "rule, vote_per_neighbourhood, require_residency, require_census, "
                "eligible_population, submission_starts_on, submission_ends_on, vote_starts_on, "
                "vote_ends_on, implementation_starts_on) VALUES ('BP', '', 10000, false, "
                "'knapsack', false, false, false, 400, '2026-09-01', '2026-09-30', "
                "'2026-11-01', '2026-11-20', '2026-12-01') RETURNING id"
            )
        )
        for user_id in (*users, None):
            db.session.execute(
                sa.text(
                    "INSERT INTO budget_voters (budget_id, user_id, channel, voter_label, "
                    "voted_at) VALUES (:b, :u, :c, :l, :at)"
                ),
                {
                    "b": budget,
                    "u": user_id,
                    "c": "web" if user_id else "paper",
                    "l": None if user_id else "Électeur papier",
                    "at": nov,
                },
            )
        db.session.commit()
    _refresh(app, tenant)
    snap = _snapshots(app, tenant.id)
    assert snap[("survey_responses", NOV, "year")] == (6, 6)
    assert snap[("budget_turnout", NOV, "year")] == (1.5, 6)
    assert snap[("participants", NOV, "month")] == (5, 5)  # the five identified people
    assert snap[("contributions", NOV, "year")] == (6, 5)  # survey responses only


def test_the_migration_matches_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from network.benchmarks.models import NetworkMetricShare, TenantMetricSnapshot
    from network.commitments.models import Commitment, CommitmentComment
    from network.core.models import Network
    from network.diagnostic.models import DiagnosticDimension, DiagnosticResponse
    from tenants.models import Tenant
    from tenants.platform.models import PlatformUser

    mine = (
        TenantMetricSnapshot,
        NetworkMetricShare,
        Commitment,
        CommitmentComment,
        DiagnosticDimension,
        DiagnosticResponse,
    )
    convention = {**db.metadata.naming_convention, "ix": "ix_public_%(column_0_label)s"}
    metadata = sa.MetaData(naming_convention=convention)
    for model in (Tenant, PlatformUser, Network, *mine):
        model.__table__.to_metadata(
            metadata, schema=None, referred_schema_fn=lambda *args: sa.schema.BLANK_SCHEMA
        )
    names = {model.__tablename__ for model in mine}

    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in names

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, metadata)
    assert diff == [], "\n".join(map(repr, diff))


def test_the_nightly_fan_out_is_scheduled_and_enqueues_one_job_per_tenant(app, make_tenant):
    from rq import cron

    import network.benchmarks.cron  # noqa: F401 - registers the schedule
    from network.benchmarks.tasks import enqueue_refresh, refresh_all_metrics

    entry = next(e for e in cron._job_data_registry if e["func"] is refresh_all_metrics)
    assert (entry["cron"], entry["queue_name"]) == ("30 2 * * *", "low")
    tenant = make_tenant()
    with app.app_context():  # RQ_ASYNC is off in the tests: the jobs run at once
        assert tenant.id in enqueue_refresh([tenant.id])
    assert _snapshots(app, tenant.id)


def test_demo_seed_of_the_three_sections_is_idempotent(app):
    from network.benchmarks.demo import seed_benchmarks
    from network.commitments.demo import seed_commitments
    from network.core.demo import NETWORK_SLUG, seed_network
    from network.diagnostic.demo import seed_diagnostic
    from tenants.demo import seed_tenants
    from tenants.platform.demo import seed_platform_accounts

    def counts():
        return db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM public.network_metric_shares s"
                "        WHERE s.network_id = n.id) AS shares,"
                " (SELECT count(*) FROM public.network_commitments c"
                "        WHERE c.network_id = n.id) AS commitments,"
                " (SELECT count(*) FROM public.network_commitment_comments cc"
                "        JOIN public.network_commitments c ON c.id = cc.commitment_id"
                "        WHERE c.network_id = n.id) AS comments,"
                " (SELECT count(*) FROM public.network_diagnostic_dimensions d"
                "        WHERE d.network_id = n.id) AS dimensions,"
                " (SELECT count(*) FROM public.network_diagnostic_responses r"
                "        WHERE r.network_id = n.id) AS responses"
                " FROM public.networks n WHERE n.slug = :slug"
            ),
            {"slug": NETWORK_SLUG},
        ).one()

    with app.app_context():
        list(seed_tenants())
        list(seed_platform_accounts())
        list(seed_network())
        for _ in range(2):
            lines = [*seed_benchmarks(), *seed_commitments(), *seed_diagnostic()]
            assert any("indicateurs : mulhouse" in line for line in lines)
            assert tuple(counts()) == (9 + 10 + 4, 5, 4, 6, 6)
        mulhouse_shares = set(
            db.session.scalars(
                sa.text(
                    "SELECT s.metric FROM public.network_metric_shares s "
                    "JOIN public.tenants t ON t.id = s.tenant_id WHERE t.slug = 'mulhouse'"
                )
            )
        )
        assert "representativeness" not in mulhouse_shares and len(mulhouse_shares) == 9
        assert db.session.scalar(
            sa.text(
                "SELECT count(*) FROM public.tenant_metric_snapshots s "
                "JOIN public.tenants t ON t.id = s.tenant_id WHERE t.slug = 'saillans'"
            )
        )
