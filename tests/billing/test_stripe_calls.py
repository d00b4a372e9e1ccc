"""Outgoing Stripe calls, asserted on the requests the fake HTTP client received: the real
``stripe`` library encodes them exactly as it would for api.stripe.com."""

from __future__ import annotations

import re

import pytest

from core.db import db
from tests.support import csrf_in, text
from tests.support.billing import (
    add_invoice,
    admin_client,
    price_id,
    read_subscription,
    siret_for,
    subscribe,
    utc,
)


def assert_key(request, prefix: str) -> None:
    """Business ids, then a digest of the parameters (see stripe_client.idempotency_key)."""
    assert re.fullmatch(re.escape(prefix) + r"-[0-9a-f]{12}", request.idempotency_key), (
        request.idempotency_key
    )


def _invoice_form(client, **data):
    page = client.get("/gestion/abonnement/mandat")
    assert page.status_code == 200, page.text
    return client.post(
        "/gestion/abonnement/mandat", data={"csrf_token": csrf_in(page.text), **data}
    )


def _siret_of(app, tenant) -> str:
    return siret_for(app, tenant)


# --------------------------------------------------------------------------- client


def test_the_client_uses_short_timeouts_and_retries_with_the_same_key(billing_app):
    import stripe

    from billing import stripe_client

    app = billing_app
    saved = app.config.get("STRIPE_SECRET_KEY")
    app.config["STRIPE_SECRET_KEY"] = "sk_test_timeouts"
    stripe_client.use_http_client(app, None)
    try:
        with app.app_context():
            client = stripe_client.get_client()
            http = client._requestor._client
            assert isinstance(http, stripe.RequestsClient)
            assert http._timeout == (stripe_client.CONNECT_TIMEOUT, stripe_client.READ_TIMEOUT)
            assert max(http._timeout) <= 10
            assert client._requestor._options.max_network_retries == 2
            assert stripe_client.get_client() is client  # cached
    finally:
        app.config["STRIPE_SECRET_KEY"] = saved
        stripe_client.use_http_client(app, None)


def test_idempotency_keys_are_built_from_business_ids():
    from billing.stripe_client import idempotency_key

    assert idempotency_key(42, "subscription", "commune-s-year", 3) == (
        "pnyx-42-subscription-commune-s-year-3"
    )
    assert idempotency_key(7, "invoice", "in_1/../x", "paid") == "pnyx-7-invoice-in_1_.._x-paid"
    # With the parameters: the same request, the same key; a corrected one, another key.
    first = idempotency_key(42, "subscription", "commune-s-year", 3, params={"a": 1, "b": [2]})
    same = idempotency_key(42, "subscription", "commune-s-year", 3, params={"b": [2], "a": 1})
    other = idempotency_key(42, "subscription", "commune-s-year", 3, params={"a": 2, "b": [2]})
    assert first == same != other
    assert first.startswith("pnyx-42-subscription-commune-s-year-3-")


# --------------------------------------------------------------------------- card


