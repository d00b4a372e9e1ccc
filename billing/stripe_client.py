"""The Stripe client: one configured ``stripe.StripeClient`` per app, short timeouts,
idempotency keys built from business ids.

Without ``STRIPE_SECRET_KEY`` (the demo, a developer's machine) :func:`get_client` raises
:class:`StripeNotConfigured`; callers turn that into a French explanation or a local
"pending Stripe" record, never a stack trace.

Tests replace the HTTP layer with :func:`use_http_client` (a ``stripe.HTTPClient``
subclass), so the real library builds and parses every request.
"""

from __future__ import annotations

import hashlib
import json
import re

import stripe
from flask import Flask, current_app

#: Seconds to open the connection, then to read the answer. A hung Stripe must not hold a
#: web worker: the user gets a French "try again" message instead.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
#: Network retries by the library itself, with the same idempotency key.
MAX_NETWORK_RETRIES = 2

_CLIENT_KEY = "pnyx_stripe_client"
_HTTP_CLIENT_KEY = "pnyx_stripe_http_client"
_KEY_SAFE = re.compile(r"[^A-Za-z0-9_.:-]")


class StripeNotConfigured(RuntimeError):
    """No Stripe secret key: online payment is not available on this platform."""


def is_configured(app: Flask | None = None) -> bool:
    app = app or current_app
    return bool(app.config.get("STRIPE_SECRET_KEY"))


def use_http_client(app: Flask, http_client: stripe.HTTPClient | None) -> None:
    """Send every Stripe request of ``app`` through ``http_client`` (None: the default)."""
    if http_client is None:
        app.extensions.pop(_HTTP_CLIENT_KEY, None)
    else:
        app.extensions[_HTTP_CLIENT_KEY] = http_client
    app.extensions.pop(_CLIENT_KEY, None)


def _http_client(app: Flask) -> stripe.HTTPClient:
    client = app.extensions.get(_HTTP_CLIENT_KEY)
    if client is None:
        client = stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        app.extensions[_HTTP_CLIENT_KEY] = client
    return client


def get_client(app: Flask | None = None) -> stripe.StripeClient:
    """The app's Stripe client (rebuilt when the key or the HTTP client changed)."""
    app = app or current_app
    api_key = app.config.get("STRIPE_SECRET_KEY")
    if not api_key:
        raise StripeNotConfigured("STRIPE_SECRET_KEY is not set")
    http_client = _http_client(app)
    cached = app.extensions.get(_CLIENT_KEY)
    if cached is not None and cached[0] == api_key and cached[1] is http_client:
        return cached[2]
    client = stripe.StripeClient(
        api_key, http_client=http_client, max_network_retries=MAX_NETWORK_RETRIES
    )
    app.extensions[_CLIENT_KEY] = (api_key, http_client, client)
    return client


def idempotency_key(tenant_id: int, *parts: object, params: dict | None = None) -> str:
    """``pnyx-<tenant>-<what>-<business ids…>[-<digest>]``: a retried request is the same
    request, so Stripe never creates a customer or a subscription twice.

    The parts include the subscription's attempt counter, bumped by each user action that
    succeeds. ``params`` adds a digest of the request's parameters: after a failure (the
    counter rolled back with the transaction), the same request replays Stripe's answer,
    while a corrected one (another purchase-order number) is a new request instead of an
    idempotency error.
    """
    raw = "-".join(["pnyx", str(int(tenant_id)), *(str(part) for part in parts)])
    if params is not None:
        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
        raw += "-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]
    return _KEY_SAFE.sub("_", raw)[:255]


def options(key: str) -> dict:
    return {"idempotency_key": key}
