"""The members' map: a server-side SVG of metropolitan France by département.

Commune centroids are not available from a package registry (see
scripts/build_commune_centroids.py), so each member is placed in its département.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "france_departements.json.gz"


@functools.cache
def _map_data() -> dict:
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as source:
        return json.load(source)


@dataclass
class MapDepartement:
    code: str
    name: str
    path: str
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
    unplaced: list  # members outside metropolitan France or without a département

    @property
    def placed(self) -> list[MapDepartement]:
        return [d for d in self.departements if d.members]


def members_map(tenants) -> MembersMap:
    data = _map_data()
    departements = [
        MapDepartement(d["code"], d["name"], d["path"], d["cx"], d["cy"])
        for d in data["departements"]
    ]
    by_code = {d.code: d for d in departements}
    unplaced = []
    for tenant in tenants:
        target = by_code.get((tenant.departement or "").upper())
        if target is None:
            unplaced.append(tenant)
        else:
            target.members.append(tenant)
    return MembersMap(data["viewBox"], data["licence"], departements, unplaced)
