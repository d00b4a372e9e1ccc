"""A new tenant's schema built by replaying recorded DDL is identical to one built by
Alembic revision by revision."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from tenants import migrate

CATALOG = {
    "columns": """
        SELECT table_name, column_name, data_type, column_default, is_nullable,
               is_generated, generation_expression
          FROM information_schema.columns WHERE table_schema = :s
         ORDER BY table_name, column_name""",
    "constraints": """
        SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid)
          FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
          JOIN pg_namespace n ON n.oid = cl.relnamespace
         WHERE n.nspname = :s ORDER BY 1, 2""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s ORDER BY 1",
    "triggers": """
        SELECT event_object_table, trigger_name, action_timing, event_manipulation,
               action_statement
          FROM information_schema.triggers WHERE trigger_schema = :s ORDER BY 1, 2, 4""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s ORDER BY 1""",
    "version": "SELECT 1",
}


def _describe(conn, schema: str) -> dict:
    description = {}
    for name, query in CATALOG.items():
        rows = conn.execute(sa.text(query), {"s": schema}).all()
        # Names embed the schema (indexdef, function bodies): compare with a neutral name.
        description[name] = [tuple(str(v).replace(schema, "SCHEMA") for v in row) for row in rows]
    description["version"] = migrate.read_revision(conn, schema)
    return description


def test_replayed_schema_equals_alembic_schema(app, make_tenant, monkeypatch):
    replayed = make_tenant(fresh=True)
    monkeypatch.setattr(migrate, "REPLAY_FRESH_SCHEMAS", False)
    by_alembic = make_tenant(fresh=True)
    with app.app_context(), db.engine.connect() as conn:
        a = _describe(conn, replayed.schema)
        b = _describe(conn, by_alembic.schema)
    assert a["version"] == migrate.head_revision(migrate.TENANT)
    assert len(a["columns"]) > 50 and a["triggers"] and a["functions"]
    assert a == b


def test_recording_leaves_no_capture_schema(app, make_tenant):
    make_tenant(fresh=True)
    with app.app_context(), db.engine.connect() as conn:
        assert not conn.scalar(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname='t_0'"))


def test_replayed_trigger_works_in_its_own_schema(app, make_tenant):
    ref = make_tenant(fresh=True)
    with app.app_context(), db.engine.begin() as conn:
        s = ref.schema
        conn.exec_driver_sql(f"INSERT INTO {s}.users (email, display_name) VALUES ('a@b.fr', 'A')")
        conn.exec_driver_sql(f"INSERT INTO {s}.processes (title) VALUES ('P')")
        conn.exec_driver_sql(
            f"INSERT INTO {s}.proposals (process_id, title, body) VALUES (1, 'T', 'B')"
        )
        conn.exec_driver_sql(f"INSERT INTO {s}.supports (proposal_id, user_id) VALUES (1, 1)")
        assert conn.exec_driver_sql(f"SELECT supports_count FROM {s}.proposals").scalar() == 1
