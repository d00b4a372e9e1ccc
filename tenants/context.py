"""The current tenant: a small immutable snapshot, and entering/leaving its context."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context

from core.db import db, schema_for_tenant_id


@dataclass(frozen=True, slots=True)
class TenantRef:
    """What a request or a job needs to know about its tenant; never an ORM object, so it can
    be cached across requests and threads."""

    id: int
    slug: str
    name: str
    kind: str
    code: str
    siren: str | None
    population: int
    departement: str | None
    region: str | None
    status: str
    primary_host: str | None

    @property
    def schema(self) -> str:
        return schema_for_tenant_id(self.id)

    @property
    def is_writable(self) -> bool:
        return self.status == "active"


_REF_QUERY = sa.text(
    """
    SELECT t.id, t.slug, t.name, t.kind, t.code, t.siren, t.population, t.departement,
           t.region, t.status,
           (SELECT d.host FROM public.domains d WHERE d.tenant_id = t.id
             ORDER BY d.is_primary DESC, d.id LIMIT 1) AS primary_host
      FROM public.tenants t
    """
)


def row_to_ref(row: Any) -> TenantRef:
    return TenantRef(**row._mapping)


def load_tenant_ref(tenant_id: int) -> TenantRef | None:
    """Read a tenant on a connection of its own, outside the ORM session (which may be
    about to be bound to that tenant)."""
    stmt = sa.text(f"{_REF_QUERY.text} WHERE t.id = :id")
    with db.engine.connect() as conn:
        row = conn.execute(stmt, {"id": tenant_id}).first()
    return row_to_ref(row) if row else None


def current_tenant() -> TenantRef | None:
    return g.get("tenant") if has_app_context() else None


def enter_tenant(ref: TenantRef) -> None:
    """Bind this app context's session to ``ref``'s schema (raises inside a transaction)."""
    db.session().set_tenant_schema(ref.schema)
    g.tenant = ref


def leave_tenant() -> None:
    session = db.session()
    session.rollback()
    session.set_tenant_schema(None)
    g.pop("tenant", None)


@contextmanager
def tenant_context(tenant: TenantRef | int) -> Iterator[TenantRef]:
    """Enter a tenant for the body and always leave it, rolling back anything uncommitted."""
    ref = tenant if isinstance(tenant, TenantRef) else load_tenant_ref(tenant)
    if ref is None:
        raise LookupError(f"tenant {tenant!r} does not exist")
    previous = current_tenant()
    enter_tenant(ref)
    try:
        yield ref
    finally:
        leave_tenant()
        if previous is not None:
            enter_tenant(previous)


def tenant_job(func: Callable) -> Callable:
    """For rq jobs taking ``tenant_id`` first: a fresh app context inside that tenant."""
    from core.jobs import job

    @functools.wraps(func)
    def in_tenant(tenant_id: int, *args: Any, **kwargs: Any):
        with tenant_context(tenant_id):
            return func(tenant_id, *args, **kwargs)

    return job(in_tenant)


def tenant_job_id(tenant_id: int, name: str, key: Any = "") -> str:
    """Job ids carry the tenant id (docs/architecture.md, tenancy rule 8); rq allows
    [A-Za-z0-9_-] only."""
    raw = f"t{int(tenant_id)}-{name}-{key}" if key != "" else f"t{int(tenant_id)}-{name}"
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)
