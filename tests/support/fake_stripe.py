"""A fake Stripe behind the real ``stripe`` library: a ``stripe.HTTPClient`` subclass.

The library builds, encodes and sends every request as it would to api.stripe.com; this
client records each one (method, path, decoded parameters, headers — idempotency key
included) and answers from an in-memory Stripe: customers and their tax ids, Checkout and
portal sessions, subscriptions, invoices and events. Like Stripe, a reused idempotency key
replays the first answer, and refuses other parameters.

Tests change the in-memory objects (``set_subscription``, ``add_invoice``…) to play what
happens on Stripe's side, and build signed webhook deliveries with :func:`signed_headers`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION = "2026-10-28.endive"
WEBHOOK_SECRET = "whsec_test_pnyx_billing"
NOW = int(time.time())


@dataclass
class FakeRequest:
    method: str
    path: str
    params: dict  # nested, as Stripe decodes it
    flat: dict  # "items[0][price]" → "price_x", as sent on the wire
    headers: dict = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


def _nest(pairs: list[tuple[str, str]]) -> dict:
    """``items[0][price]=x`` → ``{"items": [{"price": "x"}]}``."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node):
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def _list(data: list, url: str) -> dict:
    return {"object": "list", "data": data, "has_more": False, "url": url}


class StripeDown(Exception):
    pass


