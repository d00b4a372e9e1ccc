"""Consent and small counts, proven on every output of a network: a metric a tenant does not
share never appears in any page, chart or export; a figure based on fewer than five people
reads « < 5 » and exports as null with a flag. And the admin's consent page."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from core.db import db
from network.benchmarks.metrics import METRIC_KEYS, METRICS_BY_KEY, NATIONAL_ADULT_AGE_SHARES
from tests.support import (
    client_on,
    ensure_legal_documents,
    logged_in,
    logged_platform,
    platform_client,
    post,
)
from tests.support.benchmarks import seed_participation, share
from tests.support.network import make_network
from tests.support.staff import audit_rows

HIDDEN = "representativeness"


def _hidden_value() -> float:
    # The seeded ages (see bench_fixtures): 1/6, 2/6, 1/6, 0, 1/6, 1/6 of the adults.
    shares = {"18-24": 100 / 6, "25-39": 200 / 6, "40-54": 100 / 6, "55-64": 0.0}
    shares.update({"65-79": 100 / 6, "80+": 100 / 6})
    return 100 - sum(abs(shares[k] - NATIONAL_ADULT_AGE_SHARES[k]) for k in shares) / 2


def _needles() -> list[str]:
    value = _hidden_value()  # 73.9333…
    return [f"{value:.1f}".replace(".", ","), f"{value:.1f}", f"{value:.4f}", "73,93", "73.93"]


@pytest.fixture(scope="module")
def tenant(app, make_tenant):
    tenant = make_tenant()
    ensure_legal_documents(app, tenant)
    seed_participation(app, tenant)
    from network.benchmarks.tasks import refresh_tenant_metrics

    with app.app_context():
        refresh_tenant_metrics(tenant.id)
    return tenant


@pytest.fixture(scope="module")
def networks(app, tenant):
    """One network where the tenant shares everything but the representativeness, and one
    where it shares it too (so the search below is known to find it when it is there)."""
    without = make_network(app, members=(tenant,))
    share(app, without["id"], tenant.id, [k for k in METRIC_KEYS if k != HIDDEN])
    with_it = make_network(app, members=(tenant,))
    share(app, with_it["id"], tenant.id, METRIC_KEYS)
    return without, with_it


def _every_output(client, slug: str, tenant_id: int) -> dict[str, str]:
    base = f"/reseaux/{slug}/indicateurs"
    paths = [base, f"{base}/territoires/{tenant_id}", f"{base}.csv", f"{base}.json"]
    paths += [f"{base}/{key}.svg" for key in METRIC_KEYS]
    outputs = {}
    for path in paths:
        response = client.get(path)
        if path.endswith(".svg") and response.status_code == 404:
            continue  # a metric nobody shares here has no chart at all
        assert response.status_code == 200, path
        outputs[path] = response.get_data(as_text=True)
    return outputs


def test_the_value_is_really_there_when_shared(app, tenant, networks):
    _without, with_it = networks
    client, _uid = logged_platform(app, "operator")
    outputs = _every_output(client, with_it["slug"], tenant.id)
    assert any(n in outputs[f"/reseaux/{with_it['slug']}/indicateurs"] for n in _needles())
    assert any(n in outputs[f"/reseaux/{with_it['slug']}/indicateurs.json"] for n in _needles())
    assert any(n in outputs[f"/reseaux/{with_it['slug']}/indicateurs.csv"] for n in _needles())
    assert any(
        n in outputs[f"/reseaux/{with_it['slug']}/indicateurs/{HIDDEN}.svg"] for n in _needles()
    )


def test_a_metric_not_shared_appears_in_no_page_chart_or_export(app, tenant, networks):
    without, _with_it = networks
    client, _uid = logged_platform(app, "operator")
    outputs = _every_output(client, without["slug"], tenant.id)
    name = str(METRICS_BY_KEY[HIDDEN].name)
    assert f"/reseaux/{without['slug']}/indicateurs/{HIDDEN}.svg" not in outputs
    assert f"/reseaux/{without['slug']}/indicateurs/participants.svg" in outputs
    for path, body in outputs.items():
        for needle in _needles():
            assert needle not in body, (path, needle)
        assert name not in body.replace("&#39;", "'"), path
        assert f'"{HIDDEN}"' not in body and f"/{HIDDEN}.svg" not in body, path
    data = client.get(f"/reseaux/{without['slug']}/indicateurs.json").get_json()
    assert {row["indicateur"] for row in data["donnees"]} == set(METRIC_KEYS) - {HIDDEN} - {
        key for key in ("survey_responses", "budget_turnout") if not _has(data, key)
    }
    rows = list(
        csv.DictReader(
            io.StringIO(outputs[f"/reseaux/{without['slug']}/indicateurs.csv"].lstrip("\ufeff")),
            delimiter=";",
        )
    )
    assert rows and HIDDEN not in {row["indicateur"] for row in rows}


def _has(data, key) -> bool:
    return any(row["indicateur"] == key for row in data["donnees"])


def test_a_tenant_that_left_the_network_disappears_from_it(app, make_tenant, tenant):
    net = make_network(app, members=(tenant,))
    share(app, net["id"], tenant.id, METRIC_KEYS)
    client, _uid = logged_platform(app, "operator")
    assert client.get(f"/reseaux/{net['slug']}/indicateurs.json").get_json()["donnees"]
    with app.app_context():
        db.session.execute(
            sa.text(
                "UPDATE public.network_memberships SET status = 'left' "
                "WHERE network_id = :n AND tenant_id = :t"
            ),
            {"n": net["id"], "t": tenant.id},
        )
        db.session.commit()
    assert client.get(f"/reseaux/{net['slug']}/indicateurs.json").get_json()["donnees"] == []
    assert (
        client.get(f"/reseaux/{net['slug']}/indicateurs/territoires/{tenant.id}").status_code == 404
    )


def test_small_counts_read_less_than_five_and_export_as_null(app, tenant, networks):
    _without, with_it = networks
    client, _uid = logged_platform(app, "operator")
    base = f"/reseaux/{with_it['slug']}/indicateurs"
    # October 2026: two participants (u1, u2), below the threshold.
    data = client.get(f"{base}.json").get_json()
    october = [
        r
        for r in data["donnees"]
        if r["periode"] == "2026-10-01"
        and r["duree"] == "mois"
        and r["indicateur"] == "participants"
    ]
    assert october == [dict(october[0], valeur=None, effectif=None, masque_petit_effectif=True)]
    # Twelve months, realised share: 2 of 5 retained proposals, shown (base = 5).
    year = next(
        r
        for r in data["donnees"]
        if r["duree"] == "12 mois" and r["indicateur"] == "realised_share"
    )
    assert (year["valeur"], year["effectif"], year["masque_petit_effectif"]) == (40.0, 5, False)
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"{base}.csv").get_data(as_text=True).lstrip("\ufeff")),
            delimiter=";",
        )
    )
    row = next(
        r
        for r in rows
        if r["periode"] == "2026-10-01"
        and r["duree"] == "mois"
        and r["indicateur"] == "participants"
    )
    assert (row["valeur"], row["effectif"], row["masque_petit_effectif"]) == ("", "", "oui")
    page = client.get(f"{base}/territoires/{tenant.id}").get_data(as_text=True)
    assert "&lt; 5" in page
    # The raw value stays in the snapshot table, never in an output.
    with app.app_context():
        raw = db.session.execute(
            sa.text(
                "SELECT value, base_count FROM public.tenant_metric_snapshots WHERE tenant_id = :t "
                "AND metric = 'participants' AND span = 'month' AND period = :p"
            ),
            {"t": tenant.id, "p": date(2026, 10, 1)},
        ).one()
    assert (float(raw.value), raw.base_count) == (2.0, 2)


# --------------------------------------------------------------------------- consent page


def test_the_admin_chooses_the_shared_metrics_per_network(app, tenant):
    net = make_network(app, members=(tenant,))
    other = make_network(app)  # the tenant is not a member
    client, person = logged_in(app, tenant, "admin")
    page = client.get("/gestion/reseaux/partage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert net["name"] in html and other["name"] not in html
    prefix = f"n{net['id']}"
    response = post(
        client,
        f"/gestion/reseaux/partage/{net['id']}",
        {
            f"{prefix}-network_id": str(net["id"]),
            f"{prefix}-metrics": ["participants", "contributions"],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        shared = set(
            db.session.scalars(
                sa.text(
                    "SELECT metric FROM public.network_metric_shares "
                    "WHERE network_id = :n AND tenant_id = :t"
                ),
                {"n": net["id"], "t": tenant.id},
            )
        )
    assert shared == {"participants", "contributions"}
    rows = audit_rows(app, tenant, "network.metrics_sharing_updated")
    assert rows[-1]["actor_id"] == person.id
    assert rows[-1]["details"]["added"] == ["contributions", "participants"]
    # Unchecking everything withdraws the consent.
    post(client, f"/gestion/reseaux/partage/{net['id']}", {f"{prefix}-network_id": str(net["id"])})
    with app.app_context():
        assert not db.session.scalar(
            sa.text("SELECT count(*) FROM public.network_metric_shares WHERE network_id = :n"),
            {"n": net["id"]},
        )
    # A network the tenant is not in, an unknown metric, no CSRF token.
    oprefix = f"n{other['id']}"
    assert (
        post(
            client,
            f"/gestion/reseaux/partage/{other['id']}",
            {f"{oprefix}-network_id": str(other["id"])},
        ).status_code
        == 404
    )
    assert (
        post(
            client,
            f"/gestion/reseaux/partage/{net['id']}",
            {f"{prefix}-network_id": str(net["id"]), f"{prefix}-metrics": ["secret"]},
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/gestion/reseaux/partage/{net['id']}", data={f"{prefix}-network_id": str(net["id"])}
        ).status_code
        == 400
    )


@pytest.mark.parametrize("role", [None, "agent", "moderator"])
def test_only_the_admin_opens_the_consent_page(app, tenant, role):
    net = make_network(app, members=(tenant,))
    if role is None:
        client = client_on(app, tenant)
    else:
        client, _person = logged_in(app, tenant, role)
    for response in (
        client.get("/gestion/reseaux/partage"),
        post(
            client,
            f"/gestion/reseaux/partage/{net['id']}",
            {f"n{net['id']}-network_id": str(net["id"]), f"n{net['id']}-metrics": ["participants"]},
        ),
    ):
        assert response.status_code in (302, 403)
        if role is None:
            assert response.status_code == 302 and "connexion" in response.headers["Location"]
        else:
            assert response.status_code == 403
    with app.app_context():
        assert not db.session.scalar(
            sa.text("SELECT count(*) FROM public.network_metric_shares WHERE network_id = :n"),
            {"n": net["id"]},
        )


def test_the_consent_page_does_not_exist_on_the_platform_host(app):
    assert platform_client(app).get("/gestion/reseaux/partage").status_code == 404
