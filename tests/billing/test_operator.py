"""The operator's billing console on the platform domain: the overview, extending a trial,
changing a plan, marking an invoice paid out of band, editing plans; all audited."""

from __future__ import annotations

import re

import sqlalchemy as sa

from core import clock
from core.db import db
from tests.support import PASSWORD, csrf_in, text
from tests.support.billing import (
    add_invoice,
    days,
    operator_client,
    price_id,
    read_subscription,
    refresh,
    subscribe,
    utc,
)

CONSOLE = "/operateur/facturation/"


def _audit(app, action: str, target_id) -> list:
    from tenants.platform.models import PlatformAuditEntry

    with app.app_context():
        return [
            (e.actor_id, e.details)
            for e in db.session.scalars(
                sa.select(PlatformAuditEntry)
                .where(
                    PlatformAuditEntry.action == action,
                    PlatformAuditEntry.target_id == str(target_id),
                )
                .order_by(PlatformAuditEntry.id)
            )
        ]


def _post(client, page_path: str, path: str, data: dict):
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf_in(page.text), **data})


def test_only_operators_open_the_console(billing_app):
    from tenants.platform.services import create_platform_user, enable_totp_with_secret
    from tests.support import PLATFORM, host_client

    anonymous = host_client(billing_app, PLATFORM)
    response = anonymous.get(CONSOLE)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    with billing_app.app_context():
        user = create_platform_user(
            "coordination-billing@exemple.fr",
            "Coordination",
            "coordinator",
            password=PASSWORD,
        )
        enable_totp_with_secret(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        db.session.commit()
        user_id, version = user.id, user.session_version
        from core.security.auth import SESSION_RECORD_KEY, issue_session_token

        token = issue_session_token("platform", user_id)
    coordinator = host_client(billing_app, PLATFORM)
    with coordinator.session_transaction(base_url=coordinator.base_url) as sess:
        sess.update({"_user_id": f"p:{user_id}:{version}", "_fresh": True, "pnyx_2fa": True})
        sess[SESSION_RECORD_KEY] = token
    assert coordinator.get(CONSOLE).status_code == 403
    assert coordinator.get(CONSOLE + "offres").status_code == 403


def test_the_console_shows_plan_state_trial_revenue_and_overdue_invoices(billing_app, make_tenant):

    trial = make_tenant(provision=False)
    paying = make_tenant(provision=False)
    late = make_tenant(provision=False)
    subscribe(billing_app, trial, "commune-xs-month", trial_ends_at=utc(2099, 5, 4))
    subscribe(
        billing_app,
        paying,
        "commune-m-year",
        stripe_subscription_id=f"sub_op_{paying.id}",
        stripe_status="active",
    )
    subscribe(
        billing_app,
        late,
        "commune-s-month",
        stripe_subscription_id=f"sub_late_{late.id}",
        stripe_status="active",
    )
    add_invoice(
        billing_app,
        late,
        total_cents=17_880,
        amount_due_cents=17_880,
        due_at=clock.utcnow() - days(3),
    )
    for tenant in (trial, paying, late):
        refresh(billing_app, tenant, clock.utcnow())

    client, _operator = operator_client(billing_app)
    page = client.get(CONSOLE)
    assert page.status_code == 200
    body = text(page)
    assert "de revenu mensuel récurrent (HT)" in body

    def row(tenant) -> str:
        match = re.search(
            rf'<tr>\s*<th scope="row"><a href="/operateur/facturation/{tenant.id}">.*?</tr>',
            body,
            re.S,
        )
        assert match, f"no row for {tenant.name}"
        return match.group(0)

    assert "Période d'essai" in row(trial) and "4 mai 2099" in row(trial)
    assert "Commune de moins de 3 500 habitants — mensuel" in row(trial)
    paying_row = row(paying)
    assert "Abonnement actif" in paying_row and "325,00" in paying_row  # 3 900 € / 12
    late_row = row(late)
    assert "Paiement en retard" in late_row and "149,00" in late_row
    assert "1 (178,80" in late_row

    filtered = text(client.get(CONSOLE + "?etat=past_due"))
    assert late.name in filtered
    assert f'/operateur/facturation/{trial.id}"' not in filtered


def test_extend_a_trial(billing_app, make_tenant):
    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, trial_ends_at=utc(2020, 1, 1))
    refresh(billing_app, tenant, utc(2020, 1, 2))
    assert read_subscription(billing_app, tenant)["state"] == "read_only"
    client, operator_id = operator_client(billing_app)
    detail = f"{CONSOLE}{tenant.id}"
    response = _post(client, detail, f"{detail}/essai", {"days": "20"})
    assert response.status_code == 302
    sub = read_subscription(billing_app, tenant)
    assert sub["state"] == "trialing"

    assert abs((sub["trial_ends_at"] - (clock.utcnow() + days(20))).total_seconds()) < 120
    audit = _audit(billing_app, "billing.trial_extended", tenant.id)
    assert audit[-1][0] == operator_id and audit[-1][1]["days"] == 20
    page = text(client.get(detail))
    assert "Période d'essai de" in page and "prolongée de 20 jours" in page
    # A bad number is refused with the form's message.
    bad = _post(client, detail, f"{detail}/essai", {"days": "400"})
    assert bad.status_code == 400
    assert "Entre 1 et 365 jours." in text(bad)


