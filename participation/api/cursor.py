"""Opaque keyset cursors: the sort key of the last item of a page, signed.

A cursor says "continue after this row" rather than "skip N rows": a page never repeats or
skips an item when contributions arrive meanwhile, and deep pages cost as little as the
first. The signature (the app's secret key, a salt per tenant and per list) turns a
tampered or foreign cursor into a clean 400 instead of a query on arbitrary values.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

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