def test_checkout_sends_the_subscription_parameters(billing_app, billing_tenant, fake_stripe):
    subscribe(billing_app, billing_tenant, "commune-xs-month", trial_ends_at=utc(2099, 1, 31))
    client, person = admin_client(billing_app, billing_tenant)
    page = client.get("/gestion/abonnement/")
    assert page.status_code == 200
    response = client.post(
        "/gestion/abonnement/carte",
        data={"csrf_token": csrf_in(page.text), "plan": "commune-s-year"},
    )
    assert response.status_code == 303
    session = fake_stripe.last("POST", "/v1/checkout/sessions")
    session_id = next(iter(fake_stripe.checkout_sessions))
    assert response.headers["Location"] == f"https://checkout.stripe.com/c/pay/{session_id}"

    customer = fake_stripe.last("POST", "/v1/customers", exact=True)
    assert customer.params["name"] == billing_tenant.name
    update = fake_stripe.last("POST", f"/v1/customers/{customer_id(fake_stripe)}", exact=True)
    assert update.params == {"email": person.email}
    assert customer.params["metadata"] == {
        "tenant_id": str(billing_tenant.id),
        "tenant_slug": billing_tenant.slug,
    }
    assert customer.params["preferred_locales"] == ["fr"]
    # Only what never changes is in the creation, under a key of business ids alone.
    assert customer.idempotency_key == f"pnyx-{billing_tenant.id}-customer-1"

    params = session.params
    assert params["mode"] == "subscription"
    assert params["customer"] == customer_id(fake_stripe)
    assert params["client_reference_id"] == str(billing_tenant.id)
    assert params["line_items"] == [{"price": price_id("commune-s-year"), "quantity": "1"}]
    assert params["locale"] == "fr"
    assert params["success_url"].startswith(f"http://{billing_tenant.primary_host}/gestion/")
    assert params["cancel_url"] == f"http://{billing_tenant.primary_host}/gestion/abonnement/"
    assert params["subscription_data"]["metadata"]["tenant_id"] == str(billing_tenant.id)
    # The trial runs to its end before the first payment.
    assert params["subscription_data"]["trial_end"] == str(int(utc(2099, 1, 31).timestamp()))
    assert_key(session, f"pnyx-{billing_tenant.id}-checkout-commune-s-year-1")
    assert session.headers["Authorization"] == "Bearer sk_test_pnyx"

    # A second attempt is a new key (new parameters are allowed), the customer is reused.
    page = client.get("/gestion/abonnement/")
    client.post(
        "/gestion/abonnement/carte",
        data={"csrf_token": csrf_in(page.text), "plan": "commune-s-month"},
    )
    assert len(fake_stripe.calls("POST", "/v1/customers", exact=True)) == 1
    assert_key(
        fake_stripe.last("POST", "/v1/checkout/sessions"),
        f"pnyx-{billing_tenant.id}-checkout-commune-s-month-2",
    )


