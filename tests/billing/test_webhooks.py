"""POST /billing/stripe/webhook: signatures (valid, stale, tampered), duplicates, ignored
types, and processing that re-reads Stripe instead of trusting the event."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from core.db import db
from tests.support import PLATFORM, host_client
from tests.support.billing import deliver, price_id, read_subscription, subscribe
from tests.support.fake_stripe import signed_headers


def _platform(app):
    return host_client(app, PLATFORM)


def _stored(app, event_id: str):
    from billing.models import StripeEvent

    with app.app_context():
        event = db.session.get(StripeEvent, event_id)
        if event is None:
            return None
        return {
            "type": event.type,
            "processed_at": event.processed_at,
            "outcome": event.outcome,
            "attempts": event.attempts,
            "payload": event.payload,
        }


def _setup(app, tenant, fake, status="active", **fields):
    stripe_sub = fake.add_subscription(
        tenant_id=tenant.id, price=price_id("commune-s-month"), status=status, **fields
    )
    subscribe(app, tenant, "commune-xs-month", stripe_subscription_id=stripe_sub["id"])
    return stripe_sub


def test_a_valid_event_is_stored_then_processed_from_stripes_current_state(
    billing_app, make_tenant, fake_stripe
):
    tenant = make_tenant(provision=False)
    stripe_sub = _setup(billing_app, tenant, fake_stripe)
    event = fake_stripe.event("customer.subscription.updated", stripe_sub)
    # Since the event was sent, Stripe moved on: the subscription is past due now.
    fake_stripe.set_subscription(stripe_sub["id"], status="past_due")

    response = deliver(_platform(billing_app), event)
    assert response.status_code == 200
    assert response.json == {"received": True, "id": event["id"], "outcome": "stored"}
    stored = _stored(billing_app, event["id"])
    assert stored["type"] == "customer.subscription.updated"
    assert stored["payload"] == event
    assert stored["processed_at"] is not None  # RQ_ASYNC=False: the job ran after the commit
    assert stored["outcome"] == "synced: past_due"
    sub = read_subscription(billing_app, tenant)
    assert sub["state"] == "past_due"  # Stripe's current state, not the event's "active"
    assert sub["stripe_status"] == "past_due"
    assert sub["plan_code"] == "commune-s-month"  # the plan follows the Stripe price
    assert fake_stripe.calls("GET", f"/v1/subscriptions/{stripe_sub['id']}")


def test_a_stale_signature_is_refused(billing_app, fake_stripe):
    event = fake_stripe.event("invoice.paid", {"id": "in_stale", "object": "invoice"})
    response = deliver(_platform(billing_app), event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert _stored(billing_app, event["id"]) is None


def test_a_tampered_payload_is_refused(billing_app, fake_stripe):
    event = fake_stripe.event("invoice.paid", {"id": "in_tampered", "object": "invoice"})
    payload = json.dumps(event)
    headers = signed_headers(payload)
    tampered = payload.replace("in_tampered", "in_tampered2")
    response = _platform(billing_app).post(
        "/billing/stripe/webhook",
        data=tampered,
        headers={"Content-Type": "application/json", **headers},
    )
    assert response.status_code == 400
    assert _stored(billing_app, event["id"]) is None


def test_a_signature_with_another_secret_or_none_is_refused(billing_app, fake_stripe):
    event = fake_stripe.event("invoice.paid", {"id": "in_other", "object": "invoice"})
    client = _platform(billing_app)
    assert deliver(client, event, secret="whsec_someone_else").status_code == 400
    no_header = client.post(
        "/billing/stripe/webhook", data=json.dumps(event), content_type="application/json"
    )
    assert no_header.status_code == 400
    garbage = "not json"
    response = client.post(
        "/billing/stripe/webhook",
        data=garbage,
        headers={"Content-Type": "application/json", **signed_headers(garbage)},
    )
    assert response.status_code == 400
    assert _stored(billing_app, event["id"]) is None


def test_a_duplicate_delivery_is_a_no_op(billing_app, make_tenant, fake_stripe):
    tenant = make_tenant(provision=False)
    stripe_sub = _setup(billing_app, tenant, fake_stripe)
    event = fake_stripe.event("customer.subscription.created", stripe_sub)
    client = _platform(billing_app)
    assert deliver(client, event).json["outcome"] == "stored"
    reads = len(fake_stripe.calls("GET", "/v1/subscriptions/"))
    second = deliver(client, event)
    assert second.status_code == 200
    assert second.json["outcome"] == "duplicate"
    assert len(fake_stripe.calls("GET", "/v1/subscriptions/")) == reads  # not processed again
    assert _stored(billing_app, event["id"])["attempts"] == 1


def test_other_event_types_are_acknowledged_and_ignored(billing_app, fake_stripe):
    event = fake_stripe.event("charge.refunded", {"id": "ch_1", "object": "charge"})
    response = deliver(_platform(billing_app), event)
    assert response.status_code == 200
    assert response.json["outcome"] == "ignored"
    assert _stored(billing_app, event["id"]) is None
    assert fake_stripe.requests == []


def test_the_webhook_exists_on_the_platform_domain_only(billing_app, billing_tenant, fake_stripe):
    event = fake_stripe.event("invoice.paid", {"id": "in_x", "object": "invoice"})
    response = deliver(host_client(billing_app, billing_tenant.primary_host), event)
    assert response.status_code == 404
    assert _stored(billing_app, event["id"]) is None


def test_without_a_webhook_secret_nothing_is_accepted(billing_app, no_stripe):
    response = _platform(billing_app).post(
        "/billing/stripe/webhook",
        data="{}",
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
    )
    assert response.status_code == 503


def test_an_event_for_an_unknown_tenant_is_processed_as_ignored(billing_app, fake_stripe):
    stripe_sub = fake_stripe.add_subscription(tenant_id=999_999, price="price_unknown")
    event = fake_stripe.event("customer.subscription.updated", stripe_sub)
    assert deliver(_platform(billing_app), event).status_code == 200
    assert _stored(billing_app, event["id"])["outcome"] == "ignored: unknown tenant"


def test_checkout_completed_links_the_card_subscription(billing_app, make_tenant, fake_stripe):
    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, "commune-xs-month")
    customer = fake_stripe.add_customer(tenant.id)
    stripe_sub = fake_stripe.add_subscription(
        tenant_id=tenant.id,
        price=price_id("commune-xs-year"),
        customer=customer["id"],
        collection_method="charge_automatically",
    )
    session = {
        "id": "cs_test_" + stripe_sub["id"],
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(tenant.id),
        "customer": customer["id"],
        "subscription": stripe_sub["id"],
        "metadata": {"tenant_id": str(tenant.id)},
    }
    fake_stripe.checkout_sessions[session["id"]] = session
    event = fake_stripe.event("checkout.session.completed", {**session, "subscription": None})
    assert deliver(_platform(billing_app), event).status_code == 200
    sub = read_subscription(billing_app, tenant)
    assert sub["stripe_subscription_id"] == stripe_sub["id"]  # re-read: the event had none
    assert sub["stripe_customer_id"] == customer["id"]
    assert sub["collection_method"] == "charge_automatically"
    assert sub["state"] == "active"
    assert sub["plan_code"] == "commune-xs-year"


def test_invoice_events_store_the_invoice_as_stripe_has_it_now(
    billing_app, make_tenant, fake_stripe
):
    from billing.models import Invoice

    tenant = make_tenant(provision=False)
    stripe_sub = _setup(billing_app, tenant, fake_stripe)
    invoice = fake_stripe.add_invoice(
        stripe_sub["id"], status="open", due_date=int(time.time()) + 30 * 86400
    )
    event = fake_stripe.event("invoice.finalized", invoice)
    fake_stripe.set_invoice(invoice["id"], status="paid")  # paid since
    assert deliver(_platform(billing_app), event).status_code == 200
    with billing_app.app_context():
        row = db.session.scalar(
            sa.select(Invoice).where(Invoice.stripe_invoice_id == invoice["id"])
        )
        assert row.status == "paid"
        assert row.number == invoice["number"]
        assert row.total_cents == 58_800
        assert row.invoice_pdf_url == invoice["invoice_pdf"]
        assert row.hosted_invoice_url == invoice["hosted_invoice_url"]
        assert row.tenant_id == tenant.id
    assert read_subscription(billing_app, tenant)["state"] == "active"


def test_a_failing_stripe_read_leaves_the_event_for_a_retry(billing_app, make_tenant, fake_stripe):
    tenant = make_tenant(provision=False)
    stripe_sub = _setup(billing_app, tenant, fake_stripe)
    event = fake_stripe.event("customer.subscription.updated", stripe_sub)
    fake_stripe.down = True
    assert deliver(_platform(billing_app), event).status_code == 200  # stored: Stripe is happy
    stored = _stored(billing_app, event["id"])
    assert stored["processed_at"] is None
    assert stored["attempts"] == 1
    # The reconcile job retries what is left unprocessed.
    from billing.tasks import reconcile_now

    fake_stripe.down = False
    with billing_app.app_context():
        result = reconcile_now()
    assert result["processed"] >= 1
    assert _stored(billing_app, event["id"])["processed_at"] is not None


def test_reconcile_catches_up_undelivered_events(billing_app, make_tenant, fake_stripe):
    from billing.tasks import reconcile_now

    tenant = make_tenant(provision=False)
    stripe_sub = _setup(billing_app, tenant, fake_stripe)
    fake_stripe.set_subscription(stripe_sub["id"], status="canceled", ended_at=int(time.time()))
    missed = fake_stripe.event("customer.subscription.deleted", stripe_sub)
    fake_stripe.events.append(missed)
    with billing_app.app_context():
        result = reconcile_now()
    listing = fake_stripe.last("GET", "/v1/events")
    assert listing.params["delivery_success"] == "false"
    assert "customer.subscription.deleted" in listing.params["types"]
    assert int(listing.params["created"]["gte"]) < time.time()
    assert result["stored"] == 1
    stored = _stored(billing_app, missed["id"])
    assert stored["processed_at"] is not None
    assert read_subscription(billing_app, tenant)["state"] == "canceled"
    # Run again: the event is known, nothing happens twice.
    with billing_app.app_context():
        assert reconcile_now()["stored"] == 0
