"""The open-data bundle of one tenant: a ZIP of CSV files (UTF-8, comma-separated, one
header line), a data dictionary and the Licence Ouverte 2.0.

What goes in is what the public pages show, minus every personal datum: no e-mail, no
display name, no identifier of an account. A contribution says whether it comes from a
citizen or from the collectivité's team, nothing more. Hidden and deleted contributions,
draft processes, withdrawn proposals and the contributions of blocked accounts are left
out; internal events (assignments) too.

Each dataset is declared once (:class:`Dataset`), with its fields, their type and meaning:
the dictionary is written from the same declaration as the CSV, so they cannot disagree.
Each feature declares its own datasets in its ``opendata`` module (``demarches.csv`` in
``participation.processes.opendata``…), with :func:`register_dataset`, and decides what is
public through its ``visibility`` module, the one the pages and the API use too. This
module holds the registry, the bundle and the dictionary; it knows no feature.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import current_app

from core import clock
from core.csvexport import open_data_csv
from participation.accounts.models import User
from tenants.context import TenantRef, current_tenant
from tenants.urls import tenant_url

LICENCE_PATH = Path(__file__).with_name("licence-ouverte-2.0.txt")
MANIFEST = "bundle.json"
CITIZEN, TEAM = "citoyen", "collectivite"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # entier, texte, date, date-heure, décimal, booléen, url
    meaning: str


@dataclass(frozen=True)
class Dataset:
    filename: str
    title: str
    fields: tuple[Field, ...]
    rows: Callable[[], Iterable[tuple]]


#: The bundle's datasets, in the order the features registered them (their init order).
DATASETS: list[Dataset] = []


def register_dataset(dataset: Dataset) -> None:
    """Add (or replace, by file name) a dataset of the bundle."""
    DATASETS[:] = [d for d in DATASETS if d.filename != dataset.filename]
    DATASETS.append(dataset)


# --------------------------------------------------------------------------- for the datasets

ID = Field("id", "entier", "Identifiant, stable, dans cet espace de participation.")
AUTHOR_KIND = Field(
    "auteur_type",
    "texte",
    "« citoyen » ou « collectivite » (équipe de la collectivité). Aucune donnée sur la "
    "personne n'est publiée.",
)


def iso(value: date | datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def author_kind(user: User | None) -> str:
    """The value of :data:`AUTHOR_KIND`: the team's or a citizen's, never who."""
    return TEAM if user is not None and user.staff_role is not None else CITIZEN


def page_url(endpoint: str, **values) -> str:
    """The absolute address of a public page of the tenant being exported."""
    return tenant_url(current_tenant(), endpoint, **values)


# --------------------------------------------------------------------------- the bundle


def bundle_folder(tenant_id: int) -> Path:
    base = current_app.config.get("OPENDATA_FOLDER") or str(
        Path(current_app.instance_path) / "opendata"
    )
    return Path(base) / f"t{int(tenant_id)}"


def bundle_name(tenant: TenantRef) -> str:
    return f"donnees-ouvertes-{tenant.slug}.zip"


def _csv_bytes(dataset: Dataset) -> tuple[bytes, int]:
    # Citizens wrote these texts and anyone opens the files in a spreadsheet: the shared
    # writer neutralises formulas (CSV injection), as in the staff exports.
    text, count = open_data_csv([field.name for field in dataset.fields], dataset.rows())
    return text.encode("utf-8"), count


def _dictionary() -> bytes:
    text, _count = open_data_csv(
        ["fichier", "champ", "type", "description"],
        (
            [dataset.filename, field.name, field.type, field.meaning]
            for dataset in DATASETS
            for field in dataset.fields
        ),
    )
    return text.encode("utf-8")


def _readme(tenant: TenantRef, built_at: datetime, counts: dict[str, int]) -> bytes:
    lines = [
        f"Données ouvertes de l'espace de participation de {tenant.name}",
        "",
        f"Produites le {built_at.isoformat()} par Pnyx.",
        "Licence : Licence Ouverte / Open Licence version 2.0 (Etalab), voir LICENCE.txt.",
        "Attribution : « " + tenant.name + " — espace de participation Pnyx ».",
        "",
        "Fichiers CSV en UTF-8, séparateur virgule, une ligne d'en-tête. Dates ISO 8601.",
        "Le dictionnaire des données (dictionnaire-des-donnees.csv) décrit chaque champ.",
        "Aucune donnée personnelle : ni nom, ni adresse e-mail, ni identifiant de compte.",
        "Les contributions masquées par la modération ou supprimées n'y figurent pas.",
        "",
    ]
    lines += [f"{name} : {count} ligne(s)" for name, count in counts.items()]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def build_bundle(tenant: TenantRef | None = None) -> dict:
    """Write the tenant's bundle (inside its context) and return its manifest.

    Written to a temporary file and renamed: a download never sees half a bundle."""
    tenant = tenant or current_tenant()
    built_at = clock.utcnow().replace(microsecond=0)
    folder = bundle_folder(tenant.id)
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with (
            os.fdopen(handle, "wb") as raw,
            zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            for dataset in DATASETS:
                data, counts[dataset.filename] = _csv_bytes(dataset)
                archive.writestr(dataset.filename, data)
            archive.writestr("dictionnaire-des-donnees.csv", _dictionary())
            archive.writestr("LICENCE.txt", LICENCE_PATH.read_bytes())
            archive.writestr("LISEZMOI.txt", _readme(tenant, built_at, counts))
        target = folder / bundle_name(tenant)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    manifest = {
        "file": target.name,
        "built_at": built_at.isoformat(),
        "size": target.stat().st_size,
        "counts": counts,
    }
    manifest_tmp = folder / (MANIFEST + ".part")
    manifest_tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(manifest_tmp, folder / MANIFEST)
    return manifest


def current_bundle(tenant: TenantRef) -> dict | None:
    """The manifest of the tenant's last bundle, None if none was built yet."""
    folder = bundle_folder(tenant.id)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (folder / manifest.get("file", "")).is_file():
        return None
    manifest["built_at"] = datetime.fromisoformat(manifest["built_at"])
    return manifest
