"""Which tenants a periodic job visits: the one query every feature's scheduler uses."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from core.db import db


def active_tenant_ids(
    slug: str | None = None,
    *,
    ids: Iterable[int] | None = None,
    include_suspended: bool = False,
) -> list[int]:
    """Ids of the active tenants (and the suspended ones, which keep their data and pages,
    when ``include_suspended``), optionally narrowed to one slug or to given ids; in id order.
    Read on its own connection: a scheduler is not inside any tenant's transaction."""
    statuses = ["active", "suspended"] if include_suspended else ["active"]
    query = "SELECT id FROM public.tenants WHERE status = ANY(:statuses)"
    params: dict = {"statuses": statuses}
    if slug:
        query += " AND slug = :slug"
        params["slug"] = slug
    if ids:
        query += " AND id = ANY(:ids)"
        params["ids"] = list(ids)
    with db.engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.text(query + " ORDER BY id"), params)]