class FakeStripe(stripe.HTTPClient):
    name = "fake-stripe"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[FakeRequest] = []
        self.customers: dict[str, dict] = {}
        self.checkout_sessions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.events: list[dict] = []
        self.down = False
        self._idempotent: dict[str, tuple[str, dict, int, dict]] = {}
        self._ids = itertools.count(1)
        # Ids unique across tests too: the test database outlives each fake.
        self._token = uuid.uuid4().hex[:8]
        self._lock = threading.Lock()

    # -- the HTTPClient interface -------------------------------------------------------
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        raw = post_data if method.lower() == "post" else parts.query
        if isinstance(raw, bytes):
            raw = raw.decode()
        pairs = parse_qsl(raw or "", keep_blank_values=True)
        record = FakeRequest(method.upper(), parts.path, _nest(pairs), dict(pairs), dict(headers))
        with self._lock:
            self.requests.append(record)
            if self.down:
                raise stripe.APIConnectionError("fake Stripe is unreachable", should_retry=False)
            status, body = self._answer(record)
        return json.dumps(body), status, {"Request-Id": f"req_{next(self._ids)}"}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError

    def close(self):
        pass

    # -- helpers for the tests ------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self._token}{next(self._ids):06d}"

    def calls(self, method: str, path: str, exact: bool = False) -> list[FakeRequest]:
        """Requests whose path starts with ``path`` (is ``path`` when ``exact``)."""
        return [
            r
            for r in self.requests
            if r.method == method and (r.path == path if exact else r.path.startswith(path))
        ]

    def last(self, method: str, path: str, exact: bool = False) -> FakeRequest:
        found = self.calls(method, path, exact)
        assert found, f"no {method} {path} request was sent"
        return found[-1]

    def add_subscription(
        self,
        *,
        tenant_id: int,
        price: str,
        status: str = "active",
        customer: str | None = None,
        collection_method: str = "send_invoice",
        created: int | None = None,
        **fields,
    ) -> dict:
        customer = customer or self.add_customer(tenant_id)["id"]
        sub_id = fields.pop("id", None) or self.new_id("sub")
        start = created or NOW
        sub = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "collection_method": collection_method,
            "days_until_due": 30 if collection_method == "send_invoice" else None,
            "created": start,
            "start_date": start,
            "metadata": {"tenant_id": str(tenant_id)},
            "trial_end": None,
            "canceled_at": None,
            "ended_at": None,
            "cancel_at_period_end": False,
            "items": _list(
                [
                    {
                        "id": self.new_id("si"),
                        "object": "subscription_item",
                        "price": {"id": price, "object": "price", "currency": "eur"},
                        "quantity": 1,
                        "current_period_start": start,
                        "current_period_end": start + 30 * 86400,
                    }
                ],
                "/v1/subscription_items",
            ),
        }
        sub.update(fields)
        self.subscriptions[sub_id] = sub
        return sub

    def set_subscription(self, sub_id: str, **fields) -> dict:
        self.subscriptions[sub_id].update(fields)
        return self.subscriptions[sub_id]

    def add_customer(self, tenant_id: int, **fields) -> dict:
        customer = {
            "id": self.new_id("cus"),
            "object": "customer",
            "metadata": {"tenant_id": str(tenant_id)},
            "tax_ids": _list([], "/v1/customers/tax_ids"),
        }
        customer.update(fields)
        self.customers[customer["id"]] = customer
        return customer

    def add_invoice(
        self,
        sub_id: str,
        *,
        status: str = "open",
        total: int = 58_800,
        due_date: int | None = None,
        created: int | None = None,
        **fields,
    ) -> dict:
        sub = self.subscriptions[sub_id]
        invoice_id = fields.pop("id", None) or self.new_id("in")
        created = created or NOW
        number = f"PNYX-{next(self._ids):04d}"
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "customer": sub["customer"],
            "number": number,
            "status": status,
            "currency": "eur",
            "total": total,
            "total_excluding_tax": round(total / 1.2),
            "amount_due": total,
            "amount_paid": total if status == "paid" else 0,
            "created": created,
            "due_date": due_date,
            "attempted": False,
            "collection_method": sub["collection_method"],
            "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
            "invoice_pdf": f"https://pay.stripe.com/invoice/{invoice_id}/pdf",
            "status_transitions": {
                "finalized_at": created,
                "paid_at": created + 86400 if status == "paid" else None,
            },
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": sub_id, "metadata": sub["metadata"]},
            },
            "lines": _list(
                [
                    {
                        "id": self.new_id("il"),
                        "object": "line_item",
                        "period": {"start": created, "end": created + 30 * 86400},
                    }
                ],
                "/v1/invoices/lines",
            ),
        }
        invoice.update(fields)
        self.invoices[invoice_id] = invoice
        return invoice

    def set_invoice(self, invoice_id: str, **fields) -> dict:
        invoice = self.invoices[invoice_id]
        invoice.update(fields)
        if fields.get("status") == "paid":
            invoice["amount_paid"] = invoice["amount_due"]
            invoice["status_transitions"]["paid_at"] = invoice["status_transitions"].get(
                "paid_at"
            ) or (invoice["created"] + 86400)
        return invoice

    def event(self, event_type: str, obj: dict, *, created: int | None = None) -> dict:
        """An event as Stripe sends it (the object as it was *then*: a deep copy)."""
        return {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": created or int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": copy.deepcopy(obj)},
        }

    # -- the fake API ---------------------------------------------------------------------
    def _error(self, status: int, message: str, code: str = "resource_missing", kind=None):
        return status, {
            "error": {
                "type": kind or "invalid_request_error",
                "code": code,
                "message": message,
            }
        }

    def _answer(self, request: FakeRequest) -> tuple[int, dict]:
        key = request.idempotency_key
        if key and request.method == "POST":
            seen = self._idempotent.get(key)
            if seen is not None:
                path, params, status, body = seen
                if path != request.path or params != request.params:
                    return self._error(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters",
                        code="idempotency_key_in_use",
                        kind="idempotency_error",
                    )
                return status, copy.deepcopy(body)
        status, body = self._route(request)
        if key and request.method == "POST":
            self._idempotent[key] = (request.path, request.params, status, copy.deepcopy(body))
        return status, copy.deepcopy(body)

    def _route(self, request: FakeRequest) -> tuple[int, dict]:
        method, path, params = request.method, request.path, request.params
        segments = path.strip("/").split("/")[1:]  # drop "v1"
        if segments == ["customers"] and method == "POST":
            return 200, self._create_customer(params)
        if len(segments) == 2 and segments[0] == "customers":
            customer = self.customers.get(segments[1])
            if customer is None:
                return self._error(404, "No such customer")
            if method == "POST":
                customer.update({k: v for k, v in params.items() if k != "tax_id_data"})
            return 200, customer
        if len(segments) == 3 and segments[0] == "customers" and segments[2] == "tax_ids":
            customer = self.customers.get(segments[1])
            if customer is None:
                return self._error(404, "No such customer")
            if method == "POST":
                tax_id = self._tax_id(customer["id"], params["type"], params["value"])
                customer["tax_ids"]["data"].append(tax_id)
                return 200, tax_id
            return 200, customer["tax_ids"]
        if segments == ["checkout", "sessions"] and method == "POST":
            session_id = self.new_id("cs_test")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "subscription": None,
                "status": "open",
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            }
            self.checkout_sessions[session_id] = session
            return 200, session
        if len(segments) == 3 and segments[:2] == ["checkout", "sessions"]:
            session = self.checkout_sessions.get(segments[2])
            return (200, session) if session else self._error(404, "No such checkout session")
        if segments == ["billing_portal", "sessions"] and method == "POST":
            session_id = self.new_id("bps")
            return 200, {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": params.get("customer"),
                "return_url": params.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/{session_id}",
            }
        if segments == ["subscriptions"] and method == "POST":
            return 200, self._create_subscription(params)
        if segments == ["subscriptions"] and method == "GET":
            data = [
                sub
                for sub in self.subscriptions.values()
                if params.get("customer") in (None, sub["customer"])
                and (params.get("status", "all") == "all" or sub["status"] == params["status"])
            ]
            data.sort(key=lambda sub: sub["created"], reverse=True)
            return 200, _list(data[: int(params.get("limit", 10))], "/v1/subscriptions")
        if len(segments) == 2 and segments[0] == "subscriptions":
            sub = self.subscriptions.get(segments[1])
            if sub is None:
                return self._error(404, "No such subscription")
            if method == "POST":
                self._update_subscription(sub, params)
            return 200, sub
        if segments == ["invoices"] and method == "GET":
            wanted = params.get("subscription")
            data = [
                inv
                for inv in self.invoices.values()
                if wanted is None or inv["parent"]["subscription_details"]["subscription"] == wanted
            ]
            data.sort(key=lambda inv: inv["created"], reverse=True)
            return 200, _list(data[: int(params.get("limit", 10))], "/v1/invoices")
        if len(segments) == 2 and segments[0] == "invoices":
            invoice = self.invoices.get(segments[1])
            return (200, invoice) if invoice else self._error(404, "No such invoice")
        if len(segments) == 3 and segments[0] == "invoices" and segments[2] == "pay":
            invoice = self.invoices.get(segments[1])
            if invoice is None:
                return self._error(404, "No such invoice")
            if invoice["status"] != "open":
                return self._error(400, "Invoice is already paid", code="invoice_not_open")
            self.set_invoice(invoice["id"], status="paid")
            return 200, invoice
        if segments == ["events"] and method == "GET":
            return 200, _list(list(self.events), "/v1/events")
        return self._error(404, f"Unrecognized request URL ({method} {path})")

    def _tax_id(self, customer_id: str, kind: str, value: str) -> dict:
        return {
            "id": self.new_id("txi"),
            "object": "tax_id",
            "customer": customer_id,
            "type": kind,
            "value": value,
        }

    def _create_customer(self, params: dict) -> dict:
        customer = {
            "id": self.new_id("cus"),
            "object": "customer",
            "name": params.get("name"),
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
            "invoice_settings": params.get("invoice_settings", {}),
            "preferred_locales": params.get("preferred_locales", []),
            "tax_ids": _list([], "/v1/customers/tax_ids"),
        }
        for item in params.get("tax_id_data", []):
            customer["tax_ids"]["data"].append(
                self._tax_id(customer["id"], item["type"], item["value"])
            )
        self.customers[customer["id"]] = customer
        return customer

    def _create_subscription(self, params: dict) -> dict:
        metadata = params.get("metadata", {})
        trial_end = int(params["trial_end"]) if params.get("trial_end") else None
        return self.add_subscription(
            tenant_id=int(metadata.get("tenant_id", 0)),
            price=params["items"][0]["price"],
            customer=params["customer"],
            collection_method=params.get("collection_method", "charge_automatically"),
            status="trialing" if trial_end else "active",
            trial_end=trial_end,
            metadata=metadata,
            days_until_due=int(params["days_until_due"]) if "days_until_due" in params else None,
        )

    def _update_subscription(self, sub: dict, params: dict) -> None:
        for key in ("collection_method", "metadata"):
            if key in params:
                sub[key] = params[key]
        if "days_until_due" in params:
            sub["days_until_due"] = int(params["days_until_due"])
        if params.get("trial_end"):
            sub["trial_end"] = int(params["trial_end"])
        for change in params.get("items", []):
            for item in sub["items"]["data"]:
                if item["id"] == change.get("id"):
                    item["price"] = {"id": change["price"], "object": "price", "currency": "eur"}


def signed_headers(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """The ``Stripe-Signature`` header Stripe would send: ``t=<ts>,v1=<HMAC-SHA256>``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}"}
