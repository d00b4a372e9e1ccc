"""Stripe synchronisation: Stripe's values as plain data, and storing what Stripe says of
a subscription and its invoices.

Webhook jobs and the reconcile re-read the subscription and its invoices from Stripe before
storing them, and :func:`_should_adopt` picks the current subscription whatever the order
the events arrived in; the state is then recomputed from the stored facts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa

from billing.models import Invoice, InvoiceStatus, Plan, Subscription
from billing.services.common import record_operator_action
from billing.services.plans import plan_below_tier
from billing.services.state import DEAD_STRIPE_STATUSES
from billing.services.subscriptions import refresh_state
from core import clock
from core.db import db
from tenants.models import Tenant

log = logging.getLogger(__name__)

#: Invoices read back from Stripe on every sync of a subscription.
INVOICES_PER_SYNC = 24


# --------------------------------------------------------------------------- Stripe values


def plain(obj) -> dict:
    """A Stripe object (or an event's data) as a plain dict."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def from_epoch(value) -> datetime | None:
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def to_epoch(value: datetime) -> int:
    return int(value.timestamp())


def id_of(value) -> str | None:
    """An expandable field: an id, or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def subscription_id_of_invoice(invoice: dict) -> str | None:
    """Since API 2025-03-31 the subscription sits under ``parent.subscription_details``."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return id_of(details.get("subscription")) or id_of(invoice.get("subscription"))


def first_item(stripe_sub: dict) -> dict:
    data = (stripe_sub.get("items") or {}).get("data") or []
    return data[0] if data else {}


def stripe_metadata(sub: Subscription, tenant: Tenant, plan: Plan | None = None) -> dict:
    data = {"tenant_id": str(tenant.id), "tenant_slug": tenant.slug}
    if plan is not None:
        data["plan"] = plan.code
    return data


def has_live_stripe_subscription(sub: Subscription) -> bool:
    return bool(sub.stripe_subscription_id) and sub.stripe_status not in DEAD_STRIPE_STATUSES


# --------------------------------------------------------------------------- sync


def _should_adopt(sub: Subscription, incoming: dict) -> bool:
    """Is ``incoming`` the tenant's current Stripe subscription? A live one beats a dead
    one, then the most recent wins: the answer does not depend on the events' order."""
    if sub.stripe_subscription_id in (None, incoming.get("id")):
        return True
    incoming_live = incoming.get("status") not in DEAD_STRIPE_STATUSES
    current_live = sub.stripe_status not in DEAD_STRIPE_STATUSES
    if incoming_live != current_live:
        return incoming_live
    created = from_epoch(incoming.get("created"))
    if sub.stripe_created_at is None:
        return True
    return created is not None and created > sub.stripe_created_at


def apply_subscription_state(
    sub: Subscription, stripe_sub: dict, now: datetime | None = None
) -> str:
    """Copy what Stripe says of the subscription (status, plan, period, trial, end), then
    recompute the billing state. Returns the new state."""
    now = now or clock.utcnow()
    status = stripe_sub.get("status")
    sub.stripe_subscription_id = stripe_sub.get("id") or sub.stripe_subscription_id
    sub.stripe_status = status
    sub.stripe_created_at = from_epoch(stripe_sub.get("created")) or sub.stripe_created_at
    sub.stripe_customer_id = id_of(stripe_sub.get("customer")) or sub.stripe_customer_id
    if stripe_sub.get("collection_method"):
        sub.collection_method = stripe_sub["collection_method"]
    item = first_item(stripe_sub)
    price_id = id_of(item.get("price"))
    if price_id:
        plan = db.session.scalar(sa.select(Plan).where(Plan.stripe_price_id == price_id))
        if plan is not None and plan.id != sub.plan_id and plan_below_tier(plan, sub.tenant):
            # A price changed at Stripe (Customer Portal, dashboard) to a stratum below the
            # collectivité's: not adopted; the operator sees it in the journal and the
            # console, and settles it with the collectivité.
            log.warning(
                "tenant %s: Stripe price %s (plan %s) is below its population, not adopted",
                sub.tenant_id,
                price_id,
                plan.code,
            )
            record_operator_action(
                "billing.plan_refused",
                None,
                sub.tenant_id,
                plan=plan.code,
                current_plan=sub.plan.code if sub.plan else None,
                source="stripe",
                stripe_subscription_id=sub.stripe_subscription_id,
            )
        elif plan is not None:
            sub.plan = plan
    period_end = item.get("current_period_end") or stripe_sub.get("current_period_end")
    sub.current_period_end = from_epoch(period_end) or sub.current_period_end
    if stripe_sub.get("trial_end"):
        sub.trial_ends_at = from_epoch(stripe_sub["trial_end"])
    if status in DEAD_STRIPE_STATUSES:
        ended = stripe_sub.get("ended_at") or stripe_sub.get("canceled_at")
        sub.canceled_at = from_epoch(ended) or sub.canceled_at or now
    sub.pending_stripe = False
    db.session.flush()
    return refresh_state(sub, now)


def upsert_invoice(
    sub: Subscription, stripe_invoice: dict, *, known: dict[str, Invoice] | None = None
) -> Invoice | None:
    """Store the invoice as Stripe has it now (drafts are not shown to anyone).

    ``known``: rows already loaded by Stripe id (a sync reads them in one query)."""
    invoice_id = stripe_invoice.get("id")
    status = stripe_invoice.get("status")
    if not invoice_id or status not in set(InvoiceStatus):
        return None
    if known is not None:
        row = known.get(invoice_id)
    else:
        row = db.session.scalar(sa.select(Invoice).where(Invoice.stripe_invoice_id == invoice_id))
    if row is None:
        row = Invoice(tenant_id=sub.tenant_id, subscription_id=sub.id, stripe_invoice_id=invoice_id)
        db.session.add(row)
    transitions = stripe_invoice.get("status_transitions") or {}
    finalized = from_epoch(transitions.get("finalized_at"))
    row.number = stripe_invoice.get("number")
    row.status = status
    row.currency = stripe_invoice.get("currency") or "eur"
    row.total_cents = int(stripe_invoice.get("total") or 0)
    excl = stripe_invoice.get("total_excluding_tax")
    row.total_excl_vat_cents = int(excl) if excl is not None else None
    row.amount_due_cents = int(stripe_invoice.get("amount_due") or 0)
    row.amount_paid_cents = int(stripe_invoice.get("amount_paid") or 0)
    row.issued_at = finalized or from_epoch(stripe_invoice.get("created"))
    # Sent invoices have a due date; a card invoice is late once its payment failed.
    due = from_epoch(stripe_invoice.get("due_date"))
    if due is None and stripe_invoice.get("attempted"):
        due = finalized
    row.due_at = due
    lines = (stripe_invoice.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") if lines else None) or {}
    row.period_start = from_epoch(period.get("start") or stripe_invoice.get("period_start"))
    row.period_end = from_epoch(period.get("end") or stripe_invoice.get("period_end"))
    row.paid_at = from_epoch(transitions.get("paid_at")) or row.paid_at
    row.hosted_invoice_url = stripe_invoice.get("hosted_invoice_url")
    row.invoice_pdf_url = stripe_invoice.get("invoice_pdf")
    if known is None:
        db.session.flush()
    return row


def sync_stripe_subscription(
    sub: Subscription,
    client,
    stripe_subscription_id: str,
    now: datetime | None = None,
    *,
    stripe_sub: dict | None = None,
) -> str:
    """Re-read a Stripe subscription and its latest invoices, store them, recompute."""
    now = now or clock.utcnow()
    if stripe_sub is None:
        stripe_sub = plain(client.v1.subscriptions.retrieve(stripe_subscription_id))
    invoices = client.v1.invoices.list(
        {"subscription": stripe_subscription_id, "limit": INVOICES_PER_SYNC}
    )
    found = [plain(stripe_invoice) for stripe_invoice in invoices.data]
    ids = [invoice["id"] for invoice in found if invoice.get("id")]
    known = {
        row.stripe_invoice_id: row
        for row in db.session.scalars(sa.select(Invoice).where(Invoice.stripe_invoice_id.in_(ids)))
    }
    for invoice in found:
        upsert_invoice(sub, invoice, known=known)
    db.session.flush()
    if _should_adopt(sub, stripe_sub):
        return apply_subscription_state(sub, stripe_sub, now)
    return refresh_state(sub, now)
