"""The multi-schema migration runner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from core.db import db
from tenants import migrate
from tenants.schema import create_schema, quote_schema, set_local_search_path

ROOT = Path(__file__).resolve().parents[2]
HEAD = migrate.head_revision(migrate.TENANT)


def _at_revision(app, ref, revision: str | None) -> None:
    """Put the tenant's schema at ``revision`` (None: no schema at all), status active."""
    with app.app_context(), db.engine.begin() as conn:
        if revision is not None:
            create_schema(conn, ref.schema)
            set_local_search_path(conn, ref.schema)
            command.upgrade(migrate.alembic_config(migrate.TENANT, conn, ref.schema), revision)
        conn.execute(
            sa.text("UPDATE public.tenants SET status='active' WHERE id=:i"), {"i": ref.id}
        )


def _revision(app, ref) -> str | None:
    with app.app_context(), db.engine.connect() as conn:
        return migrate.read_revision(conn, ref.schema)


def _has_table(app, ref, table: str) -> bool:
    with app.app_context(), db.engine.connect() as conn:
        return (
            conn.scalar(
                sa.text("SELECT to_regclass(:t)"), {"t": f"{quote_schema(ref.schema)}.{table}"}
            )
            is not None
        )


def _migrate(app, jobs=1):
    with app.app_context():
        return migrate.migrate_all(
            db.engine, app.config["SQLALCHEMY_DATABASE_URI"], jobs=jobs, lock_timeout="5s"
        )


def _by_id(results):
    return {r.tenant_id: r for r in results}


def test_mixed_revisions_all_reach_head(app, make_tenant):
    refs = [make_tenant(provision=False) for _ in range(3)]
    for ref, revision in zip(refs, (None, "t0001", HEAD), strict=True):
        _at_revision(app, ref, revision)
    results = _by_id(_migrate(app, jobs=2))
    assert [results[r.id].status for r in refs] == ["migrated", "migrated", "skipped"]
    assert [results[r.id].before for r in refs] == [None, "t0001", HEAD]
    assert all(_revision(app, r) == HEAD for r in refs)
    # A second run is a no-op.
    assert {r.status for r in _migrate(app)} == {"skipped"}


def test_a_failing_tenant_does_not_stop_the_others(app, make_tenant):
    good_1, bad, good_2 = (make_tenant(provision=False) for _ in range(3))
    for ref in (good_1, bad, good_2):
        _at_revision(app, ref, "t0001")
    with app.app_context(), db.engine.begin() as conn:  # t0002 will collide with this table
        conn.exec_driver_sql(f"CREATE TABLE {quote_schema(bad.schema)}.audit_log (x int)")
    results = _by_id(_migrate(app))
    assert results[good_1.id].status == results[good_2.id].status == "migrated"
    assert results[bad.id].status == "failed"
    assert "audit_log" in results[bad.id].error
    assert _revision(app, bad) == "t0001"
    with app.app_context():
        statuses = {s["tenant"]: s for s in migrate.schema_statuses(db.engine)}
    assert statuses[bad.slug]["migration_state"] == "failed"
    assert statuses[bad.slug]["at_head"] is False
    assert statuses[good_1.slug]["at_head"] is True

    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "migrate", "--jobs", "1"])
    assert result.exit_code == 1 and "1 failed" in result.output

    with app.app_context(), db.engine.begin() as conn:  # the operator fixes the schema
        conn.exec_driver_sql(f"DROP TABLE {quote_schema(bad.schema)}.audit_log")
    assert _by_id(_migrate(app))[bad.id].status == "migrated"
    with app.app_context():
        statuses = {s["tenant"]: s for s in migrate.schema_statuses(db.engine)}
    assert statuses[bad.slug]["migration_state"] == "ok" and statuses[bad.slug]["at_head"]


def _wait_for_lock_wait(app, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            with db.engine.connect() as conn:
                waiting = conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                )
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the migration never blocked on the lock")


@pytest.mark.slow
def test_killed_midway_then_rerun(app, make_tenant, database_url, redis_url):
    first, blocked, last = (make_tenant(provision=False) for _ in range(3))
    for ref in (first, blocked, last):
        _at_revision(app, ref, "t0001")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PLATFORM_DOMAIN": "pnyx.test",
        "PNYX_ENV": "testing",
        "TENANT_MIGRATION_LOCK_TIMEOUT": "120s",
    }
    with app.app_context():
        locker = db.engine.connect()
    try:
        # SHARE lets the runner read the version but blocks its UPDATE: the schema's
        # migration is then stuck midway, after its DDL, inside its transaction.
        locker.exec_driver_sql(
            f"LOCK TABLE {quote_schema(blocked.schema)}.alembic_version IN SHARE MODE"
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "tenants", "migrate", "--jobs", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        _wait_for_lock_wait(app)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        locker.rollback()
        locker.close()
    time.sleep(0.3)  # the server notices the dead client and rolls its transaction back
    assert _revision(app, first) == HEAD
    assert _revision(app, blocked) == "t0001"
    assert not _has_table(app, blocked, "audit_log")  # nothing half-done
    assert _revision(app, last) == "t0001"

    results = _by_id(_migrate(app))
    assert results[first.id].status == "skipped"
    assert results[blocked.id].status == results[last.id].status == "migrated"
    assert all(_revision(app, r) == HEAD for r in (first, blocked, last))


def test_status_command_json(app, tenant_a):
    result = app.test_cli_runner().invoke(args=["tenants", "status", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["schema"]: row for row in json.loads(result.output)}
    assert rows["public"]["at_head"] is True
    assert rows[tenant_a.schema]["revision"] == HEAD
    assert rows[tenant_a.schema]["tenant"] == tenant_a.slug
    text = app.test_cli_runner().invoke(args=["tenants", "status"]).output
    assert f"{tenant_a.schema}" in text and HEAD in text