def test_checkout_refuses_a_plan_of_another_kind(billing_app, billing_tenant, fake_stripe):
    subscribe(billing_app, billing_tenant, "commune-xs-month")
    client, _person = admin_client(billing_app, billing_tenant)
    page = client.get("/gestion/abonnement/")
    response = client.post(
        "/gestion/abonnement/carte",
        data={"csrf_token": csrf_in(page.text), "plan": "region-month"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Choisissez une offre avant de passer au paiement." in text(response)
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []


def test_the_card_page_explains_when_stripe_is_not_configured(
    billing_app, billing_tenant, no_stripe
):
    subscribe(billing_app, billing_tenant, "commune-xs-month")
    client, _person = admin_client(billing_app, billing_tenant)
    page = client.get("/gestion/abonnement/")
    assert page.status_code == 200
    assert "Le paiement en ligne par carte n'est pas configuré sur cette plateforme" in text(page)
    response = client.post(
        "/gestion/abonnement/carte",
        data={"csrf_token": csrf_in(page.text), "plan": "commune-xs-month"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "n'est pas configuré" in text(response)
    portal = client.post(
        "/gestion/abonnement/portail",
        data={"csrf_token": csrf_in(page.text)},
        follow_redirects=True,
    )
    assert portal.status_code == 200
    assert "Traceback" not in portal.text


def test_a_stripe_outage_is_a_french_message_not_an_error_page(
    billing_app, billing_tenant, fake_stripe
):
    subscribe(billing_app, billing_tenant, "commune-xs-month")
    client, _person = admin_client(billing_app, billing_tenant)
    page = client.get("/gestion/abonnement/")
    fake_stripe.down = True
    response = client.post(
        "/gestion/abonnement/carte",
        data={"csrf_token": csrf_in(page.text), "plan": "commune-xs-month"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Le service de paiement ne répond pas pour le moment" in text(response)
    assert read_subscription(billing_app, billing_tenant)["stripe_customer_id"] is None


def test_the_customer_portal(billing_app, billing_tenant, fake_stripe):
    subscribe(
        billing_app,
        billing_tenant,
        "commune-xs-month",
        stripe_customer_id="cus_portal",
        collection_method="charge_automatically",
    )
    client, _person = admin_client(billing_app, billing_tenant)
    page = client.get("/gestion/abonnement/")
    assert "Gérer ma carte et mon abonnement" in text(page)
    # The page lets its forms end on Stripe's pages.
    assert (
        "form-action 'self' https://checkout.stripe.com https://billing.stripe.com"
        in (page.headers["Content-Security-Policy"])
    )
    response = client.post("/gestion/abonnement/portail", data={"csrf_token": csrf_in(page.text)})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://billing.stripe.com/p/session/")
    request = fake_stripe.last("POST", "/v1/billing_portal/sessions")
    assert request.params == {
        "customer": "cus_portal",
        "return_url": f"http://{billing_tenant.primary_host}/gestion/abonnement/",
        "locale": "fr",
    }
    assert_key(request, f"pnyx-{billing_tenant.id}-portal-1")


# --------------------------------------------------------------------------- invoice


def test_invoice_subscription_sends_siret_custom_fields_and_send_invoice(
    billing_app, billing_tenant, fake_stripe
):
    subscribe(billing_app, billing_tenant, "commune-xs-month", trial_ends_at=utc(2020, 1, 1))
    siret = _siret_of(billing_app, billing_tenant)
    client, _person = admin_client(billing_app, billing_tenant)
    response = _invoice_form(
        client,
        plan="commune-xs-year",
        siret=f"{siret[:9]} {siret[9:]}",
        purchase_order="BC-2026-117",
        engagement_number="EJ-778812",
        service_code="DGS-PARTICIPATION",
        billing_email="Compta@Mairie.example.fr",
    )
    assert response.status_code == 302, text(response)

    customer = fake_stripe.last("POST", "/v1/customers", exact=True)
    assert customer.idempotency_key == f"pnyx-{billing_tenant.id}-customer-1"
    cus = customer_id(fake_stripe)
    tax_id = fake_stripe.last("POST", f"/v1/customers/{cus}/tax_ids", exact=True)
    assert tax_id.params == {"type": "fr_siret", "value": siret}
    assert tax_id.idempotency_key == f"pnyx-{billing_tenant.id}-tax-id-{siret}-1"
    assert fake_stripe.customers[cus]["tax_ids"]["data"][0]["type"] == "fr_siret"
    details = fake_stripe.last("POST", f"/v1/customers/{cus}", exact=True)
    assert details.params["email"] == "compta@mairie.example.fr"
    assert details.params["invoice_settings"]["custom_fields"] == [
        {"name": "N° d'engagement juridique", "value": "EJ-778812"},
        {"name": "Code service (Chorus Pro)", "value": "DGS-PARTICIPATION"},
        {"name": "Bon de commande", "value": "BC-2026-117"},
    ]
    assert details.flat["invoice_settings[custom_fields][2][value]"] == "BC-2026-117"
    assert_key(details, f"pnyx-{billing_tenant.id}-customer-update-1")

    created = fake_stripe.last("POST", "/v1/subscriptions")
    assert created.params["collection_method"] == "send_invoice"
    assert created.params["days_until_due"] == "30"
    assert created.params["items"] == [{"price": price_id("commune-xs-year"), "quantity": "1"}]
    assert created.params["customer"] == customer_id(fake_stripe)
    assert created.params["metadata"]["tenant_id"] == str(billing_tenant.id)
    assert created.params["metadata"]["purchase_order"] == "BC-2026-117"
    assert "trial_end" not in created.params  # the trial is over
    assert_key(created, f"pnyx-{billing_tenant.id}-subscription-commune-xs-year-1")

    stored = read_subscription(billing_app, billing_tenant)
    assert stored["siret"] == siret
    assert stored["collection_method"] == "send_invoice"
    assert stored["stripe_subscription_id"] == next(iter(fake_stripe.subscriptions))
    assert stored["state"] == "active"
    assert stored["pending_stripe"] is False
    assert stored["plan_code"] == "commune-xs-year"


def customer_id(fake) -> str:
    return next(iter(fake.customers))


def test_invoice_subscription_during_the_trial_starts_billing_at_its_end(
    billing_app, billing_tenant, fake_stripe
):
    subscribe(billing_app, billing_tenant, "commune-xs-month", trial_ends_at=utc(2099, 3, 1))
    client, _person = admin_client(billing_app, billing_tenant)
    response = _invoice_form(
        client,
        plan="commune-xs-month",
        siret=_siret_of(billing_app, billing_tenant),
        purchase_order="BC-1",
    )
    assert response.status_code == 302
    created = fake_stripe.last("POST", "/v1/subscriptions")
    assert created.params["trial_end"] == str(int(utc(2099, 3, 1).timestamp()))
    assert read_subscription(billing_app, billing_tenant)["state"] == "trialing"


def test_updating_the_invoicing_details_updates_the_customer(
    billing_app, billing_tenant, fake_stripe
):
    subscribe(billing_app, billing_tenant, "commune-xs-month", trial_ends_at=utc(2020, 1, 1))
    siret = _siret_of(billing_app, billing_tenant)
    client, _person = admin_client(billing_app, billing_tenant)
    _invoice_form(client, plan="commune-xs-month", siret=siret, purchase_order="BC-1")
    # A new fiscal year: a new engagement number, same SIRET.
    response = _invoice_form(
        client,
        plan="commune-xs-month",
        siret=siret,
        purchase_order="BC-2",
        engagement_number="EJ-2027",
    )
    assert response.status_code == 302
    assert len(fake_stripe.calls("POST", "/v1/subscriptions")) == 2  # create, then update
    update = fake_stripe.last("POST", "/v1/subscriptions/")
    assert update.params["collection_method"] == "send_invoice"
    cus = customer_id(fake_stripe)
    customer_update = fake_stripe.last("POST", f"/v1/customers/{cus}", exact=True)
    assert customer_update.params["invoice_settings"]["custom_fields"] == [
        {"name": "N° d'engagement juridique", "value": "EJ-2027"},
        {"name": "Bon de commande", "value": "BC-2"},
    ]
    assert_key(customer_update, f"pnyx-{billing_tenant.id}-customer-update-2")
    # The SIRET is already the customer's tax id: not added twice.
    assert len(fake_stripe.calls("POST", f"/v1/customers/{cus}/tax_ids")) == 1


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("1234", "exactement 14 chiffres"),
        ("21680224900014", "clé de contrôle"),
        ("73282932000074", "devraient être son SIREN"),
    ],
)
def test_a_bad_siret_is_refused_on_the_form(
    billing_app, billing_tenant, fake_stripe, siret, message
):
    if billing_tenant.siren is None:  # a few overseas collectivités: give it one
        from tenants.models import Tenant

        with billing_app.app_context():
            db.session.get(Tenant, billing_tenant.id).siren = "216802249"
            db.session.commit()
    subscribe(billing_app, billing_tenant, "commune-xs-month")
    client, _person = admin_client(billing_app, billing_tenant)
    response = _invoice_form(client, plan="commune-xs-month", siret=siret, purchase_order="BC-1")
    assert response.status_code == 200
    body = text(response)
    assert message in body
    assert 'aria-invalid="true"' in body
    assert fake_stripe.requests == []


def test_without_stripe_an_invoice_subscription_is_pending(billing_app, billing_tenant, no_stripe):
    subscribe(billing_app, billing_tenant, "commune-xs-month", trial_ends_at=utc(2020, 1, 1))
    client, _person = admin_client(billing_app, billing_tenant)
    response = _invoice_form(
        client,
        plan="commune-xs-year",
        siret=_siret_of(billing_app, billing_tenant),
        purchase_order="BC-9",
    )
    assert response.status_code == 302
    page = client.get("/gestion/abonnement/")
    assert "Votre demande d'abonnement sur facture est enregistrée" in text(page)
    assert "En attente de Stripe" in text(page)
    stored = read_subscription(billing_app, billing_tenant)
    assert stored["pending_stripe"] is True
    assert stored["state"] == "active"  # committed to pay: not read-only at the trial's end
    assert stored["plan_code"] == "commune-xs-year"


def test_reconcile_sends_pending_invoice_subscriptions_once_stripe_is_configured(
    billing_app, billing_tenant, fake_stripe
):
    from billing.tasks import reconcile_now

    subscribe(
        billing_app,
        billing_tenant,
        "commune-xs-month",
        trial_ends_at=utc(2020, 1, 1),
        pending_stripe=True,
        collection_method="send_invoice",
        siret=_siret_of(billing_app, billing_tenant),
        purchase_order="BC-P",
    )
    with billing_app.app_context():
        result = reconcile_now()
    assert result["pushed"] >= 1
    created = [
        r
        for r in fake_stripe.calls("POST", "/v1/subscriptions")
        if r.params["metadata"]["tenant_id"] == str(billing_tenant.id)
    ]
    assert len(created) == 1
    assert created[0].params["collection_method"] == "send_invoice"
    stored = read_subscription(billing_app, billing_tenant)
    assert stored["pending_stripe"] is False
    assert stored["stripe_subscription_id"]


# --------------------------------------------------------------------------- operator


def test_marking_an_invoice_paid_out_of_band_tells_stripe(billing_app, billing_tenant, fake_stripe):
    from billing import services

    stripe_sub = fake_stripe.add_subscription(tenant_id=billing_tenant.id, price="price_x")
    stripe_invoice = fake_stripe.add_invoice(stripe_sub["id"], due_date=1_700_000_000)
    subscribe(billing_app, billing_tenant, stripe_subscription_id=stripe_sub["id"])
    invoice_id = add_invoice(billing_app, billing_tenant, stripe_invoice_id=stripe_invoice["id"])
    with billing_app.test_request_context("/"):
        services.mark_invoice_paid_out_of_band(invoice_id, "Virement 2026-44", actor_id=None)
        db.session.commit()
    pay = fake_stripe.last("POST", f"/v1/invoices/{stripe_invoice['id']}/pay")
    assert pay.params == {"paid_out_of_band": "true"}
    assert pay.idempotency_key == (
        f"pnyx-{billing_tenant.id}-invoice-{stripe_invoice['id']}-paid-out-of-band"
    )


def test_a_retry_after_a_failure_does_not_create_a_second_subscription(
    billing_app, billing_tenant, fake_stripe
):
    """Stripe created the customer and the subscription but its answer was lost (500): the
    next attempt reuses the customer (same idempotency key) and updates the subscription
    Stripe already has instead of billing the collectivité twice."""
    subscribe(billing_app, billing_tenant, "commune-xs-month", trial_ends_at=utc(2020, 1, 1))
    siret = _siret_of(billing_app, billing_tenant)
    client, _person = admin_client(billing_app, billing_tenant)
    original = fake_stripe._route
    lost = {"done": False}

    def lose_the_first_answer(request):
        status, body = original(request)
        if request.path == "/v1/subscriptions" and request.method == "POST" and not lost["done"]:
            lost["done"] = True
            return 500, {"error": {"type": "api_error", "message": "lost"}}
        return status, body

    fake_stripe._route = lose_the_first_answer
    data = {"plan": "commune-xs-month", "siret": siret, "purchase_order": "BC-77"}
    failed = _invoice_form(client, **data)
    assert failed.status_code == 200
    assert "Le service de paiement ne répond pas" in text(failed)
    assert read_subscription(billing_app, billing_tenant)["stripe_subscription_id"] is None
    assert len(fake_stripe.subscriptions) == 1  # Stripe has it all the same

    response = _invoice_form(client, **{**data, "purchase_order": "BC-78"})
    assert response.status_code == 302
    assert len(fake_stripe.customers) == 1  # the same request: the same customer
    assert len(fake_stripe.subscriptions) == 1  # updated, not created twice
    (stripe_sub,) = fake_stripe.subscriptions.values()
    assert stripe_sub["metadata"]["purchase_order"] == "BC-78"
    stored = read_subscription(billing_app, billing_tenant)
    assert stored["stripe_subscription_id"] == stripe_sub["id"]
    assert stored["state"] == "active"
