"""Registry of personal data: for each table holding personal data, how it is exported
("Télécharger mes données"), how it is erased ("Supprimer mon compte") and how long it is
kept (docs/features/privacy.md).

Every feature registers its own tables from a small ``personal_data.py`` module of its own,
imported by the feature's ``init_app``; the accounts code only walks the registry, it never
imports the features. Two registries exist because there are two kinds of account: the
tenant registry (``participation.accounts.personal_data.registry``, citizens and staff of
one collectivité) and the platform registry below (platform accounts in ``public``).

``tests/participation/test_personal_data_registry.py`` walks the catalogue of both schemas:
a table with a column that references an account or holds a name, an e-mail, a birth date,
an address, a phone number, an IP address or free text, and no entry here, fails it.
"""

from __future__ import annotations

import enum
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

#: ``section(user) -> (file name, JSON-serialisable data)``, a list of such pairs, or None
#: when it holds nothing.
ExportSection = Callable[[Any], "tuple[str, Any] | None"]
#: ``erase(user)``: adds/flushes, never commits (runs inside the deletion's transaction).
EraseRule = Callable[[Any], None]


class Erasure(enum.StrEnum):
    DELETE = "delete"  # the rows go
    ANONYMISE = "anonymise"  # the rows stay, what identifies the person is cleared
    KEEP = "keep"  # the rows stay, linked to the anonymised account, for a stated reason


@dataclass(frozen=True)
class PersonalTable:
    """One table: which of its columns are personal, and what happens to them."""

    name: str  # table name, without schema ("budget_eligibilities")
    columns: tuple[str, ...]
    erasure: Erasure
    #: French, shown on /confidentialite; a callable when it depends on the settings.
    retention: Any
    reason: str = ""  # why (required for ANONYMISE and KEEP)

    def __post_init__(self) -> None:
        if self.erasure != Erasure.DELETE and not self.reason:
            raise ValueError(f"{self.name}: an erasure rule other than delete needs a reason")


@dataclass
class PersonalData:
    """What one feature holds about a person: its export, its erasure and its tables."""

    name: str
    tables: tuple[PersonalTable, ...]
    export: ExportSection | None = None
    erase: EraseRule | None = None
    #: Run erasures in this order (lower first): e.g. meeting seats are freed before the
    #: account row is anonymised.
    order: int = 100

    def __post_init__(self) -> None:
        if self.export is None:
            raise ValueError(f"{self.name}: personal data must have an export section")
        if self.erase is None and any(t.erasure != Erasure.KEEP for t in self.tables):
            raise ValueError(f"{self.name}: tables deleted or anonymised need an erase rule")


@dataclass
class PersonalDataRegistry:
    scope: str  # "tenant" or "platform"
    entries: dict[str, PersonalData] = field(default_factory=dict)

    def register(self, entry: PersonalData) -> PersonalData:
        """Add (or replace, so that a re-import is harmless) the entry of a feature."""
        self.entries[entry.name] = entry
        return entry

    def __iter__(self):
        return iter(sorted(self.entries.values(), key=lambda e: (e.order, e.name)))

    def tables(self) -> dict[str, list[tuple[PersonalData, PersonalTable]]]:
        """Table name → the entries covering it (and their rule for that table)."""
        out: dict[str, list[tuple[PersonalData, PersonalTable]]] = {}
        for entry in self:
            for table in entry.tables:
                out.setdefault(table.name, []).append((entry, table))
        return out

    def covered_columns(self, table: str) -> set[str]:
        return {c for _entry, t in self.tables().get(table, []) for c in t.columns}

    def export_sections(self) -> list[ExportSection]:
        return [entry.export for entry in self if entry.export is not None]

    def erase(self, user: Any) -> list[str]:
        """Run every erasure rule for ``user``; returns the names of the entries run."""
        done = []
        for entry in self:
            if entry.erase is not None:
                entry.erase(user)
                done.append(entry.name)
        return done

    def retention_table(self) -> list[dict[str, str]]:
        """For /confidentialite and the docs: one line per table."""
        return [
            {
                "feature": entry.name,
                "table": table.name,
                "erasure": table.erasure.value,
                "retention": str(
                    table.retention() if callable(table.retention) else table.retention
                ),
                "reason": str(table.reason),
            }
            for entry in self
            for table in entry.tables
        ]


#: Platform accounts (public schema): operators, network coordinators, collectivités' staff
#: on the platform site. ``tenants`` (platform accounts, verification) and ``network`` register.
platform_registry = PersonalDataRegistry("platform")


def rows(items: Iterable[Any], *fields: str, **renamed: str) -> list[dict[str, Any]]:
    """A small helper for export sections: ``rows(q, "id", titre="title")``."""
    out = []
    for item in items:
        row = {name: getattr(item, name) for name in fields}
        row.update({label: getattr(item, attr) for label, attr in renamed.items()})
        out.append(row)
    return out


# --------------------------------------------------------------------------- catalogue

