"""A collectivité is never billed below its population stratum (issue 13 §6).

Grenoble (156 140 inhabitants) moved itself to « Commune de moins de 3 500 habitants ». Every
change path now checks ``Plan.covers`` (or a higher stratum: the upgrades offered for more
limits): the admin's self-service, card checkout and mandate, the operator's console, and a
price changed at Stripe. The operator's console shows the tenants whose plan is below their
population, with a filter.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import PLATFORM, csrf_in, ensure_legal_documents, host_client, text
from tests.support.billing import (
    admin_client,
    deliver,
    operator_client,
    price_id,
    read_subscription,
    set_population,
)
from tests.support.staff import audit_rows

GRENOBLE = 156_140
CONSOLE = "/operateur/facturation/"
REFUSAL = "ne correspond pas à la population"


@pytest.fixture
def city(billing_app, make_tenant):
    """A tenant of Grenoble's size on the plan of its stratum (recorded locally)."""
    from billing.models import Subscription

    tenant = set_population(billing_app, make_tenant(), GRENOBLE)
    ensure_legal_documents(billing_app, tenant)
    with billing_app.app_context():
        from billing import services

        sub = Subscription(
            tenant_id=tenant.id,
            state="trialing",
            plan=services.get_plan("commune-l-month"),
            pending_stripe=True,
        )
        db.session.add(sub)
        db.session.commit()
    return tenant


def _set_plan(app, tenant, code: str) -> None:
    """A plan written directly (data from before the check, or a census since)."""
    with app.app_context():
        db.session.execute(
            sa.text(
                "UPDATE public.subscriptions SET plan_id = (SELECT id FROM public.plans"
                " WHERE code = :code) WHERE tenant_id = :tenant_id"
            ),
            {"code": code, "tenant_id": tenant.id},
        )
        db.session.commit()


def test_plan_fits_its_stratum_or_above_never_below(billing_app):
    from billing import services

    with billing_app.app_context():
        xs, m, large = (services.get_plan(f"commune-{t}-month") for t in ("xs", "m", "l"))
        assert services.plan_fits(large, GRENOBLE) and large.covers(GRENOBLE)
        assert not services.plan_fits(xs, GRENOBLE) and not services.plan_fits(m, GRENOBLE)
        assert services.plan_fits(xs, 1_200) and services.plan_fits(m, 1_200)  # upgrades
        assert not services.plan_fits(xs, 3_500)  # the bound belongs to the next stratum


def test_the_admin_cannot_move_the_city_to_a_village_plan(billing_app, city):
    client, _admin = admin_client(billing_app, city)
    page = client.get("/gestion/abonnement/")
    assert page.status_code == 200
    # Not even offered.
    assert 'value="commune-xs-month"' not in page.text
    assert 'value="commune-l-year"' in page.text
    response = client.post(
        "/gestion/abonnement/offre",
        data={"csrf_token": csrf_in(page.text), "plan": "commune-xs-month"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Votre offre est désormais" not in text(response)
    assert read_subscription(billing_app, city)["plan_code"] == "commune-l-month"
    assert audit_rows(billing_app, city, "billing.plan_changed") == []


@pytest.mark.parametrize("path", ["change", "checkout", "invoice", "trial"])
def test_every_service_path_refuses_a_plan_below_the_population(billing_app, city, request, path):
    from billing import services
    from billing.services import BillingError
    from billing.siret import complete_siret

    # Checkout needs a (fake) Stripe to get that far; the mandate is recorded without one.
    request.getfixturevalue("fake_stripe" if path == "checkout" else "no_stripe")

    with billing_app.test_request_context():
        with pytest.raises(BillingError, match=REFUSAL) as refused:
            if path == "change":
                services.change_plan(city.id, "commune-xs-month", actor_id=None, by_operator=True)
            elif path == "checkout":
                services.create_checkout_session(
                    city.id, "commune-m-year", "https://x.test/ok", "https://x.test/ko"
                )
            elif path == "invoice":
                services.subscribe_by_invoice(
                    city.id,
                    "commune-s-year",
                    siret=complete_siret(city.siren),
                    purchase_order="BC-1",
                )
            else:
                db.session.execute(
                    sa.text("DELETE FROM public.subscriptions WHERE tenant_id = :id"),
                    {"id": city.id},
                )
                services.start_trial(city.id, "commune-xs-month")
        db.session.rollback()
    assert "156\u202f140 habitants" in str(refused.value)
    assert read_subscription(billing_app, city)["plan_code"] == "commune-l-month"


def test_the_operator_gets_the_french_refusal(billing_app, city):
    client, _operator_id = operator_client(billing_app)
    detail = f"{CONSOLE}{city.id}"
    page = client.get(detail)
    response = client.post(
        f"{detail}/offre",
        data={"csrf_token": csrf_in(page.text), "plan": "commune-xs-month"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert REFUSAL in text(response)
    assert read_subscription(billing_app, city)["plan_code"] == "commune-l-month"


def test_a_lower_price_set_at_stripe_is_not_adopted(billing_app, make_tenant, fake_stripe):
    from tenants.platform.models import PlatformAuditEntry

    tenant = set_population(billing_app, make_tenant(provision=False), GRENOBLE)
    stripe_sub = fake_stripe.add_subscription(
        tenant_id=tenant.id, price=price_id("commune-l-month"), status="active"
    )
    with billing_app.app_context():
        from billing import services
        from billing.models import Subscription

        db.session.add(
            Subscription(
                tenant_id=tenant.id,
                state="active",
                plan=services.get_plan("commune-l-month"),
                stripe_subscription_id=stripe_sub["id"],
                stripe_status="active",
            )
        )
        db.session.commit()
    # Someone switched the price at Stripe (Customer Portal, dashboard).
    item = fake_stripe.subscriptions[stripe_sub["id"]]["items"]["data"][0]
    item["price"]["id"] = price_id("commune-xs-month")
    event = fake_stripe.event("customer.subscription.updated", stripe_sub)
    assert deliver(host_client(billing_app, PLATFORM), event).status_code == 200
    assert read_subscription(billing_app, tenant)["plan_code"] == "commune-l-month"
    with billing_app.app_context():
        refused = db.session.scalars(
            sa.select(PlatformAuditEntry).where(
                PlatformAuditEntry.action == "billing.plan_refused",
                PlatformAuditEntry.target_id == str(tenant.id),
            )
        ).all()
        assert [entry.details["plan"] for entry in refused] == ["commune-xs-month"]
        assert refused[0].details["source"] == "stripe"


def test_the_console_shows_and_filters_plans_below_the_population(billing_app, city, make_tenant):
    from billing.models import Subscription

    _set_plan(billing_app, city, "commune-xs-month")  # as Grenoble did before the fix
    fitting = set_population(billing_app, make_tenant(provision=False), 1_500)
    with billing_app.app_context():
        from billing import services

        db.session.add(
            Subscription(
                tenant_id=fitting.id, state="trialing", plan=services.get_plan("commune-xs-month")
            )
        )
        db.session.commit()
    client, _operator_id = operator_client(billing_app)
    listing = client.get(CONSOLE)
    assert listing.status_code == 200
    body = text(listing)
    assert "Offre inadaptée à la population (" in body
    row = body.split(city.name, 1)[1].split("</tr>", 1)[0]
    assert "Offre inadaptée" in row and "156\u202f140 habitants" in row
    filtered = text(client.get(CONSOLE + "?offre=inadaptee"))
    assert city.name in filtered and fitting.name not in filtered
    detail = text(client.get(f"{CONSOLE}{city.id}"))
    assert "Offre inadaptée" in detail