def test_change_a_plan_also_on_stripe(billing_app, make_tenant, fake_stripe):
    tenant = make_tenant(provision=False)
    stripe_sub = fake_stripe.add_subscription(
        tenant_id=tenant.id, price=price_id("commune-xs-month")
    )
    subscribe(
        billing_app,
        tenant,
        "commune-xs-month",
        stripe_subscription_id=stripe_sub["id"],
        stripe_status="active",
    )
    client, operator_id = operator_client(billing_app)
    detail = f"{CONSOLE}{tenant.id}"
    response = _post(client, detail, f"{detail}/offre", {"plan": "commune-m-month"})
    assert response.status_code == 302
    update = fake_stripe.last("POST", f"/v1/subscriptions/{stripe_sub['id']}")
    item_id = stripe_sub["items"]["data"][0]["id"]
    assert update.params["items"] == [{"id": item_id, "price": price_id("commune-m-month")}]
    assert update.idempotency_key == f"pnyx-{tenant.id}-plan-change-commune-m-month-1"
    assert read_subscription(billing_app, tenant)["plan_code"] == "commune-m-month"
    audit = _audit(billing_app, "billing.plan_changed", tenant.id)
    assert audit[-1] == (
        operator_id,
        {"previous_plan": "commune-xs-month", "plan": "commune-m-month"},
    )


def test_mark_an_invoice_paid_out_of_band(billing_app, make_tenant):
    from billing.models import Invoice

    tenant = make_tenant(provision=False)
    subscribe(
        billing_app, tenant, state="active", pending_stripe=True, trial_ends_at=utc(2020, 1, 1)
    )
    invoice_id = add_invoice(billing_app, tenant, due_at=clock.utcnow() - days(50))
    refresh(billing_app, tenant, clock.utcnow())
    assert read_subscription(billing_app, tenant)["state"] == "read_only"

    client, operator_id = operator_client(billing_app)
    detail = f"{CONSOLE}{tenant.id}"
    missing = _post(client, detail, f"{CONSOLE}factures/{invoice_id}/payee", {"reference": ""})
    assert missing.status_code == 400
    response = _post(
        client,
        detail,
        f"{CONSOLE}factures/{invoice_id}/payee",
        {"reference": "Virement DGFiP 2026-00451"},
    )
    assert response.status_code == 302
    with billing_app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.status == "paid"
        assert invoice.paid_out_of_band is True
        assert invoice.out_of_band_reference == "Virement DGFiP 2026-00451"
    assert read_subscription(billing_app, tenant)["state"] == "active"
    audit = _audit(billing_app, "billing.invoice_paid_out_of_band", tenant.id)
    assert audit[-1][0] == operator_id
    assert audit[-1][1]["reference"] == "Virement DGFiP 2026-00451"
    # Once paid, it cannot be marked again.
    again = _post(client, detail, f"{CONSOLE}factures/{invoice_id}/payee", {"reference": "Encore"})
    assert again.status_code == 302
    assert "Seule une facture en attente de paiement" in text(client.get(detail))


def test_operator_forms_need_the_csrf_token(billing_app, make_tenant):
    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant)
    client, _operator = operator_client(billing_app)
    response = client.post(f"{CONSOLE}{tenant.id}/essai", data={"days": "10"})
    assert response.status_code == 400


def test_edit_a_plan(billing_app):
    from billing.services import get_plan

    client, operator_id = operator_client(billing_app)
    with billing_app.app_context():
        plan = get_plan("epci-year")
        plan_id, original = plan.id, (plan.name, plan.price_cents_excl_vat, dict(plan.limits))
    listing = text(client.get(CONSOLE + "offres"))
    assert "Intercommunalité (EPCI) — annuel" in listing
    path = f"{CONSOLE}offres/{plan_id}"
    page = client.get(path)
    assert page.status_code == 200
    bad = client.post(
        path,
        data={
            "csrf_token": csrf_in(page.text),
            "name": "EPCI annuel",
            "price_euros": "4600",
            "stripe_price_id": "prix-faux",
        },
    )
    assert bad.status_code == 200
    assert "Un identifiant de prix Stripe commence par « price_ »." in text(bad)
    taken = client.post(
        path,
        data={
            "csrf_token": csrf_in(page.text),
            "name": "EPCI annuel",
            "price_euros": "4600",
            "stripe_price_id": price_id("region-year"),
        },
    )
    assert "Ce prix Stripe est déjà relié à une autre offre." in text(taken)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_in(page.text),
            "name": "EPCI annuel",
            "price_euros": "4600,50".replace(",", "."),
            "stripe_price_id": "price_epci_2027",
            "open_processes": "20",
            "staff_members": "",
            "budget_module": "y",
            "active": "y",
        },
    )
    assert response.status_code == 302
    try:
        with billing_app.app_context():
            plan = get_plan("epci-year")
            assert plan.name == "EPCI annuel"
            assert plan.price_cents_excl_vat == 460_050
            assert plan.stripe_price_id == "price_epci_2027"
            assert plan.limits["open_processes"] == 20
            assert plan.limits["staff_members"] is None
            assert plan.limits["custom_domain"] is False
        audit = _audit(billing_app, "billing.plan_updated", plan_id)
        assert audit[-1][0] == operator_id
        assert audit[-1][1]["before"]["price_cents_excl_vat"] == original[1]
    finally:
        with billing_app.app_context():
            plan = get_plan("epci-year")
            plan.name, plan.price_cents_excl_vat, plan.limits = original
            plan.stripe_price_id = price_id("epci-year")
            db.session.commit()
