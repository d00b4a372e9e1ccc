"""Official French collectivités (communes, EPCI, départements, régions): lookup and search.

Data: tenants/data/collectivites.csv.gz, derived from @etalab/decoupage-administratif
(see tenants/data/README.md). It is loaded lazily, once per process, on first use.
"""

from __future__ import annotations

import csv
import gzip
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import chain, islice
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

KINDS = ("commune", "epci", "departement", "region")

DATA_FILE = Path(__file__).resolve().parent / "data" / "collectivites.csv.gz"

_KIND_LABELS = {"commune": _l("commune"), "departement": _l("département"), "region": _l("région")}
_EPCI_LABELS = {
    "CC": _l("communauté de communes"),
    "CA": _l("communauté d'agglomération"),
    "CU": _l("communauté urbaine"),
    "METRO": _l("métropole"),
    "MET69": _l("métropole de Lyon"),
}
# The "not found" message, by kind (gender agreement in French: "Aucun département").
_NOT_FOUND = {
    None: _l("Aucune collectivité ne correspond au code « %(code)s »."),
    "commune": _l("Aucune commune ne correspond au code « %(code)s »."),
    "epci": _l("Aucune intercommunalité ne correspond au code « %(code)s »."),
    "departement": _l("Aucun département ne correspond au code « %(code)s »."),
    "region": _l("Aucune région ne correspond au code « %(code)s »."),
}
_NARROW_NBSP = "\u202f"  # French thousands separator
# Below this many substring hits, one scan finds them all and they are ranked in memory.
_FEW_HITS = 200
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# NFKD does not decompose these ligatures (e.g. "Cœuvres-et-Valsery").
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


@dataclass(frozen=True, slots=True)
class Collectivite:
    kind: str
    code: str
    name: str
    siren: str | None
    population: int
    departement: str | None
    region: str | None
    postal_codes: tuple[str, ...]
    epci_type: str | None

    @property
    def label(self) -> str:
        """French display label, e.g. "Mulhouse (68) — commune, 104 978 hab."."""
        if self.kind == "departement":
            where = f" ({self.code})"
        elif self.kind == "region":
            where = ""  # "(44)" would read as the Loire-Atlantique département
        else:
            where = f" ({self.departement})" if self.departement else ""
        if self.kind == "epci":
            what = _EPCI_LABELS.get(self.epci_type or "", _l("intercommunalité"))
        else:
            what = _KIND_LABELS[self.kind]
        label = f"{self.name}{where} — {what}"
        if self.population:
            digits = f"{self.population:,}".replace(",", _NARROW_NBSP)
            # TRANSLATORS: population, "104 978 hab." (inhabitants, abbreviated).
            label += ", " + _("%(n)s hab.", n=digits)
        return label


class UnknownCollectivite(LookupError):
    """No collectivité matches a code; str(exc) is a French message for end users."""

    def __init__(self, code: str, kind: str | None = None) -> None:
        self.code = code
        self.kind = kind
        super().__init__(str(_NOT_FOUND[kind] % {"code": code}))


