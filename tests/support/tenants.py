"""Tenants for the tests: provisioned ones come from a pool of schemas kept per worker.

Provisioning a tenant replays the DDL of some fifty tables with their indexes, triggers and
constraints: most of a second on a busy machine, for each of the hundreds of tests that only
need "a fresh, empty, active tenant". :class:`TenantPool` keeps the schemas of the tenants
that tests have finished with and hands them out again, reset so that nothing tells them
from a newly made one:

- the tenant row and everything that points at it in the public schema are deleted (the
  database cascades as for a real deletion), then the row is written again under the same
  id exactly as ``tenants.services.create_tenant`` makes it, with a new slug, so a new host
  (nothing cached for the old host, no rate-limit counter named after it);
- every table of the schema is emptied and every sequence restarts at 1;
- what provisioning writes is written again: the default settings, the provisioning hooks'
  rows (the legal documents), then the status (``active``);
- the caches keyed on the tenant id are dropped: the per-tenant values and the page cache
  (generation counters bumped), the survey results, the rq jobs named after the tenant.

Emptying the tables uses DELETE with the triggers and foreign-key checks off for the
transaction (``session_replication_role = replica``, a superuser setting; the test role is
one): on tables of a few rows it takes milliseconds where ``TRUNCATE … RESTART IDENTITY``
of fifty tables takes close to half a second (it gives every table and index a new file).
Without superuser rights the pool falls back to TRUNCATE.

A schema that a test has changed (a migration test, an archived tenant whose schema is
gone) is not reused: the pool checks the schema's shape before resetting it and makes a new
tenant instead. tests/test_tenant_pool.py proves that a reused tenant equals a new one.

Which tests get what:

- ``make_tenant()``: a pooled tenant, leased until the end of the fixture or test that
  asked for it (see :func:`tests.support.plugin.lease_owner`);
- ``make_tenant(fresh=True)``, or any option (``provision=False``, ``slug=``,
  ``custom_domain=``, ``kind=``, ``verification_required=``): a really new tenant, made by
  the application's own ``create_tenant`` and ``provision_now``, never reused (lifecycle,
  migrations, provisioning, sign-up tests).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.db import db, schema_for_tenant_id
from tests.support.constants import PLATFORM

log = logging.getLogger(__name__)

#: Catalog query: the shape of a tenant schema (every table's columns, in order), to tell a
#: schema still as provisioning left it from one a test has altered.
_SHAPE = sa.text(
    """
    SELECT string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod),
                      ',' ORDER BY c.relname, a.attnum)
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
    """
)
_TABLES = sa.text(
    "SELECT tablename FROM pg_tables WHERE schemaname = :schema"
    " AND tablename <> 'alembic_version' ORDER BY tablename"
)
_RESTART_SEQUENCES = sa.text(
    "SELECT count(setval(c.oid, 1, false)) FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = :schema AND c.relkind = 'S'"
)
#: Public tables with a ``tenant_id`` that no foreign key ties to the tenant (the outbox,
#: the sent-mail journal): deleting the tenant leaves their rows, a new tenant has none.
_LOOSE_TENANT_TABLES = sa.text(
    """
    SELECT c.table_name FROM information_schema.columns c
     WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
       AND NOT EXISTS (
         SELECT 1 FROM pg_constraint k
          WHERE k.contype = 'f' AND k.conrelid = format('public.%I', c.table_name)::regclass
            AND k.confrelid = 'public.tenants'::regclass)
     ORDER BY c.table_name
    """
)
#: provision_now's last step: the status a newly provisioned tenant gets.
_ACTIVATE = sa.text(
    "UPDATE public.tenants SET status = CASE WHEN verification_required"
    " AND verified_at IS NULL THEN 'pending_verification' ELSE 'active' END,"
    " migration_state = 'ok', migration_error = NULL, updated_at = now()"
    " WHERE id = :id"
)


def communes() -> Iterator:
    """Real communes for test tenants, in a fixed order ("Saint-…": thousands of them), one
    of each name: a test may look for one tenant's name on another's pages. Names with an
    apostrophe (Saint-Ouen-l'Aumône) are left out: pages escape it (``&#39;``), and a test
    that looks for the name in a page would depend on which commune it drew. Escaping itself
    has its own tests (tests/participation/test_markup_escaping.py)."""
    from tenants import official

    names: set[str] = set()
    for commune in official.search("saint", limit=5000):
        if commune.kind == "commune" and commune.name not in names and "'" not in commune.name:
            names.add(commune.name)
            yield commune


def new_slug() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


class TenantPool:
    """The tenants of one worker: made new, or reset from those tests gave back."""

    #: Over every pool of the process, for the end-of-session summary: tenants provisioned
    #: (new) and handed out again after a reset (reused).
    totals = {"provisioned": 0, "reused": 0}

    def __init__(self, app, platform: str = PLATFORM) -> None:
        self.app = app
        self.platform = platform  # tenant hosts are <slug>.<platform>
        self._communes = communes()
        self._free: list[int] = []  # tenant ids whose schema can be reset and handed out
        self._shape: str | None = None  # the shape of a freshly provisioned schema
        self._head: str | None = None
        self._superuser: bool | None = None
        self.made = 0
        self.reused = 0

    # -- handing out ------------------------------------------------------------------------
    def make(self, provision: bool = True, **options):
        """A new tenant from the next free commune (``create_tenant`` then, unless
        ``provision`` is false, ``provision_now``); returns its TenantRef."""
        from tenants.context import load_tenant_ref
        from tenants.provisioning import provision_now
        from tenants.services import create_tenant

        with self.app.app_context():
            code = self._free_commune_code()
            slug = options.pop("slug", None) or new_slug()
            tenant = create_tenant(code, self.platform, slug=slug, **options)
            db.session.commit()
            tenant_id = tenant.id
            if provision:
                provision_now(db.engine, tenant_id)
                TenantPool.totals["provisioned"] += 1
            self.made += 1
            return load_tenant_ref(tenant_id)

    def acquire(self):
        """A provisioned, empty, active tenant: a schema given back, reset, else a new one."""
        while self._free:
            tenant_id = self._free.pop()
            ref = self._reset(tenant_id)
            if ref is not None:
                self.reused += 1
                TenantPool.totals["reused"] += 1
                return ref
        ref = self.make()
        if self._shape is None:
            with self.app.app_context(), db.engine.connect() as conn:
                self._shape = conn.scalar(_SHAPE, {"schema": ref.schema})
        return ref

    def release(self, tenant_id: int) -> None:
        """The test is done with it: it is reset when next handed out (not now: the
        teardown of other fixtures of that test may still read it)."""
        if tenant_id not in self._free:
            self._free.append(tenant_id)

    # -- internals --------------------------------------------------------------------------
    def _free_commune_code(self) -> str:
        """The next commune with no tenant yet in this database (a test may have given one
        a space of its own: a demo commune, a commune picked by its code)."""
        from tenants.models import Tenant

        taken = set(db.session.scalars(sa.select(Tenant.code).where(Tenant.kind == "commune")))
        for commune in self._communes:
            if commune.code not in taken:
                return commune.code
        raise LookupError("no commune left for a test tenant")

    def _reusable(self, conn: sa.Connection, schema: str) -> bool:
        from tenants import migrate

        if self._head is None:
            self._head = migrate.head_revision(migrate.TENANT)
        if migrate.read_revision(conn, schema) != self._head:
            return False  # no schema any more (archived, dropped), or another revision
        return conn.scalar(_SHAPE, {"schema": schema}) == self._shape

    def _reset(self, tenant_id: int):
        """Make ``tenant_id`` new again in one transaction; None if its schema cannot be
        reused (the tenant is then left as the test left it)."""
        from tenants.context import load_tenant_ref

        schema = schema_for_tenant_id(tenant_id)
        with self.app.app_context():
            conn = db.session.connection()
            conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
            try:
                if not self._reusable(conn, schema):
                    db.session.rollback()
                    return None
                code = conn.scalar(
                    sa.text("SELECT code FROM public.tenants WHERE id = :id"), {"id": tenant_id}
                )
                self._forget_public_rows(conn, tenant_id)
                tenant = self._write_tenant_row(conn, tenant_id, code)
                self._empty_schema(conn, schema)
                self._provision_again(conn, schema, tenant)
                db.session.commit()
            except sa.exc.DBAPIError:
                # A lock held by a thread the test left behind, a row a cascade cannot
                # remove: that tenant is left as it is.
                log.warning("tenant %s not reused", tenant_id, exc_info=True)
                db.session.rollback()
                return None
            self._drop_caches(tenant_id)
            return load_tenant_ref(tenant_id)

    def _forget_public_rows(self, conn: sa.Connection, tenant_id: int) -> None:
        """Delete the tenant as the database would (cascades, SET NULL), after the rows a
        deletion would not take: platform accounts of its members (their role requires a
        tenant) and rows that name it without a foreign key."""
        for (table,) in conn.execute(_LOOSE_TENANT_TABLES):
            conn.execute(
                sa.text(f'DELETE FROM public."{table}" WHERE tenant_id = :id'), {"id": tenant_id}
            )
        conn.execute(
            sa.text("DELETE FROM public.platform_users WHERE tenant_id = :id"), {"id": tenant_id}
        )
        conn.execute(sa.text("DELETE FROM public.tenants WHERE id = :id"), {"id": tenant_id})

    def _write_tenant_row(self, conn: sa.Connection, tenant_id: int, code: str) -> sa.Row:
        """The rows ``create_tenant`` makes for the commune, under ``tenant_id``: it runs in
        a savepoint (under the next id of the sequence), its rows are read, the savepoint
        rolled back, and the same values written with the reused id."""
        from tenants.models import Domain, Tenant
        from tenants.services import create_tenant

        savepoint = db.session.begin_nested()
        made = create_tenant(code, self.platform, slug=new_slug())
        row = dict(
            conn.execute(sa.select(Tenant.__table__).where(Tenant.id == made.id)).one()._mapping
        )
        domains = [
            {"host": d.host, "is_primary": d.is_primary}
            for d in conn.execute(
                sa.select(Domain.__table__).where(Domain.tenant_id == made.id).order_by(Domain.id)
            )
        ]
        savepoint.rollback()
        row["id"] = tenant_id
        conn.execute(sa.insert(Tenant.__table__).values(row))
        for domain in domains:
            conn.execute(sa.insert(Domain.__table__).values(tenant_id=tenant_id, **domain))
        return conn.execute(
            sa.text("SELECT id, slug, name, status FROM public.tenants WHERE id = :id"),
            {"id": tenant_id},
        ).one()

    def _empty_schema(self, conn: sa.Connection, schema: str) -> None:
        tables = [f'"{schema}"."{name}"' for (name,) in conn.execute(_TABLES, {"schema": schema})]
        if self._superuser is None:
            self._superuser = bool(
                conn.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
            )
        if self._superuser:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("; ".join(f"DELETE FROM {table}" for table in tables))
            conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
            conn.execute(_RESTART_SEQUENCES, {"schema": schema})
        else:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")

    def _provision_again(self, conn: sa.Connection, schema: str, tenant: sa.Row) -> None:
        """What ``tenants.provisioning.provision_now`` writes after the DDL."""
        from tenants.provisioning import default_settings, provisioning_hooks
        from tenants.schema import set_local_search_path

        set_local_search_path(conn, schema)
        conn.execute(
            sa.text("INSERT INTO settings (key, value) VALUES (:k, CAST(:v AS jsonb))"),
            [{"k": k, "v": json.dumps(v)} for k, v in default_settings(tenant).items()],
        )
        for hook in provisioning_hooks:
            hook(conn, tenant)
        conn.execute(_ACTIVATE, {"id": tenant.id})
        conn.exec_driver_sql("SET LOCAL search_path TO public")

    def _drop_caches(self, tenant_id: int) -> None:
        """Caches keyed on the tenant id, in this process and in Redis."""
        from core.redis_client import redis_connection
        from tenants import cache as tenant_values
        from tenants.resolver import get_resolver

        app = self.app
        database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
        redis = redis_connection(app)
        prefix = f"pnyx:{database}:t{tenant_id}:"
        generations = {f"{prefix}values-generation", f"{prefix}pages-generation"}
        stale = [
            key
            for pattern in (f"{prefix}*", f"pnyx:t{tenant_id}:*", f"rq:job:t{tenant_id}-*")
            for key in redis.scan_iter(match=pattern, count=1000)
            if key.decode() not in generations
        ]
        with redis.pipeline(transaction=False) as pipe:
            for key in generations:  # bumped, never deleted: a process compares them
                pipe.incr(key)
            if stale:
                pipe.unlink(*stale)
            pipe.execute()
        with app.app_context():
            tenant_values.invalidate(tenant_id)
            get_resolver(app).invalidate()


def ensure_legal_documents(app, tenant) -> None:
    """The default terms and charter (provisioning writes them; idempotent)."""
    from participation.accounts.legal import insert_default_legal_documents
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        insert_default_legal_documents(db.session.connection(), tenant.name)
        db.session.commit()


class TenantFactory:
    """``make_tenant(...)``: see the module docstring. ``lease`` is called with the id of
    every pooled tenant handed out and must arrange for ``pool.release(id)``."""

    def __init__(self, pool: TenantPool, lease: Callable[[int], None]) -> None:
        self.pool = pool
        self._lease = lease

    def __call__(self, provision: bool = True, fresh: bool = False, **options):
        if fresh or options or not provision:
            return self.pool.make(provision=provision, **options)
        ref = self.pool.acquire()
        self._lease(ref.id)
        return ref
