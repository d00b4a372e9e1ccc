"""Delivery order does not matter: a shuffled stream of 1,000 webhook deliveries (with
duplicates) ends in the same tenant states as the same events delivered in order.

Each tenant lives a story on the fake Stripe (card subscription and renewals, invoices paid
late or never, cancellation, a new subscription after a cancellation, a plan change); every
step emits the event Stripe would, with the object as it was then. The events are delivered
through the real webhook (signed), processed by the job, which re-reads Stripe.
"""

from __future__ import annotations

import random
import time

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import PLATFORM, host_client
from tests.support.billing import deliver, price_id, subscribe, utc

DAY = 86_400
STREAM_SIZE = 1_000
TENANTS_PER_STORY = 2

STORIES = {
    "card_active": ("active", "commune-xs-month"),
    "invoice_past_due": ("past_due", "commune-xs-month"),
    "invoice_read_only": ("read_only", "commune-xs-month"),
    "canceled": ("canceled", "commune-xs-month"),
    "recovered": ("active", "commune-xs-month"),
    "resubscribed": ("active", "commune-xs-year"),
    "plan_change": ("active", "commune-s-month"),
    "trial_then_invoice": ("trialing", "commune-xs-month"),
}


def _story(fake, tenant_id: int, story: str, now: int) -> list[dict]:
    events: list[dict] = []

    def emit(event_type: str, obj: dict) -> None:
        events.append(fake.event(event_type, obj))

    def renewals(sub: dict, months: int, start_days_ago: int, sent: bool) -> None:
        for month in range(months):
            created = now - (start_days_ago - 30 * month) * DAY
            invoice = fake.add_invoice(
                sub["id"], created=created, due_date=created + 30 * DAY if sent else None
            )
            emit("invoice.finalized", invoice)
            emit("invoice.paid", fake.set_invoice(invoice["id"], status="paid"))
            emit("customer.subscription.updated", sub)

    xs_month = price_id("commune-xs-month")
    if story == "card_active":
        customer = fake.add_customer(tenant_id)
        sub = fake.add_subscription(
            tenant_id=tenant_id,
            price=xs_month,
            customer=customer["id"],
            collection_method="charge_automatically",
            status="incomplete",
            created=now - 190 * DAY,
        )
        session = {
            "id": f"cs_test_{sub['id']}",
            "object": "checkout.session",
            "mode": "subscription",
            "client_reference_id": str(tenant_id),
            "customer": customer["id"],
            "subscription": sub["id"],
            "metadata": {"tenant_id": str(tenant_id)},
        }
        fake.checkout_sessions[session["id"]] = session
        emit("customer.subscription.created", sub)
        emit("checkout.session.completed", session)
        emit("customer.subscription.updated", fake.set_subscription(sub["id"], status="active"))
        renewals(sub, 6, 180, sent=False)
        return events

    sub = fake.add_subscription(tenant_id=tenant_id, price=xs_month, created=now - 200 * DAY)
    emit("customer.subscription.created", sub)
    if story == "trial_then_invoice":
        emit(
            "customer.subscription.updated",
            fake.set_subscription(sub["id"], status="trialing", trial_end=now + 20 * DAY),
        )
        return events
    renewals(sub, 5, 190, sent=True)
    if story in ("invoice_past_due", "invoice_read_only", "recovered"):
        days_late = {"invoice_past_due": 10, "invoice_read_only": 60, "recovered": 20}[story]
        invoice = fake.add_invoice(
            sub["id"], created=now - (days_late + 30) * DAY, due_date=now - days_late * DAY
        )
        emit("invoice.finalized", invoice)
        emit("invoice.overdue", invoice)
        emit("customer.subscription.updated", fake.set_subscription(sub["id"], status="past_due"))
        if story == "recovered":
            emit("invoice.paid", fake.set_invoice(invoice["id"], status="paid"))
            emit("customer.subscription.updated", fake.set_subscription(sub["id"], status="active"))
    elif story == "canceled":
        fake.set_subscription(sub["id"], status="canceled", ended_at=now - 5 * DAY)
        emit("customer.subscription.deleted", sub)
    elif story == "resubscribed":
        fake.set_subscription(sub["id"], status="canceled", ended_at=now - 40 * DAY)
        emit("customer.subscription.deleted", sub)
        new = fake.add_subscription(
            tenant_id=tenant_id,
            price=price_id("commune-xs-year"),
            customer=sub["customer"],
            created=now - 30 * DAY,
        )
        emit("customer.subscription.created", new)
        renewals(new, 1, 30, sent=True)
    elif story == "plan_change":
        item = sub["items"]["data"][0]
        item["price"] = {"id": price_id("commune-s-month"), "object": "price"}
        emit("customer.subscription.updated", sub)
    return events


