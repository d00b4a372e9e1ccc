"""The isolation suite of docs/architecture.md ("Tenancy"), on a pool of ONE connection, so
that anything left behind by a request (search_path, schema map, identity map) would reach the
next one.

Each check is also run against a deliberately broken implementation to show it can fail.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy import event

from core import db as core_db
from core.db import NoTenantError, TenantSession, TenantSwitchError, db
from core.routing import TENANT_SITE
from tenants.context import tenant_context
from tenants.models import TenantSetting
from tests.support import PLATFORM, base_config, host_client


def _read_probe():
    orm = db.session.get(TenantSetting, "probe")
    raw = db.session.execute(sa.text("SELECT value FROM settings WHERE key = 'probe'")).scalar()
    return {"orm": orm.value if orm else None, "raw": raw}


def _build_app(database_url, redis_url):
    from core import create_app

    app = create_app(
        base_config(
            database_url,
            redis_url,
            SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 5},
        )
    )
    tenant_bp = Blueprint("isolation_tenant", __name__)
    platform_bp = Blueprint("isolation_platform", __name__)

    @tenant_bp.get("/_t/probe")
    def probe():
        return jsonify(_read_probe())

    @tenant_bp.get("/_t/boom")
    def boom():
        _read_probe()
        raise RuntimeError("boom after reading")

    @tenant_bp.get("/_t/savepoint")
    def savepoint():
        nested = db.session.begin_nested()
        db.session.get(TenantSetting, "probe").value = "changed in savepoint"
        db.session.flush()
        nested.rollback()
        result = _read_probe()
        db.session.commit()  # as every write view does: what SET leaves behind survives this
        return jsonify(result)

    @platform_bp.get("/_p/raw")
    def platform_raw():
        try:
            value = db.session.execute(
                sa.text("SELECT value FROM settings WHERE key = 'probe'")
            ).scalar()
        except sa.exc.ProgrammingError:
            db.session.rollback()
            return jsonify({"raw": "no such table"})
        return jsonify({"raw": value})

    app.register_blueprint(tenant_bp, subdomain=TENANT_SITE)
    app.register_blueprint(platform_bp)
    return app


@pytest.fixture(scope="module")
def one_conn_app(database_url, redis_url, tenant_a, tenant_b):
    app = _build_app(database_url, redis_url)
    with app.app_context():
        for ref, value in ((tenant_a, "A"), (tenant_b, "B")):
            with tenant_context(ref):
                db.session.merge(TenantSetting(key="probe", value=value))
                db.session.commit()
    return app


def run_request_sequence(app, tenant_a, tenant_b) -> list:
    a = host_client(app, tenant_a.primary_host)
    b = host_client(app, tenant_b.primary_host)
    platform = host_client(app, PLATFORM)
    observed = [a.get("/_t/probe").json, b.get("/_t/probe").json]
    observed.append(a.get("/_t/boom").status_code)
    observed.append(b.get("/_t/probe").json)
    observed.append(a.get("/_t/savepoint").json)
    observed.append(platform.get("/_p/raw").json)
    observed.append(b.get("/_t/probe").json)
    return observed


EXPECTED = [
    {"orm": "A", "raw": "A"},
    {"orm": "B", "raw": "B"},
    500,
    {"orm": "B", "raw": "B"},
    {"orm": "A", "raw": "A"},
    {"raw": "no such table"},
    {"orm": "B", "raw": "B"},
]


def test_each_request_reads_only_its_tenant_on_a_single_pooled_connection(
    one_conn_app, tenant_a, tenant_b
):
    assert one_conn_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 1
    assert run_request_sequence(one_conn_app, tenant_a, tenant_b) == EXPECTED


def test_sequence_detects_a_session_level_search_path(one_conn_app, tenant_a, tenant_b):
    """A plain ``SET search_path`` (instead of SET LOCAL) leaks to the next request."""

    def leaky(session, transaction, connection):
        schema = session.info.get("tenant_schema")
        if schema:
            connection.exec_driver_sql(f'SET search_path TO "{schema}", public')

    event.remove(TenantSession, "after_begin", core_db._set_local_search_path)
    event.listen(TenantSession, "after_begin", leaky)
    try:
        observed = run_request_sequence(one_conn_app, tenant_a, tenant_b)
    finally:
        event.remove(TenantSession, "after_begin", leaky)
        event.listen(TenantSession, "after_begin", core_db._set_local_search_path)
        with one_conn_app.app_context():  # reset the leaked search_path of the pooled conn
            db.engine.dispose()
    assert observed != EXPECTED
    assert observed[5] == {"raw": "A"}  # the platform request read tenant A's table


def test_switching_tenant_inside_a_transaction_raises(app, tenant_a, tenant_b):
    with app.app_context():
        session = db.session()
        session.set_tenant_schema(tenant_a.schema)
        session.execute(sa.select(TenantSetting).limit(1)).all()
        with pytest.raises(TenantSwitchError):
            session.set_tenant_schema(tenant_b.schema)
        with pytest.raises(TenantSwitchError):
            session.set_tenant_schema(None)
        session.rollback()
        session.set_tenant_schema(tenant_b.schema)  # allowed once the transaction is over


def test_tenant_query_without_tenant_raises(app):
    with app.app_context():
        with pytest.raises(NoTenantError):
            db.session.execute(sa.select(TenantSetting)).all()
        db.session.rollback()
        with pytest.raises(NoTenantError):
            db.session.get(TenantSetting, "site_name")
        db.session.rollback()
        db.session.add(TenantSetting(key="x", value=1))
        with pytest.raises(NoTenantError):
            db.session.flush()
        db.session.rollback()


def test_tenant_table_through_core_without_tenant_never_reads_public(app):
    # Even past the ORM check, the placeholder maps to a schema that does not exist.
    with app.app_context():
        with pytest.raises(sa.exc.ProgrammingError, match="pnyx_no_tenant_selected"):
            with db.engine.connect() as conn:
                conn.execute(sa.select(TenantSetting.__table__))
        with pytest.raises(sa.exc.ProgrammingError, match="pnyx_no_tenant_selected"):
            db.session.connection().execute(sa.select(TenantSetting.__table__))
        db.session.rollback()


def test_raw_sql_lands_in_the_current_tenant_schema(app, tenant_a, tenant_b):
    with app.app_context():
        for ref in (tenant_a, tenant_b):
            with tenant_context(ref):
                schema = db.session.execute(sa.text("SELECT current_schema()")).scalar()
                assert schema == ref.schema
                db.session.execute(
                    sa.text(
                        "INSERT INTO settings (key, value)"
                        " VALUES ('raw', to_jsonb(CAST(:v AS text)))"
                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    ),
                    {"v": ref.slug},
                )
                db.session.commit()
        for ref in (tenant_a, tenant_b):
            with tenant_context(ref):
                assert db.session.get(TenantSetting, "raw").value == ref.slug


def _identity_map_check(app, tenant_a, tenant_b):
    with app.app_context():
        session = db.session()
        session.set_tenant_schema(tenant_a.schema)
        in_a = session.get(TenantSetting, "site_name")
        a_value = in_a.value
        session.commit()
        session.set_tenant_schema(tenant_b.schema)
        in_b = session.get(TenantSetting, "site_name")
        result = (a_value, in_b.value, in_a is in_b)
        session.rollback()
        session.set_tenant_schema(None)
        return result


def test_identity_map_never_returns_a_for_b(app, tenant_a, tenant_b):
    a_value, b_value, same_object = _identity_map_check(app, tenant_a, tenant_b)
    assert a_value == tenant_a.name and b_value == tenant_b.name
    assert not same_object


def test_identity_map_check_detects_a_session_that_keeps_objects(
    app, tenant_a, tenant_b, monkeypatch
):
    def keep_objects(self, schema):
        self.info["tenant_schema"] = schema

    monkeypatch.setattr(TenantSession, "set_tenant_schema", keep_objects)
    a_value, b_value, same_object = _identity_map_check(app, tenant_a, tenant_b)
    assert same_object  # the identity map handed A's object to a query made for B


def test_tenant_context_always_leaves(app, tenant_a):
    from tenants.context import current_tenant

    with app.app_context():
        with pytest.raises(RuntimeError), tenant_context(tenant_a):
            db.session.execute(sa.select(TenantSetting)).all()
            raise RuntimeError("job failed")
        assert current_tenant() is None
        assert db.session().tenant_schema is None
        assert not db.session().in_transaction()
