"""The full export an admin downloads before the space is archived: every table of the
tenant's schema as a CSV file in a ZIP, without secrets (password hashes, TOTP secrets,
recovery codes, tokens).

Tables and columns are read from the catalogue at run time, so tables added by other
features are exported too; names are quoted with ``psycopg.sql.Identifier``.
"""

from __future__ import annotations

import re
import tempfile
import zipfile

import sqlalchemy as sa
from psycopg import sql

from core import clock
from core.db import check_schema_name

#: Columns never exported: they let someone act as the user, not know about them.
SECRET_COLUMN = re.compile(r"(password|secret|token|recovery_codes|totp_last_step)", re.I)
SKIPPED_TABLES = frozenset({"alembic_version"})
#: Kept in memory up to this size, then spooled to a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024

README = """Export complet de l'espace de participation « {name} » (Pnyx)
Généré le {when} (UTC).

Chaque fichier CSV est une table de l'espace (encodage UTF-8, séparateur virgule, première
ligne : noms des colonnes). Les mots de passe, secrets de double authentification, codes de
secours et jetons ne sont pas exportés.

Les fichiers reproduisent les données telles qu'elles sont enregistrées, textes des
habitants compris : ouvrez-les avec l'import de données de votre tableur (« Données >
À partir d'un fichier texte/CSV »), pas d'un double clic, car une cellule qui commence par
=, +, - ou @ pourrait y être lue comme une formule.
"""


def _tables(conn: sa.Connection, schema: str) -> list[tuple[str, list[str]]]:
    rows = conn.execute(
        sa.text(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
            "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
            " WHERE c.table_schema = :schema ORDER BY c.table_name, c.ordinal_position"
        ),
        {"schema": schema},
    ).all()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        if table in SKIPPED_TABLES:
            continue
        tables.setdefault(table, [])
        if not SECRET_COLUMN.search(column):
            tables[table].append(column)
    return [(table, columns) for table, columns in tables.items() if columns]


def write_export(conn: sa.Connection, schema: str, tenant_name: str):
    """A file object (at position 0) holding the ZIP of the tenant's tables."""
    check_schema_name(schema)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    raw = conn.connection.driver_connection
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "LISEZ-MOI.txt",
            README.format(name=tenant_name, when=clock.utcnow().strftime("%Y-%m-%d %H:%M")),
        )
        for table, columns in _tables(conn, schema):
            query = sql.SQL("COPY (SELECT {cols} FROM {schema}.{table}) TO STDOUT WITH CSV HEADER")
            query = query.format(
                cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                schema=sql.Identifier(schema),
                table=sql.Identifier(table),
            )
            with archive.open(f"{table}.csv", "w") as target, raw.cursor() as cursor:
                with cursor.copy(query) as copy:
                    for chunk in copy:
                        target.write(bytes(chunk))
    out.seek(0)
    return out
