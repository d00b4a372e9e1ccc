"""Schema names that are not ``t_<digits>`` are refused wherever they could reach SQL."""

from __future__ import annotations

import pytest

from core.db import (
    InvalidSchemaName,
    check_schema_name,
    db,
    engine_for_schema,
    schema_for_tenant_id,
)
from tenants import migrate, schema
from tenants.context import TenantRef

BAD_NAMES = [
    "public",
    "t_",
    "t_1; DROP SCHEMA public",
    't_1"',
    "T_1",
    "t_1 ",
    "t_-1",
    "t_1a",
    "pg_catalog",
    "tenant",
    "",
    None,
    5,
    "t_１",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_check_schema_name_refuses(name):
    with pytest.raises(InvalidSchemaName):
        check_schema_name(name)


@pytest.mark.parametrize("tenant_id", [0, -1, "1", True, 1.0, None])
def test_schema_for_tenant_id_refuses(tenant_id):
    with pytest.raises(InvalidSchemaName):
        schema_for_tenant_id(tenant_id)


def test_good_names():
    assert check_schema_name("t_12") == "t_12"
    assert schema_for_tenant_id(12) == "t_12"
    assert schema.quote_schema("t_12") == '"t_12"'


@pytest.mark.parametrize("name", ["public", 't_1" CASCADE; --', "information_schema"])
def test_every_sql_entry_point_refuses(app, name):
    with app.app_context():
        with pytest.raises(InvalidSchemaName):
            db.session().set_tenant_schema(name)
        with pytest.raises(InvalidSchemaName):
            engine_for_schema(db.engine, name)
        with db.engine.connect() as conn:
            for func in (
                schema.create_schema,
                schema.drop_schema,
                schema.schema_exists,
                schema.set_local_search_path,
                migrate.read_revision,
            ):
                with pytest.raises(InvalidSchemaName):
                    func(conn, name)
            with pytest.raises(InvalidSchemaName):
                migrate.upgrade_schema_in_transaction(conn, name, "1s")
            conn.rollback()
        with pytest.raises(InvalidSchemaName):
            schema.quote_schema(name)


def test_tenant_ref_schema_comes_from_the_id_only():
    ref = TenantRef(
        id=7,
        slug="public",
        name="x",
        kind="commune",
        code="1",
        siren=None,
        population=0,
        departement=None,
        region=None,
        status="active",
        primary_host="public.pnyx.test",
    )
    assert ref.schema == "t_7"
