"""SQL on tenant schemas. Every schema name is checked against ``^t_[0-9]+$`` and quoted
with psycopg's Identifier before it reaches SQL (docs/architecture.md, tenancy rule 7)."""

from __future__ import annotations

import sqlalchemy as sa
from psycopg import sql

from core.db import check_schema_name


def quote_schema(schema: str) -> str:
    return sql.Identifier(check_schema_name(schema)).as_string(None)


def create_schema(conn: sa.Connection, schema: str) -> None:
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote_schema(schema)}")


def drop_schema(conn: sa.Connection, schema: str) -> None:
    conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quote_schema(schema)} CASCADE")


def schema_exists(conn: sa.Connection, schema: str) -> bool:
    check_schema_name(schema)
    return bool(
        conn.scalar(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
    )


def set_local_search_path(conn: sa.Connection, schema: str) -> None:
    conn.exec_driver_sql(f"SET LOCAL search_path TO {quote_schema(schema)}, public")


def existing_tenant_schemas(conn: sa.Connection) -> set[str]:
    rows = conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname ~ '^t_[0-9]+$'"))
    return {r[0] for r in rows}
