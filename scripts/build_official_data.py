"""Build tenants/data/collectivites.csv.gz from the @etalab/decoupage-administratif data.

The product ships a compact derived copy of the official French administrative division so
that looking up a collectivité never depends on a network call. Rebuild with:

    .venv/bin/python scripts/build_official_data.py [SOURCE_DIR] [--output PATH]

The output is deterministic (sorted rows, gzip header without name nor timestamp), so
re-running on the same source yields the same bytes and a clean diff.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "fr-admin"
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent / "tenants" / "data" / "collectivites.csv.gz"
)

COLUMNS = (
    "kind",
    "code",
    "name",
    "siren",
    "population",
    "departement",
    "region",
    "postal_codes",
    "epci_type",
)
KIND_ORDER = {"commune": 0, "epci": 1, "departement": 2, "region": 3}

Row = dict[str, str | int]


def _load(source: Path, name: str) -> list[dict[str, Any]]:
    with gzip.open(source / f"{name}.json.gz", "rt", encoding="utf-8") as fh:
        return json.load(fh)


def build_rows(source: Path) -> list[Row]:
    # Only current communes: delegated/associated communes and municipal arrondissements
    # are not collectivités that can open a participation platform.
    communes = [c for c in _load(source, "communes") if c["type"] == "commune-actuelle"]
    by_code = {c["code"]: c for c in communes}
    rows: list[Row] = []
    dep_population: dict[str, int] = defaultdict(int)
    reg_population: dict[str, int] = defaultdict(int)

    for c in communes:
        # A few overseas communes (TAAF, Saint-Pierre-et-Miquelon...) lack a SIREN or a
        # population figure: keep them, with an empty SIREN and a population of 0.
        population = int(c.get("population") or 0)
        dep_population[c["departement"]] += population
        reg_population[c["region"]] += population
        rows.append(
            {
                "kind": "commune",
                "code": c["code"],
                "name": c["nom"],
                "siren": c.get("siren", ""),
                "population": population,
                "departement": c["departement"],
                "region": c["region"],
                "postal_codes": " ".join(sorted(set(c.get("codesPostaux", [])))),
                "epci_type": "",
            }
        )

    for e in _load(source, "epci"):
        # The source gives no seat for an EPCI; its most populous member commune is almost
        # always the seat and gives a useful département for display (89 EPCI straddle two).
        main = max(e["membres"], key=lambda m: (m.get("populationMunicipale") or 0, m["code"]))
        seat = by_code[main["code"]]
        rows.append(
            {
                "kind": "epci",
                "code": e["code"],
                "name": e["nom"],
                "siren": e["code"],
                # Municipal population, the same measure as the communes' `population`.
                "population": int(e["populationMunicipale"]),
                "departement": seat["departement"],
                "region": seat["region"],
                "postal_codes": "",
                "epci_type": e["type"],
            }
        )

    # Départements and régions carry no population in the source: sum their communes.
    for d in _load(source, "departements"):
        rows.append(
            {
                "kind": "departement",
                "code": d["code"],
                "name": d["nom"],
                "siren": "",
                "population": dep_population.get(d["code"], 0),
                "departement": "",
                "region": d["region"],
                "postal_codes": "",
                "epci_type": "",
            }
        )
    for r in _load(source, "regions"):
        rows.append(
            {
                "kind": "region",
                "code": r["code"],
                "name": r["nom"],
                "siren": "",
                "population": reg_population.get(r["code"], 0),
                "departement": "",
                "region": "",
                "postal_codes": "",
                "epci_type": "",
            }
        )

    rows.sort(key=lambda row: (KIND_ORDER[str(row["kind"])], row["code"]))
    return rows


def render(rows: list[Row]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    # mtime=0 and no file name in the header keep the archive byte-for-byte reproducible.
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    rows = build_rows(args.source)
    data = render(rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"{args.output}: {len(rows)} rows, {len(data)} bytes")


if __name__ == "__main__":
    main()
