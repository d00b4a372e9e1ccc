"""Opaque keyset cursors: the sort key of the last item of a page, signed.

A cursor says "continue after this row" rather than "skip N rows": a page never repeats or
skips an item when contributions arrive meanwhile, and deep pages cost as little as the
first. The signature (the app's secret key, a salt per tenant and per list) turns a
tampered or foreign cursor into a clean 400 instead of a query on arbitrary values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from core.db import db
from core.errors import abort_with
from tenants.context import current_tenant


def _serializer(listing: str) -> URLSafeSerializer:
    tenant = current_tenant()
    salt = f"pnyx-api-cursor|{tenant.id if tenant else 0}|{listing}"
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def encode(listing: str, key: list[Any]) -> str:
    return _serializer(listing).dumps(key)


def decode(listing: str, cursor: str | None, size: int) -> list[Any] | None:
    """The sort key carried by ``cursor`` (``size`` values), None without a cursor."""
    if not cursor:
        return None
    try:
        key = _serializer(listing).loads(cursor)
    except BadSignature:
        key = None
    if not isinstance(key, list) or len(key) != size:
        abort_with(400, _("Le curseur de pagination est invalide ou a expiré."))
    return key


def page(items: list, limit: int, listing: str, key: Callable[[Any], list[Any]]) -> dict:
    """The envelope of a list: ``limit + 1`` rows were fetched to know if more follow."""
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode(listing, key(items[-1])) if more and items else None
    return {"items": items, "next_cursor": next_cursor}


def by_id(
    listing: str,
    query: sa.Select,
    id_column: Any,
    params: dict[str, Any],
    *,
    newest_first: bool = True,
    rows: bool = False,
) -> dict:
    """The page of ``query`` after the request's cursor, in the order of ``id_column``
    (newest first, or oldest first), as :func:`page`'s envelope. ``rows``: the query selects
    more than an entity (counts), items are rows and the key is the first entity's id."""
    after = decode(listing, params["cursor"], 1)
    limit = params["limit"]
    query = query.order_by(id_column.desc() if newest_first else id_column).limit(limit + 1)
    if after:
        last = int(after[0])
        query = query.where(id_column < last if newest_first else id_column > last)
    if rows:
        return page(list(db.session.execute(query).all()), limit, listing, lambda r: [r[0].id])
    return page(list(db.session.scalars(query)), limit, listing, lambda item: [item.id])


def of_process(query: sa.Select, model: Any, params: dict[str, Any]) -> sa.Select:
    """``query`` narrowed to the process of the ``process`` parameter, when one is given."""
    if params["process"]:
        query = query.where(model.process_id == params["process"])
    return query


def listing_json(
    listing: str, query: sa.Select, model: Any, params: dict[str, Any], to_json: Callable
) -> dict:
    """A list endpoint's answer: the ``process``-filtered page of ``query``, newest first,
    each item through ``to_json``."""
    result = by_id(listing, of_process(query, model, params), model.id, params)
    result["items"] = [to_json(item) for item in result["items"]]
    return result
