"""Authorisation matrix of the benchmark routes (platform domain), private and public."""

from __future__ import annotations

import pytest

from network.benchmarks.metrics import METRIC_KEYS
from tests.support import logged_platform, platform_client, platform_user
from tests.support import post as post_platform
from tests.support.benchmarks import insert_snapshot, share
from tests.support.network import make_network, platform_audit

ACTORS = (
    "anonymous",
    "outsider",
    "invited_member",
    "member",
    "evaluator",
    "coordinator",
    "operator",
)
READERS = {"member", "evaluator", "coordinator", "operator"}


@pytest.fixture(scope="module")
def world(app, make_tenant):
    member_tenant = make_tenant()
    invited_tenant = make_tenant()
    coordinator_id, _ = platform_user(app, "coordinator")
    evaluator_id, _ = platform_user(app, "coordinator")
    outsider_id, _ = platform_user(app, "coordinator")
    net = make_network(
        app,
        members=(member_tenant,),
        invited=(invited_tenant,),
        coordinator_id=coordinator_id,
        evaluator_id=evaluator_id,
        public_sections=("members",),
    )
    public = make_network(app, members=(member_tenant,), public_sections=("benchmarks",))
    for network in (net, public):
        share(app, network["id"], member_tenant.id, METRIC_KEYS)
    insert_snapshot(app, member_tenant.id, "participants", 120, 120)
    clients = {
        "anonymous": platform_client(app),
        "outsider": platform_client(app, outsider_id),
        "invited_member": logged_platform(app, "member", tenant_id=invited_tenant.id)[0],
        "member": logged_platform(app, "member", tenant_id=member_tenant.id)[0],
        "evaluator": platform_client(app, evaluator_id),
        "coordinator": platform_client(app, coordinator_id),
        "operator": logged_platform(app, "operator")[0],
    }
    return {"net": net, "public": public, "tenant": member_tenant, "clients": clients}


def _reads(slug: str, tenant_id: int) -> list[str]:
    base = f"/reseaux/{slug}/indicateurs"
    return [
        base,
        f"{base}/territoires/{tenant_id}",
        f"{base}.csv",
        f"{base}.json",
        f"{base}/participants.svg",
    ]


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_a_private_benchmarks_section(world, actor):
    client = world["clients"][actor]
    for path in _reads(world["net"]["slug"], world["tenant"].id):
        expected = 200 if actor in READERS else 403
        assert client.get(path).status_code == expected, (actor, path)
    assert client.get("/reseaux/indicateurs/definitions").status_code == 200


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_a_public_benchmarks_section(world, actor):
    client = world["clients"][actor]
    for path in _reads(world["public"]["slug"], world["tenant"].id):
        assert client.get(path).status_code == 200, (actor, path)


def test_unknown_network_metric_and_territory_are_404(world):
    client = world["clients"]["operator"]
    slug = world["net"]["slug"]
    assert client.get("/reseaux/inconnu/indicateurs").status_code == 404
    assert client.get(f"/reseaux/{slug}/indicateurs/secret.svg").status_code == 404
    assert client.get(f"/reseaux/{slug}/indicateurs/territoires/2147483647").status_code == 404
    assert client.get(f"/reseaux/{slug}/indicateurs/territoires/2147483648").status_code == 404


@pytest.mark.parametrize("actor", ACTORS)
def test_the_refresh_button_is_for_the_coordination(app, world, actor):
    client = world["clients"][actor]
    path = f"/reseaux/{world['net']['slug']}/indicateurs/actualiser"
    response = post_platform(client, path)
    if actor == "anonymous":
        assert response.status_code == 302 and "connexion" in response.headers["Location"]
    elif actor in ("coordinator", "operator"):
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/reseaux/{world['net']['slug']}/indicateurs")
        assert platform_audit(app, "network.metrics_refresh_requested")
    else:
        assert response.status_code == 403
    # Never without the CSRF token.
    assert (
        client.post(path).status_code in (400, 302)
        if actor == "anonymous"
        else (client.post(path).status_code == 400)
    )


COVERED = {
    # route: the test that checks who may use it
    ("GET", "network_benchmarks.definitions"): "test_reading_a_private_benchmarks_section",
    ("GET", "network_benchmarks.index"): "test_reading_a_private_benchmarks_section",
    ("GET", "network_benchmarks.territory"): "test_reading_a_private_benchmarks_section",
    ("GET", "network_benchmarks.chart_svg"): "test_reading_a_private_benchmarks_section",
    ("GET", "network_benchmarks.export_json"): "test_reading_a_private_benchmarks_section",
    ("GET", "network_benchmarks.export_csv"): "test_reading_a_private_benchmarks_section",
    ("POST", "network_benchmarks.refresh"): "test_the_refresh_button_is_for_the_coordination",
    ("GET", "staff_network_sharing.index"): "test_sharing.test_only_the_admin_opens_…",
    ("POST", "staff_network_sharing.update"): "test_sharing.test_only_the_admin_opens_…",
    ("GET", "network_commitments.board"): "test_commitments.test_board_access_…",
    ("GET", "network_commitments.show"): "test_commitments.test_board_access_…",
    ("GET", "network_commitments.new"): "test_commitments.test_get_pages_matrix",
    ("POST", "network_commitments.new"): "test_commitments.test_only_the_commitment_s_…",
    ("GET", "network_commitments.edit"): "test_commitments.test_get_pages_matrix",
    ("POST", "network_commitments.edit"): "test_commitments.test_only_the_commitment_s_…",
    ("POST", "network_commitments.comment"): "test_commitments.test_coordinators_and_…",
    ("GET", "network_commitments.evidence"): "test_commitments.test_get_pages_matrix",
    ("GET", "network_diagnostic.index"): "test_diagnostic.test_who_may_define_fill_and_see",
    ("GET", "network_diagnostic.fill"): "test_diagnostic.test_the_questionnaire_page_…",
    ("POST", "network_diagnostic.fill"): "test_diagnostic.test_who_may_define_fill_and_see",
    ("GET", "network_diagnostic.dimensions"): "test_diagnostic.test_who_may_define_fill_and_see",
    ("POST", "network_diagnostic.dimensions"): "test_diagnostic.test_who_may_define_fill_…",
    ("POST", "network_diagnostic.archive"): "test_diagnostic.test_who_may_define_fill_and_see",
}


def test_every_route_of_these_packages_has_its_authorisation_test(app):
    prefixes = (
        "network_benchmarks.",
        "network_commitments.",
        "network_diagnostic.",
        "staff_network_sharing.",
    )
    routes = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(prefixes)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(COVERED)
