"""The multi-schema migration runner (docs/architecture.md, tenancy rule 9).

``public`` first, then every tenant schema in its own transaction, in parallel batches.
Schemas already at head are skipped after one cheap version read. A failing schema is
recorded on its tenant (``migration_state = failed``) and does not stop the others.
Killing the runner leaves each schema either fully migrated or untouched (PostgreSQL DDL is
transactional), so running it again finishes the job.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from core.db import check_schema_name, schema_for_tenant_id
from tenants.schema import create_schema, quote_schema, set_local_search_path

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SHARED, TENANT = "shared", "tenant"


@dataclass
class SchemaResult:
    tenant_id: int
    slug: str
    schema: str
    before: str | None
    after: str | None
    status: str  # "migrated", "skipped", "failed"
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def alembic_config(tree: str, connection: sa.Connection, schema: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR / tree))
    cfg.attributes["connection"] = connection
    cfg.attributes["tenant_schema"] = schema
    return cfg


@cache
def _script(tree: str) -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR / tree))
    return ScriptDirectory.from_config(cfg)


def head_revision(tree: str) -> str:
    return _script(tree).get_current_head()


def upgrade_public(engine: sa.Engine) -> None:
    with engine.connect() as conn, conn.begin():
        command.upgrade(alembic_config(SHARED, conn), "head")


def read_revision(conn: sa.Connection, schema: str) -> str | None:
    exists = conn.scalar(
        sa.text("SELECT to_regclass(:t)"), {"t": f"{quote_schema(schema)}.alembic_version"}
    )
    if exists is None:
        return None
    return conn.scalar(sa.text(f"SELECT version_num FROM {quote_schema(schema)}.alembic_version"))


def upgrade_schema_in_transaction(conn: sa.Connection, schema: str, lock_timeout: str) -> None:
    """Create ``schema`` if needed and bring it to head, inside the caller's transaction.

    A brand-new schema gets the head's DDL replayed (recorded once per process from a real
    Alembic run); an existing one is upgraded by Alembic, revision by revision.
    """
    check_schema_name(schema)
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {_quote_literal(lock_timeout)}")
    create_schema(conn, schema)
    set_local_search_path(conn, schema)
    if REPLAY_FRESH_SCHEMAS and read_revision(conn, schema) is None:
        _replay(conn, schema, _fresh_schema_ddl(conn))
    else:
        command.upgrade(alembic_config(TENANT, conn, schema), "head")


# -- fresh schemas: record once, replay many ---------------------------------------------
# Running Alembic for a new tenant re-reads every revision file and issues one round trip
# per statement, which made provisioning several times slower than its 150 ms budget. The
# statements Alembic runs for an empty schema are recorded once per process (in a savepoint
# that is rolled back, on a schema no tenant can have: ids start at 1) and replayed with the
# real schema name. tests/tenants/test_fresh_schema.py proves both paths give the same
# schema.
REPLAY_FRESH_SCHEMAS = True
CAPTURE_SCHEMA = "t_0"
_CAPTURE_RE = re.compile(r"(?<![A-Za-z0-9_$])t_0(?![A-Za-z0-9_$])")
_recorded: dict[str, list[tuple[str, object]]] = {}


def _fresh_schema_ddl(conn: sa.Connection) -> list[tuple[str, object]]:
    head = head_revision(TENANT)
    if head not in _recorded:
        _recorded[head] = _record_fresh_schema_ddl(conn)
    return _recorded[head]


def _record_fresh_schema_ddl(conn: sa.Connection) -> list[tuple[str, object]]:
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        statements.append((statement, parameters))

    savepoint = conn.begin_nested()
    try:
        create_schema(conn, CAPTURE_SCHEMA)
        set_local_search_path(conn, CAPTURE_SCHEMA)
        event.listen(conn, "before_cursor_execute", record)
        try:
            command.upgrade(alembic_config(TENANT, conn, CAPTURE_SCHEMA), "head")
        finally:
            event.remove(conn, "before_cursor_execute", record)
    finally:
        savepoint.rollback()  # also undoes the SET LOCAL search_path above
    return statements


def _substitute(value: object, schema: str) -> object:
    if isinstance(value, str):
        return _CAPTURE_RE.sub(schema, value)
    if isinstance(value, dict):
        return {k: _substitute(v, schema) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_substitute(v, schema) for v in value)
    return value


def _batches(statements: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """Join consecutive statements without parameters into one round trip.

    With parameters (even empty ones) psycopg reads ``%%`` as an escaped ``%``; without
    parameters the text is sent as is, so the escapes are undone before joining.
    """
    batches: list[tuple[str, object]] = []
    pending: list[str] = []
    for statement, parameters in statements:
        if not parameters:
            text = statement.replace("%%", "%") if parameters is not None else statement
            pending.append(text.strip().rstrip(";"))
            continue
        if pending:
            batches.append((";\n".join(pending), None))
            pending = []
        batches.append((statement, parameters))
    if pending:
        batches.append((";\n".join(pending), None))
    return batches


def _replay(conn: sa.Connection, schema: str, statements: list[tuple[str, object]]) -> None:
    check_schema_name(schema)
    cursor = conn.connection.cursor()  # the DBAPI cursor: the exact calls Alembic made
    try:
        for statement, parameters in _batches(statements):
            cursor.execute(_substitute(statement, schema), _substitute(parameters, schema))
    finally:
        cursor.close()


def _quote_literal(value: str) -> str:
    if not all(ch.isalnum() or ch in " ." for ch in value):
        raise ValueError(f"invalid lock_timeout {value!r}")
    return f"'{value}'"


def migrate_one(engine: sa.Engine, tenant_id: int, slug: str, lock_timeout: str) -> SchemaResult:
    schema = schema_for_tenant_id(tenant_id)
    started = time.perf_counter()
    before = after = None
    try:
        with engine.connect() as conn:
            before = read_revision(conn, schema)
            conn.rollback()
            with conn.begin():
                upgrade_schema_in_transaction(conn, schema, lock_timeout)
            after = read_revision(conn, schema)
            conn.rollback()
        status, error = "migrated", None
    except Exception as exc:  # noqa: BLE001 - reported per schema, the run goes on
        log.exception("migration of %s failed", schema)
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        after = before
    return SchemaResult(
        tenant_id,
        slug,
        schema,
        before,
        after,
        status,
        error,
        round(time.perf_counter() - started, 4),
    )


# -- worker processes --------------------------------------------------------------------
_worker_engine: sa.Engine | None = None


def _init_worker(database_url: str) -> None:
    # Forked from the CLI process: never touch the parent's pooled connections.
    from core.db import _engine_proxies

    for engine in list(_engine_proxies.keys()):
        engine.dispose(close=False)
    global _worker_engine
    _worker_engine = sa.create_engine(database_url, poolclass=NullPool)


def _migrate_in_worker(tenant_id: int, slug: str, lock_timeout: str) -> SchemaResult:
    return migrate_one(_worker_engine, tenant_id, slug, lock_timeout)


# -- the run -----------------------------------------------------------------------------
def list_tenants(engine: sa.Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, slug, status FROM public.tenants WHERE status <> 'archived' ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]


def read_revisions(engine: sa.Engine, tenant_ids: Iterable[int]) -> dict[int, str | None]:
    with engine.connect() as conn:
        return {tid: read_revision(conn, schema_for_tenant_id(tid)) for tid in tenant_ids}


def record_results(engine: sa.Engine, results: list[SchemaResult]) -> None:
    if not results:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE public.tenants SET migration_state = :state, migration_error = :error,"
                " updated_at = now() WHERE id = :id"
            ),
            [
                {
                    "id": r.tenant_id,
                    "state": "failed" if r.status == "failed" else "ok",
                    "error": r.error,
                }
                for r in results
            ],
        )


def migrate_all(
    engine: sa.Engine,
    database_url: str,
    jobs: int = 1,
    lock_timeout: str = "5s",
    on_result: Callable[[SchemaResult], None] | None = None,
) -> list[SchemaResult]:
    upgrade_public(engine)
    head = head_revision(TENANT)
    tenants = list_tenants(engine)
    revisions = read_revisions(engine, [t[0] for t in tenants])
    results: list[SchemaResult] = []
    todo = []
    for tenant_id, slug, _status in tenants:
        revision = revisions[tenant_id]
        if revision == head:
            results.append(
                SchemaResult(
                    tenant_id, slug, schema_for_tenant_id(tenant_id), revision, revision, "skipped"
                )
            )
        else:
            todo.append((tenant_id, slug))
    # Skipped schemas are healthy: clear a failure recorded by an earlier run.
    record_results(engine, [r for r in results])

    def done(result: SchemaResult) -> None:
        results.append(result)
        record_results(engine, [result])  # progress survives a kill of the runner
        if on_result:
            on_result(result)

    if jobs <= 1 or len(todo) <= 1:
        for tenant_id, slug in todo:
            done(migrate_one(engine, tenant_id, slug, lock_timeout))
        return results

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(database_url,)
    ) as pool:
        futures = [pool.submit(_migrate_in_worker, tid, slug, lock_timeout) for tid, slug in todo]
        for future in as_completed(futures):
            done(future.result())
    return results


def schema_statuses(engine: sa.Engine) -> list[dict]:
    head = head_revision(TENANT)
    with engine.connect() as conn:
        public_rev = conn.scalar(sa.text("SELECT version_num FROM public.alembic_version"))
        rows = conn.execute(
            sa.text(
                "SELECT id, slug, status, migration_state, migration_error"
                " FROM public.tenants ORDER BY id"
            )
        ).all()
        statuses = [
            {
                "schema": "public",
                "tenant": None,
                "revision": public_rev,
                "head": head_revision(SHARED),
                "at_head": public_rev == head_revision(SHARED),
            }
        ]
        for tid, slug, status, state, error in rows:
            schema = schema_for_tenant_id(tid)
            revision = read_revision(conn, schema) if status != "archived" else None
            statuses.append(
                {
                    "schema": schema,
                    "tenant": slug,
                    "tenant_status": status,
                    "revision": revision,
                    "head": head,
                    "at_head": revision == head,
                    "migration_state": state,
                    "migration_error": error,
                }
            )
    return statuses
