"""The tenant pool of the tests (tests/support/tenants.py): a tenant handed out again after a
test has used it in every way a test can is indistinguishable from a new one."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import PLATFORM, create_person, platform_user
from tests.support.billing import subscribe
from tests.support.participation import make_process
from tests.support.tenants import TenantFactory, TenantPool

#: Columns that differ between any two new tenants: who they are, and when they were made.
OWN_COLUMNS = {
    "id",
    "slug",
    "name",
    "code",
    "siren",
    "population",
    "departement",
    "region",
    "created_at",
    "updated_at",
}


@pytest.fixture
def pool(app):
    """A pool of this test alone, its leases given back by hand."""
    return TenantPool(app)


def tenant_row(app, tenant_id: int) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        return dict(
            conn.execute(sa.text("SELECT * FROM public.tenants WHERE id = :id"), {"id": tenant_id})
            .one()
            ._mapping
        )


def public_rows(app, tenant_id: int) -> dict[str, int]:
    """Rows of the public tables that name the tenant, by table (domains apart)."""
    with app.app_context(), db.engine.connect() as conn:
        tables = conn.scalars(
            sa.text(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name = 'tenant_id' AND table_name <> 'domains' ORDER BY 1"
            )
        ).all()
        return {
            table: conn.scalar(
                sa.text(f'SELECT count(*) FROM public."{table}" WHERE tenant_id = :id'),
                {"id": tenant_id},
            )
            for table in tables
        }


def schema_content(app, ref) -> dict:
    """Every row of every table of the tenant's schema (the tenant's name and the times
    rows were written made neutral), and where every sequence stands."""
    out: dict = {}
    with app.app_context(), db.engine.connect() as conn:
        tables = conn.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"),
            {"s": ref.schema},
        ).all()
        for table in tables:
            rows = conn.scalars(sa.text(f'SELECT to_jsonb(t) FROM "{ref.schema}"."{table}" t'))
            out[table] = sorted(
                json.dumps(
                    {k: v for k, v in row.items() if not k.endswith("_at")},
                    sort_keys=True,
                    ensure_ascii=False,
                ).replace(ref.name, "NAME")
                for row in rows
            )
        for name, last_value, is_called in conn.execute(
            sa.text(
                "SELECT sequencename, last_value, last_value IS NOT NULL"
                " FROM pg_sequences WHERE schemaname = :s ORDER BY 1"
            ),
            {"s": ref.schema},
        ):
            out[f"sequence {name}"] = (last_value, is_called)
    return out


def domains(app, tenant_id: int) -> list[tuple[str, bool]]:
    with app.app_context(), db.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text("SELECT host, is_primary FROM public.domains WHERE tenant_id = :id"),
                {"id": tenant_id},
            )
        ]


def use_every_way(app, billing_app, ref) -> None:
    """What tests do to a tenant: accounts, content, settings, status, population, a custom
    domain, a subscription, a member platform account, an outbox row, cached values."""
    from core.redis_client import redis_connection

    create_person(app, ref, "admin")
    create_person(app, ref, None)
    make_process(app, ref)
    platform_user(app, "member", tenant_id=ref.id)
    subscribe(billing_app, ref, "commune-xs-month")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            sa.text(f'UPDATE "{ref.schema}".settings SET value = \'"#000000"\' WHERE key = :k'),
            {"k": "primary_colour"},
        )
        conn.execute(
            sa.text(
                "UPDATE public.tenants SET status = 'suspended', population = 7,"
                " verification_required = true, name = 'Renommée' WHERE id = :id"
            ),
            {"id": ref.id},
        )
        conn.execute(
            sa.text(
                "INSERT INTO public.domains (host, tenant_id, is_primary) VALUES (:h, :id, false)"
            ),
            {"h": f"participez-{ref.id}.exemple.fr", "id": ref.id},
        )
        conn.execute(
            sa.text(
                "INSERT INTO public.job_outbox (queue, func_name, payload, tenant_id)"
                " VALUES ('default', 'x', '\\x00', :id)"
            ),
            {"id": ref.id},
        )
    with app.app_context():
        database = db.engine.url.database
        redis_connection(app).set(f"pnyx:{database}:t{ref.id}:page:0:x", b"stale page")


def test_a_reused_tenant_is_indistinguishable_from_a_new_one(app, billing_app, pool):
    used = pool.acquire()
    use_every_way(app, billing_app, used)
    pool.release(used.id)

    reused = pool.acquire()
    new = pool.make()

    assert reused.id == used.id, "the schema was not reused"
    assert pool.reused == 1
    assert reused.slug != used.slug and reused.primary_host == f"{reused.slug}.{PLATFORM}"
    assert reused.status == new.status == "active"
    row, new_row = tenant_row(app, reused.id), tenant_row(app, new.id)
    assert {k: v for k, v in row.items() if k not in OWN_COLUMNS} == {
        k: v for k, v in new_row.items() if k not in OWN_COLUMNS
    }
    assert domains(app, reused.id) == [(reused.primary_host, True)]
    assert public_rows(app, reused.id) == public_rows(app, new.id)
    assert all(count == 0 for count in public_rows(app, reused.id).values())
    assert schema_content(app, reused) == schema_content(app, new)

    # Ids restart: the first account of the reused tenant is number 1, as in the new one.
    assert create_person(app, reused, None).id == create_person(app, new, None).id == 1

    from core.redis_client import redis_connection

    with app.app_context():
        database = db.engine.url.database
        assert not redis_connection(app).exists(f"pnyx:{database}:t{reused.id}:page:0:x")


def test_its_site_answers_as_a_new_one(app, pool, client_for):
    used = pool.acquire()
    create_person(app, used, "admin")
    pool.release(used.id)
    reused = pool.acquire()
    assert reused.id == used.id
    assert client_for(used.primary_host).get("/").status_code == 404  # the old host is gone
    page = client_for(reused.primary_host).get("/")
    assert page.status_code == 200 and reused.name in page.text


def test_a_schema_a_test_has_altered_is_not_reused(app, pool):
    used = pool.acquire()
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(f'ALTER TABLE "{used.schema}".users ADD COLUMN extra int')
    pool.release(used.id)
    again = pool.acquire()
    assert again.id != used.id and pool.reused == 0


def test_an_archived_tenant_without_its_schema_is_not_reused(app, pool):
    used = pool.acquire()
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{used.schema}" CASCADE')
        conn.execute(
            sa.text("UPDATE public.tenants SET status = 'archived' WHERE id = :id"),
            {"id": used.id},
        )
    pool.release(used.id)
    assert pool.acquire().id != used.id


def test_fresh_tenants_and_options_never_come_from_the_pool(app, pool):
    leased: list[int] = []
    make_tenant = TenantFactory(pool, leased.append)
    pooled = make_tenant()
    pool.release(pooled.id)
    fresh = make_tenant(fresh=True)
    unprovisioned = make_tenant(provision=False)
    assert fresh.id != pooled.id and unprovisioned.id != pooled.id
    assert unprovisioned.status == "provisioning"
    assert leased == [pooled.id]  # only pooled tenants are leased (and given back)
    assert make_tenant().id == pooled.id


def test_a_fixture_keeps_its_tenant_until_its_own_end(make_tenant, tenant_pool, tenant):
    """``tenant`` (module scope) is leased to its fixture: a test's own tenant is another."""
    mine = make_tenant()
    assert mine.id != tenant.id
    assert tenant.id not in tenant_pool._free and mine.id not in tenant_pool._free
