"""The members' map: each member is drawn at its commune's centre (an EPCI at its most
populous commune, a département or a région at its chef-lieu), projected like the
France outline; overseas members are listed under the map."""

from __future__ import annotations

import html
import math
import re
import uuid
from types import SimpleNamespace

import sqlalchemy as sa

from network.core.maps import _map_data, commune_centroids, members_map, project
from scripts.build_commune_centroids import _rings
from tests.support import PLATFORM, platform_client
from tests.support.network import make_network


def member(code: str, kind: str = "commune", departement: str | None = None, name=None):
    if departement is None and kind == "commune":
        departement = code[:3] if code.startswith("97") else code[:2]
    return SimpleNamespace(
        name=name or f"{kind} {code}", code=code, kind=kind, departement=departement
    )


def inside(point: tuple[float, float], path: str) -> bool:
    """Even-odd ray casting over every ring of an SVG path of the outline."""
    x, y = point
    crossings = 0
    for ring in _rings(path):
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                crossings += 1
    return crossings % 2 == 1


def distance_to_edge(point: tuple[float, float], path: str) -> float:
    x, y = point
    best = math.inf
    for ring in _rings(path):
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            dx, dy = x1 - x0, y1 - y0
            t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / ((dx * dx + dy * dy) or 1e-9)))
            best = min(best, math.hypot(x - x0 - t * dx, y - y0 - t * dy))
    return best


def outline(code: str) -> str:
    return next(d["path"] for d in _map_data()["departements"] if d["code"] == code)


def only_point(tenants):
    result = members_map(tenants)
    assert len(result.points) == 1
    return result.points[0]


def test_commune_member_is_placed_at_its_commune_centre():
    mulhouse = only_point([member("68224", name="Mulhouse")])
    saillans = only_point([member("26289", name="Saillans")])
    assert mulhouse.label == "68224" and saillans.label == "26289"
    assert (mulhouse.cx, mulhouse.cy) == project(*commune_centroids()["68224"])
    # Mulhouse (7.33 E, 47.75 N) is north-east of Saillans (5.18 E, 44.69 N): on the SVG,
    # further right and higher up, by about what the projection gives for that distance.
    assert 75 < mulhouse.cx - saillans.cx < 100
    assert 180 < saillans.cy - mulhouse.cy < 230
    # Each dot lies inside its own département's shape, not only near its centre.
    assert inside((mulhouse.cx, mulhouse.cy), outline("68"))
    assert inside((saillans.cx, saillans.cy), outline("26"))
    departement_point = next(d for d in _map_data()["departements"] if d["code"] == "68")
    assert (mulhouse.cx, mulhouse.cy) != (departement_point["cx"], departement_point["cy"])


def test_projection_matches_the_outline_for_every_departement_chef_lieu():
    """The chef-lieu of each of the 96 départements falls inside its département's shape
    (this fails with a plain equirectangular projection or a shifted origin); Marseille
    and Toulon, whose centres are on the coast, within 1 px of the simplified coastline."""
    chefs = {
        d["code"]: members_map([member(d["code"], kind="departement")]).points[0]
        for d in _map_data()["departements"]
    }
    outside = {code for code, p in chefs.items() if not inside((p.cx, p.cy), outline(code))}
    assert outside <= {"13", "83"}
    assert all(distance_to_edge((chefs[c].cx, chefs[c].cy), outline(c)) < 1 for c in outside)
    # Strasbourg (chef-lieu of the Bas-Rhin) east of Brest's Finistère chef-lieu Quimper.
    assert chefs["67"].label == "67482" and chefs["29"].label == "29232"
    assert chefs["67"].cx > chefs["29"].cx + 400


def test_non_commune_members_use_a_chef_lieu_or_their_largest_commune():
    haut_rhin = only_point([member("68", kind="departement", departement="68")])
    assert haut_rhin.label == "68066"  # Colmar, préfecture
    auvergne_rhone_alpes = only_point([member("84", kind="region")])
    assert auvergne_rhone_alpes.label == "69123"  # Lyon
    mulhouse_alsace_agglo = only_point([member("200066009", kind="epci", departement="68")])
    assert mulhouse_alsace_agglo.label == "68224"  # its most populous commune: Mulhouse


def test_members_at_one_place_share_a_larger_point():
    result = members_map(
        [
            member("68224", name="Mulhouse"),
            member("200066009", kind="epci", departement="68", name="m2A"),
            member("26289", name="Saillans"),
        ]
    )
    by_label = {p.label: p for p in result.points}
    assert set(by_label) == {"68224", "26289"}
    assert [t.name for t in by_label["68224"].members] == ["Mulhouse", "m2A"]
    assert by_label["68224"].radius > by_label["26289"].radius
    assert {d.code for d in result.placed} == {"68", "26"}


def test_overseas_listed_and_unknown_commune_falls_back_to_its_departement():
    result = members_map(
        [
            member("97411", name="Saint-Denis (La Réunion)"),
            member("01", kind="region", name="Guadeloupe"),
            member("14666", name="Sannerville"),  # re-created in 2025, not in the export
        ]
    )
    assert [t.name for t in result.unplaced] == ["Saint-Denis (La Réunion)", "Guadeloupe"]
    assert "14666" not in commune_centroids()
    (point,) = result.points
    calvados = next(d for d in _map_data()["departements"] if d["code"] == "14")
    assert (point.label, point.cx, point.cy) == ("dep-14", calvados["cx"], calvados["cy"])


def tenant_for(app, code: str):
    """The tenant of a commune (created, not provisioned, unless a test already made it)."""
    from core.db import db
    from tenants.demo import DEMO_TENANTS
    from tenants.models import Tenant
    from tenants.services import create_tenant

    with app.app_context():
        tenant = db.session.scalar(
            sa.select(Tenant).where(Tenant.kind == "commune", Tenant.code == code)
        )
        if tenant is None:
            # A demo commune gets the demo's slug: the demo seed, run later by another test
            # of this worker, then finds it instead of refusing a second space for the code.
            slug = dict(DEMO_TENANTS).get(code) or f"t-{uuid.uuid4().hex[:10]}"
            tenant = create_tenant(code, PLATFORM, slug=slug)
            db.session.commit()
        return SimpleNamespace(id=tenant.id, name=tenant.name, code=code)


def test_members_page_draws_each_member_at_its_commune(net_app):
    mulhouse, saillans, saint_denis = (
        tenant_for(net_app, code) for code in ("68224", "26289", "97411")
    )
    network = make_network(
        net_app, members=[mulhouse, saillans, saint_denis], public_sections=("members",)
    )
    page = platform_client(net_app).get(f"/reseaux/{network['slug']}/membres")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    dots = {
        place: (float(x), float(y))
        for place, x, y in re.findall(
            r'<circle class="member-dot" data-place="([^"]+)" cx="([^"]+)" cy="([^"]+)"', body
        )
    }
    assert dots == {
        "68224": project(*commune_centroids()["68224"]),
        "26289": project(*commune_centroids()["26289"]),
    }
    # Mulhouse is drawn north-east of Saillans; Saint-Denis is listed under the map.
    assert dots["68224"][0] > dots["26289"][0] and dots["68224"][1] < dots["26289"][1]
    hint = body[body.index("Hors de la carte") :]
    assert html.unescape(saint_denis.name) in html.unescape(hint)