def _snapshot(app, tenant_ids: list[int]) -> dict[int, dict]:
    from billing.models import Invoice, Subscription

    keys = (
        "state",
        "stripe_status",
        "stripe_subscription_id",
        "stripe_customer_id",
        "collection_method",
        "trial_ends_at",
        "current_period_end",
        "past_due_since",
        "grace_until",
        "read_only_since",
        "canceled_at",
        "retention_until",
    )
    result = {}
    with app.app_context():
        subs = db.session.scalars(
            sa.select(Subscription).where(Subscription.tenant_id.in_(tenant_ids))
        )
        for sub in subs:
            invoices = db.session.scalars(
                sa.select(Invoice).where(Invoice.tenant_id == sub.tenant_id)
            )
            result[sub.tenant_id] = {
                **{key: getattr(sub, key) for key in keys},
                "plan": sub.plan.code,
                "invoices": {i.stripe_invoice_id: (i.status, i.due_at) for i in invoices},
            }
    return result


def _reset(app, tenant_ids: list[int], initial: dict[int, dict], event_ids: set[str]) -> None:
    from billing.models import Invoice, StripeEvent, Subscription
    from billing.services import get_plan

    with app.app_context():
        db.session.execute(sa.delete(Invoice).where(Invoice.tenant_id.in_(tenant_ids)))
        db.session.execute(sa.delete(StripeEvent).where(StripeEvent.id.in_(event_ids)))
        for sub in db.session.scalars(
            sa.select(Subscription).where(Subscription.tenant_id.in_(tenant_ids))
        ):
            values = dict(initial[sub.tenant_id])
            sub.plan = get_plan(values.pop("plan"))
            values.pop("invoices")
            for key, value in values.items():
                setattr(sub, key, value)
        db.session.commit()


@pytest.mark.slow
def test_a_shuffled_stream_with_duplicates_ends_like_the_ordered_one(
    billing_app, make_tenant, fake_stripe
):
    now = int(time.time())
    tenants: dict[int, str] = {}
    for story in STORIES:
        for _ in range(TENANTS_PER_STORY):
            tenant = make_tenant(provision=False)
            subscribe(billing_app, tenant, "commune-xs-month", trial_ends_at=utc(2020, 1, 1))
            tenants[tenant.id] = story
    ordered: list[dict] = []
    for tenant_id, story in tenants.items():
        ordered.extend(_story(fake_stripe, tenant_id, story, now))
    # Stories interleave in time: order the whole stream by creation, as Stripe sends it.
    ordered.sort(key=lambda event: int(event["id"].rsplit("_", 1)[1][8:]))
    assert 200 < len(ordered) < STREAM_SIZE
    tenant_ids = list(tenants)
    initial = _snapshot(billing_app, tenant_ids)
    client = host_client(billing_app, PLATFORM)

    for event in ordered:
        assert deliver(client, event).json["outcome"] == "stored"
    in_order = _snapshot(billing_app, tenant_ids)

    for tenant_id, story in tenants.items():
        expected_state, expected_plan = STORIES[story]
        assert in_order[tenant_id]["state"] == expected_state, story
        assert in_order[tenant_id]["plan"] == expected_plan, story
    assert any(s["grace_until"] for s in in_order.values())
    assert any(s["retention_until"] for s in in_order.values())

    _reset(billing_app, tenant_ids, initial, {event["id"] for event in ordered})
    assert _snapshot(billing_app, tenant_ids) == initial

    rng = random.Random(20261124)
    stream = ordered + rng.choices(ordered, k=STREAM_SIZE - len(ordered))
    rng.shuffle(stream)
    assert len(stream) == STREAM_SIZE
    outcomes = [deliver(client, event).json["outcome"] for event in stream]
    assert outcomes.count("stored") == len(ordered)
    assert outcomes.count("duplicate") == STREAM_SIZE - len(ordered)

    assert _snapshot(billing_app, tenant_ids) == in_order
