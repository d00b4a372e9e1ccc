"""Self-diagnostic: the coordinator defines dimensions × levels, each member territory
answers once a year (and may correct it), a radar chart compares it with the median."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import logged_platform, platform_client
from tests.support import post as post_platform
from tests.support.network import make_network, platform_audit

LEVELS = "Inexistant\nÉmergent\nÉtabli\nExemplaire"


@pytest.fixture
def setup(app, make_tenant):
    tenants = [make_tenant() for _ in range(3)]
    coord, coord_id = logged_platform(app, "coordinator")
    evaluator, eval_id = logged_platform(app, "coordinator")
    net = make_network(
        app, members=tenants, coordinator_id=coord_id, evaluator_id=eval_id, public_sections=()
    )
    members = [logged_platform(app, "member", tenant_id=t.id)[0] for t in tenants]
    return {
        "tenants": tenants,
        "net": net,
        "base": f"/reseaux/{net['slug']}/autodiagnostic",
        "coordinator": coord,
        "evaluator": evaluator,
        "members": members,
    }


def _dimension_ids(app, network_id) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.text(
                    "SELECT id FROM public.network_diagnostic_dimensions WHERE network_id = :n "
                    "AND archived_at IS NULL ORDER BY position"
                ),
                {"n": network_id},
            )
        )


def _define(s, names=("Information", "Co-construction", "Transparence des réponses")):
    for name in names:
        response = post_platform(
            s["coordinator"],
            f"{s['base']}/dimensions",
            {"name": name, "description": f"{name} des habitants", "levels": LEVELS},
        )
        assert response.status_code == 302


def test_the_radar_compares_a_territory_with_the_network_median(app, setup):
    s = setup
    _define(s)
    dims = _dimension_ids(app, s["net"]["id"])
    answers = ((1, 2, 4), (3, 3, 2), (4, 1, 3))  # medians: 3, 2, 3
    for client, levels in zip(s["members"], answers, strict=True):
        data = {f"d_{d}": str(level) for d, level in zip(dims, levels, strict=True)}
        response = post_platform(client, f"{s['base']}/remplir", data)
        assert response.status_code == 302
    page = s["members"][0].get(s["base"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'role="img"' in html and "<polygon" in html and "<caption" in html
    # The first territory's row for "Information": its level 1, the median 3.
    row = html.split("Information</th>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="number">1</td>' in row and '<td class="number">3</td>' in row
    row = html.split("Co-construction</th>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="number">2</td>' in row
    assert len(platform_audit(app, "network.diagnostic_submitted")) >= 3


def test_once_a_year_a_second_answer_corrects_the_first(app, setup):
    s = setup
    _define(s, names=("Inclusion",))
    (dim,) = _dimension_ids(app, s["net"]["id"])
    post_platform(s["members"][0], f"{s['base']}/remplir", {f"d_{dim}": "2"})
    post_platform(s["members"][0], f"{s['base']}/remplir", {f"d_{dim}": "4", "comment": "Mieux."})
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT scores, comment FROM public.network_diagnostic_responses "
                "WHERE network_id = :n AND tenant_id = :t"
            ),
            {"n": s["net"]["id"], "t": s["tenants"][0].id},
        ).all()
    assert len(rows) == 1 and rows[0].scores == {str(dim): 4} and rows[0].comment == "Mieux."


def test_levels_out_of_range_and_missing_answers_are_refused(app, setup):
    s = setup
    _define(s, names=("Organisation interne", "Information"))
    first, second = _dimension_ids(app, s["net"]["id"])
    for data in ({f"d_{first}": "5", f"d_{second}": "1"}, {f"d_{first}": "2"}):
        response = post_platform(s["members"][0], f"{s['base']}/remplir", data)
        assert response.status_code == 200  # the form again, with its errors
    with app.app_context():
        assert not db.session.scalar(
            sa.text(
                "SELECT count(*) FROM public.network_diagnostic_responses WHERE network_id = :n"
            ),
            {"n": s["net"]["id"]},
        )
    bad = post_platform(
        s["coordinator"], f"{s['base']}/dimensions", {"name": "X", "levels": "Un seul"}
    )
    assert bad.status_code == 200 and "de 2 à 10 niveaux" in bad.get_data(as_text=True)


def test_who_may_define_fill_and_see(app, setup):
    s = setup
    anonymous = platform_client(app)
    member = s["members"][0]
    # Define: coordinators (and operators) only.
    for client in (member, s["evaluator"]):
        assert client.get(f"{s['base']}/dimensions").status_code == 403
        assert (
            post_platform(
                client, f"{s['base']}/dimensions", {"name": "X", "levels": LEVELS}
            ).status_code
            == 403
        )
    operator, _ = logged_platform(app, "operator")
    assert operator.get(f"{s['base']}/dimensions").status_code == 200
    response = post_platform(anonymous, f"{s['base']}/dimensions", {"name": "X", "levels": LEVELS})
    assert response.status_code == 302 and "connexion" in response.headers["Location"]
    assert _dimension_ids(app, s["net"]["id"]) == []
    _define(s, names=("Information",))
    (dim,) = _dimension_ids(app, s["net"]["id"])
    # Fill: member territories only.
    for client in (s["coordinator"], s["evaluator"], operator):
        assert post_platform(client, f"{s['base']}/remplir", {f"d_{dim}": "2"}).status_code == 403
    # See: members, coordinators, evaluators; not anonymous while the section is private.
    assert anonymous.get(s["base"]).status_code == 403
    for client in (member, s["coordinator"], s["evaluator"]):
        assert client.get(s["base"]).status_code == 200
    # Retire a dimension: coordinator only, the past answers stay.
    assert post_platform(member, f"{s['base']}/dimensions/{dim}/retirer").status_code == 403
    assert (
        post_platform(s["coordinator"], f"{s['base']}/dimensions/{dim}/retirer").status_code == 302
    )
    assert _dimension_ids(app, s["net"]["id"]) == []


def test_the_questionnaire_page_is_for_member_territories(app, setup):
    s = setup
    _define(s, names=("Information",))
    path = f"{s['base']}/remplir"
    assert s["members"][0].get(path).status_code == 200
    for client in (s["coordinator"], s["evaluator"]):
        assert client.get(path).status_code == 403
    response = platform_client(app).get(path)
    assert response.status_code == 302 and "connexion" in response.headers["Location"]