def _fold(text: str) -> str:
    """Lowercase ASCII with accents stripped, e.g. "Saint-Étienne" -> "saint-etienne"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def _words(text: str) -> str:
    """Search key: folded, every run of non-alphanumerics collapsed to one space."""
    return _NON_ALNUM.sub(" ", _fold(text)).strip()


def _normalise_code(code: str) -> str:
    # Upper-case for Corsica (2A/2B); drop inner spaces from SIRENs typed as "216 802 249".
    return "".join(code.split()).upper()


def _normalise_kind(kind: str) -> str:
    folded = _fold(kind.strip())
    if folded not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}; expected one of {', '.join(KINDS)}.")
    return folded


def _rank(c: Collectivite) -> tuple[int, str, int, str]:
    # Larger population first; the rest only makes the order deterministic.
    return (-c.population, c.name, KINDS.index(c.kind), c.code)


class _Index:
    """Everything lookup() and search() need, built once from the CSV."""

    def __init__(self, rows: list[Collectivite]) -> None:
        self.by_code: dict[tuple[str, str], Collectivite] = {}
        self.commune_by_siren: dict[str, Collectivite] = {}
        self.by_postal_code: dict[str, list[Collectivite]] = {}
        for c in rows:
            self.by_code[(c.kind, c.code)] = c
            if c.kind == "commune" and c.siren:
                self.commune_by_siren[c.siren] = c
            for postal_code in c.postal_codes:
                self.by_postal_code.setdefault(postal_code, []).append(c)

        # Name search runs str.find() over one big string holding every search key, each
        # preceded by "\n", in rank order (largest population first). The scan runs in C,
        # and since hits come out already ranked, a search can stop after `limit` hits.
        self.ranked = sorted(rows, key=_rank)
        self.keys = [_words(c.name) for c in self.ranked]
        self.rows_by_key: dict[str, list[int]] = {}
        self.starts: list[int] = []
        offset = 0
        for row, key in enumerate(self.keys):
            self.rows_by_key.setdefault(key, []).append(row)
            self.starts.append(offset)
            offset += len(key) + 1
        self.starts.append(offset)  # sentinel: end of the haystack
        self.haystack = "".join("\n" + key for key in self.keys)

    def find(self, needle: str) -> Iterator[int]:
        """Rows (indexes in self.ranked) whose "\\n"-prefixed key contains needle, in order."""
        position = self.haystack.find(needle)
        while position >= 0:
            row = bisect_right(self.starts, position) - 1
            yield row
            # One hit per row is enough: resume at the next key.
            position = self.haystack.find(needle, self.starts[row + 1])

    def _tier(self, row: int, words: str) -> int:
        key = self.keys[row]
        if key == words:
            return 0
        if key.startswith(words):
            return 1
        return 2 if " " + words in key else 3

    def match_names(self, words: str) -> Iterable[int]:
        """Rows whose name matches words, best first (see search() for the ranking)."""
        hits = list(islice(self.find(words), _FEW_HITS))
        if len(hits) < _FEW_HITS:
            # One scan found every match (the common case for a real name): rank them here
            # instead of scanning the haystack once per tier. Row order is rank order.
            return sorted(hits, key=lambda row: (self._tier(row, words), row))
        # Many matches: scan tier by tier; the caller stops once it has enough.
        return chain(
            self.rows_by_key.get(words, []),
            self.find("\n" + words),  # the whole name starts with the query
            self.find(" " + words),  # a later word starts with the query
            self.find(words),  # anywhere
        )


def _read_rows() -> list[Collectivite]:
    with gzip.open(DATA_FILE, "rt", encoding="utf-8", newline="") as fh:
        return [
            Collectivite(
                kind=r["kind"],
                code=r["code"],
                name=r["name"],
                siren=r["siren"] or None,
                population=int(r["population"]),
                departement=r["departement"] or None,
                region=r["region"] or None,
                postal_codes=tuple(r["postal_codes"].split()),
                epci_type=r["epci_type"] or None,
            )
            for r in csv.DictReader(fh)
        ]


@cache
def _index() -> _Index:
    return _Index(_read_rows())


def lookup(code: str, kind: str | None = None) -> Collectivite:
    """Find a collectivité by official code (INSEE code, SIREN, département/région code).

    Without kind: 5 characters is a commune's INSEE code, 9 digits an EPCI's (else a
    commune's) SIREN, 2-3 characters a département. Région codes collide with département
    codes ("84"), so a région needs kind="region" or the "region:84" form.
    Raises UnknownCollectivite when nothing matches, ValueError for an invalid kind.
    """
    if ":" in code:
        prefix, code = code.split(":", 1)
        prefix = _normalise_kind(prefix)
        if kind is not None and _normalise_kind(kind) != prefix:
            raise ValueError(f"Conflicting kinds: {kind!r} and prefix {prefix!r}.")
        kind = prefix
    elif kind is not None:
        kind = _normalise_kind(kind)
    code = _normalise_code(code)
    is_siren = len(code) == 9 and code.isdigit()

    if kind is not None:
        kinds: tuple[str, ...] = (kind,)
    elif len(code) == 5:
        kinds = ("commune",)
    elif is_siren:
        kinds = ("epci", "commune")
    elif len(code) in (2, 3):
        kinds = ("departement",)
    else:
        kinds = ()

    index = _index()
    for candidate_kind in kinds:
        if candidate_kind == "commune" and is_siren:
            found = index.commune_by_siren.get(code)
        else:
            found = index.by_code.get((candidate_kind, code))
        if found is not None:
            return found
    raise UnknownCollectivite(code, kind)


def search(query: str, limit: int = 10) -> list[Collectivite]:
    """Search by name (accent/case-insensitive), exact postal code or exact official code.

    Ranking: exact code or postal code, then exact name, then names starting with the
    query, then names with a word starting with it, then names merely containing it;
    larger population first within each tier.
    """
    if limit <= 0:
        return []
    index = _index()
    results: dict[tuple[str, str], Collectivite] = {}  # insertion-ordered, deduplicated

    def add(candidates: Iterable[Collectivite]) -> bool:
        """Add candidates in order; True once the limit is reached."""
        for c in candidates:
            results.setdefault((c.kind, c.code), c)
            if len(results) >= limit:
                return True
        return False

    code = _normalise_code(query)
    exact = [hit for kind in KINDS if (hit := index.by_code.get((kind, code)))]
    if hit := index.commune_by_siren.get(code):
        exact.append(hit)
    exact += index.by_postal_code.get(code, [])
    if add(sorted(exact, key=_rank)):
        return list(results.values())

    if words := _words(query):
        add(index.ranked[row] for row in index.match_names(words))
    return list(results.values())


def suggest_slug(c: Collectivite) -> str:
    """URL slug for a tenant: "Saint-Étienne" -> "saint-etienne" (max 40 characters)."""
    slug = _NON_ALNUM.sub("-", _fold(c.name)).strip("-")
    if len(slug) > 40:
        # Cut at the last word boundary within the limit rather than mid-word.
        cut = slug[:41].rfind("-")
        slug = slug[:cut] if cut > 0 else slug[:40]
    return slug or f"{c.kind}-{c.code.lower()}"