#: Words of a column name (split on "_") that mark personal data: who (an account, an
#: author), identity (name, e-mail, birth date, phone, address, IP), position, free text.
PERSONAL_WORDS = frozenset(
    {
        "user", "author", "actor", "reporter", "requester", "claimant", "voter", "speaker",
        "name", "email", "mail", "birth", "address", "phone", "ip",
        "latitude", "longitude",
        "body", "text", "content", "description", "details", "message", "comment", "note",
        "answer", "reason", "minutes", "label", "summary", "title", "lessons", "filename",
    }
)  # fmt: skip

#: The words above that name a person: an ``*_id`` column is personal when it references an
#: account or starts with one of them (``actor_id`` of the audit log has no foreign key).
WHO_WORDS = frozenset(
    {"user", "author", "actor", "reporter", "requester", "claimant", "voter", "speaker"}
)
#: Last words of columns that hold a date, a count or a type, never identity or free text.
NEUTRAL_SUFFIXES = frozenset({"at", "on", "type", "count"})
#: First words of flags (``allows_comment``, ``is_anonymous``, ``notify_comments``).
NEUTRAL_PREFIXES = frozenset({"allows", "is", "has", "notify"})

#: Tables that hold accounts, per registry scope: a foreign key to one of them is personal.
ACCOUNT_TABLES = {"tenant": {"users"}, "platform": {"platform_users"}}


def personal_columns(table: Any, scope: str) -> set[str]:
    """The columns of a SQLAlchemy ``Table`` that look personal (see PERSONAL_WORDS)."""
    accounts = ACCOUNT_TABLES[scope]
    out = set()
    for column in table.columns:
        references_account = any(
            fk.target_fullname.split(".")[-2] in accounts for fk in column.foreign_keys
        )
        words = column.name.lower().split("_")
        if references_account:
            out.add(column.name)
        elif words[-1] in NEUTRAL_SUFFIXES or words[0] in NEUTRAL_PREFIXES:
            continue
        elif words[-1] == "id":
            if set(words) & WHO_WORDS:
                out.add(column.name)
        elif set(words) & PERSONAL_WORDS:
            out.add(column.name)
    return out


#: Public-schema columns that match the words above but hold no one's personal data.
PLATFORM_NOT_PERSONAL: dict[str, str] = {
    "job_outbox.func_name": "nom de la fonction Python d'un travail en file",
    "tenants.name": "nom officiel de la collectivité (COG de l'INSEE)",
    "plans.name": "nom d'une offre commerciale",
    "plans.description": "description d'une offre commerciale",
    "networks.name": "nom d'un réseau de collectivités",
    "networks.description": "présentation d'un réseau, écrite par sa coordination",
    "network_diagnostic_dimensions.name": "critère d'autodiagnostic défini par le réseau",
    "network_diagnostic_dimensions.description": "critère d'autodiagnostic défini par le réseau",
    "network_commitments.title": "engagement public d'une collectivité (acte administratif)",
    "network_commitments.description": "engagement public d'une collectivité",
    "network_commitments.evidence_text": "preuve publique d'un engagement de collectivité",
    "network_commitments.evidence_filename": "nom du document de preuve de la collectivité",
    "network_practice_adoptions.error": "message technique d'une copie de modèle",
    "tenant_verification_requests.collectivite_name": "nom officiel de la collectivité",
    "tenant_disputes.collectivite_name": "nom officiel de la collectivité",
    "subscriptions.billing_email": (
        "adresse de facturation de la collectivité (service comptable), conservée 10 ans "
        "comme les factures (code de commerce, art. L123-22)"
    ),
    "platform_audit_log.details": (
        "journal des actions d'exploitation : identifiants seulement, jamais de nom ni "
        "d'adresse (core.platform audit)"
    ),
}


def rows_of(table_name: str, user_columns: tuple[str, ...], fields: tuple[str, ...]):
    """An export section reading ``fields`` of the rows of ``table_name`` (public schema)
    where one of ``user_columns`` is the user's id: for tables kept with the anonymised
    account, whose export is a plain listing."""
    import sqlalchemy as sa

    def section(user: Any) -> list[dict[str, Any]]:
        from core.db import db

        tables = db.metadata.tables
        # Public tables are declared with schema="public": their key names the schema.
        table = tables.get(table_name) or tables[f"public.{table_name}"]
        query = sa.select(*(table.c[f] for f in fields)).where(
            sa.or_(*(table.c[c] == user.id for c in user_columns))
        )
        return [dict(row._mapping) for row in db.session.execute(query)]

    return section


def combined(filename: str, **parts: Callable[[Any], list]) -> ExportSection:
    """One export file made of several listings; None when they are all empty."""

    def section(user: Any) -> tuple[str, Any] | None:
        data = {name: part(user) for name, part in parts.items()}
        return (filename, data) if any(data.values()) else None

    return section


def json_default(value: Any) -> Any:
    """How export files write what JSON has no type for (dates, enums, sets)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"not serialisable in an export: {type(value).__name__}")


def build_json_archive(files: dict[str, Any]) -> bytes:
    """A ZIP holding one JSON file per export section (``{file name: data}``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, data in files.items():
            archive.writestr(
                filename, json.dumps(data, ensure_ascii=False, indent=2, default=json_default)
            )
    return buffer.getvalue()
