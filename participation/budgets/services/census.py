"""The census list a budget may check its voters against: the CSV import, and the matching
of a declared name and date of birth against it.

**Census matching** (:func:`match_census`): same date of birth, and the name equal once
case, spaces, hyphens and word order are normalised → approved; equal only once accents
are removed, or one or two letters apart → a near match, reviewed by staff. The name
functions (:func:`normalise_name`, :func:`strip_accents`, :func:`_distance`,
:func:`parse_date`) are pure.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.budgets.models import Budget, CensusEntry
from participation.budgets.services.errors import BudgetError
from participation.budgets.services.lookups import has_votes

CENSUS_MAX_BYTES = 5 * 1024 * 1024


def _collapse(name: str) -> str:
    words = re.split(r"[\s\-'’.,]+", unicodedata.normalize("NFC", name or "").casefold())
    return " ".join(sorted(w for w in words if w))


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_name(name: str) -> str:
    """Case, spaces, hyphens, apostrophes and word order do not matter; accents do."""
    return _collapse(name)


def _distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@dataclass
class CensusMatch:
    kind: str  # "exact", "near" or "none"
    entry: CensusEntry | None = None
    note: str | None = None


def match_census(budget_id: int, full_name: str, birth_date: date) -> CensusMatch:
    wanted = normalise_name(full_name)
    loose_wanted = strip_accents(wanted)
    candidates = list(
        db.session.scalars(
            sa.select(CensusEntry).where(
                CensusEntry.budget_id == budget_id, CensusEntry.birth_date == birth_date
            )
        )
    )
    for entry in candidates:
        if entry.normalised_name == wanted:
            return CensusMatch("exact", entry)
    for entry in candidates:
        loose = strip_accents(entry.normalised_name)
        if loose == loose_wanted:
            return CensusMatch("near", entry, "accents")
        distance = _distance(loose, loose_wanted)
        if distance <= 2:
            return CensusMatch("near", entry, f"{distance} lettre(s) de différence")
    return CensusMatch("none")


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
NAME_HEADERS = {"nom", "nom_naissance", "nom de naissance", "nom d'usage", "last_name"}
FIRST_NAME_HEADERS = {"prenom", "prénom", "prenoms", "prénoms", "first_name"}
FULL_NAME_HEADERS = {"nom complet", "nom_complet", "full_name", "name"}
BIRTH_HEADERS = {"date_naissance", "date de naissance", "naissance", "birth_date", "ddn"}


def parse_date(value: str) -> date | None:
    value = (value or "").strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


@dataclass
class CensusImport:
    count: int
    skipped: list[str]


def import_census(budget: Budget, raw: bytes, actor: User) -> CensusImport:
    """Replace the budget's census list with the CSV ``raw`` (UTF-8, ``;`` or ``,``).

    Columns (header line, any order): ``nom`` and ``prénom``, or ``nom complet``; and
    ``date de naissance`` (JJ/MM/AAAA or AAAA-MM-JJ).
    """
    if len(raw) > CENSUS_MAX_BYTES:
        raise BudgetError(_("Le fichier dépasse 5 Mo."), "file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise BudgetError(_("Le fichier doit être un CSV encodé en UTF-8."), "file") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().casefold() for h in next(reader, [])]

    def column(names: set[str]) -> int | None:
        for index, name in enumerate(header):
            if name in names:
                return index
        return None

    last, first, full, birth = (
        column(NAME_HEADERS),
        column(FIRST_NAME_HEADERS),
        column(FULL_NAME_HEADERS),
        column(BIRTH_HEADERS),
    )
    if birth is None or (full is None and last is None):
        raise BudgetError(
            _(
                "Colonnes introuvables : la première ligne doit nommer « nom » et « prénom » "
                "(ou « nom complet ») et « date de naissance »."
            ),
            "file",
        )
    rows: dict[tuple[str, date], dict] = {}
    skipped: list[str] = []
    for line_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(index: int | None, row=row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        name = cell(full) or " ".join(p for p in (cell(first), cell(last)) if p)
        born = parse_date(cell(birth))
        if not name or born is None:
            skipped.append(_("ligne %(n)d : nom ou date de naissance illisible", n=line_number))
            continue
        normalised = normalise_name(name)
        rows[(normalised, born)] = {
            "budget_id": budget.id,
            "full_name": name[:200],
            "normalised_name": normalised[:200],
            "birth_date": born,
        }
    if not rows:
        raise BudgetError(_("Le fichier ne contient aucune personne lisible."), "file")
    previous_count = db.session.scalar(
        sa.select(sa.func.count()).where(CensusEntry.budget_id == budget.id)
    )
    if previous_count and has_votes(budget):
        # Register rows point at entries: keep them, add the new people only.
        known = {
            (n, b)
            for n, b in db.session.execute(
                sa.select(CensusEntry.normalised_name, CensusEntry.birth_date).where(
                    CensusEntry.budget_id == budget.id
                )
            )
        }
        new_rows = [r for key, r in rows.items() if key not in known]
    else:
        db.session.execute(sa.delete(CensusEntry).where(CensusEntry.budget_id == budget.id))
        new_rows = list(rows.values())
    if new_rows:
        db.session.execute(sa.insert(CensusEntry), new_rows)
    count = db.session.scalar(sa.select(sa.func.count()).where(CensusEntry.budget_id == budget.id))
    if budget.eligible_population is None or budget.eligible_population == previous_count:
        budget.eligible_population = count
    db.session.flush()
    audit(
        "budgets.census_imported",
        actor,
        "budget",
        budget.id,
        people=count,
        skipped=len(skipped),
    )
    return CensusImport(count, skipped)


def census_size(budget: Budget) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(CensusEntry.budget_id == budget.id))
