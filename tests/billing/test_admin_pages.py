"""The admins' billing page (/gestion/abonnement): situation, prices with VAT, usage,
invoices with their PDF links, plan change; and the CLI and demo seeder."""

from __future__ import annotations

import json

import sqlalchemy as sa

from core import clock
from core.db import db
from tests.support import csrf_in, text
from tests.support.billing import (
    add_invoice,
    admin_client,
    read_subscription,
    siret_for,
    subscribe,
    utc,
)
from tests.support.staff import audit_rows


def test_the_billing_page_shows_the_situation_prices_and_invoices(billing_app, billing_tenant):
    subscribe(
        billing_app,
        billing_tenant,
        "commune-xs-year",
        state="active",
        pending_stripe=True,
        collection_method="send_invoice",
        siret="21680224900013",
        purchase_order="BC-2026-0318",
        engagement_number="EJ-42",
    )
    add_invoice(
        billing_app,
        billing_tenant,
        number="PNYX-2026-0042",
        status="paid",
        total_cents=58_800,
        issued_at=utc(2026, 1, 15),
        due_at=utc(2026, 2, 14),
        invoice_pdf_url="https://pay.stripe.com/invoice/in_42/pdf",
        hosted_invoice_url="https://invoice.stripe.com/i/in_42",
        paid_out_of_band=True,
    )
    add_invoice(billing_app, billing_tenant, number="DRAFT-1", status="draft")
    client, _admin = admin_client(billing_app, billing_tenant)
    response = client.get("/gestion/abonnement/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = text(response)
    assert "Abonnement actif" in body
    assert "Commune de moins de 3 500 habitants — annuel" in body
    nbsp = "\u202f"
    assert f"490,00{nbsp}€ HT par an" in body.replace("\xa0", nbsp)
    assert "588,00" in body and "dont TVA 20 % : 98,00" in body.replace("\xa0", " ").replace(
        nbsp, " "
    )
    assert "Facture (mandat administratif)" in body
    assert "En attente de Stripe" in body
    assert "21680224900013" in body and "BC-2026-0318" in body and "EJ-42" in body
    assert "PNYX-2026-0042" in body and "15 janvier 2026" in body
    assert 'href="https://pay.stripe.com/invoice/in_42/pdf"' in body
    assert "PDF de la facture PNYX-2026-0042" in body
    assert "Réglée par virement du comptable public" in body
    assert "DRAFT-1" not in body  # drafts are not invoices yet
    assert "Adaptée à votre population" in body
    assert "Démarches ouvertes en même temps" in body
    assert "Télécharger l'export complet (ZIP)" in body
    # The staff menu and the page share the staff layout; the stylesheet is ours.
    assert "/gestion/abonnement/ressources/billing.css" in body
    css = client.get("/gestion/abonnement/ressources/billing.css")
    assert css.status_code == 200 and b".billing-facts" in css.data


def test_an_admin_changes_plan_and_it_is_audited(billing_app, billing_tenant):
    subscribe(billing_app, billing_tenant, "commune-xs-month", pending_stripe=True)
    client, admin = admin_client(billing_app, billing_tenant)
    page = client.get("/gestion/abonnement/")
    response = client.post(
        "/gestion/abonnement/offre",
        data={"csrf_token": csrf_in(page.text), "plan": "commune-s-month"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Votre offre est désormais « Commune de 3 500 à 20 000 habitants — mensuel »" in text(
        response
    )
    assert read_subscription(billing_app, billing_tenant)["plan_code"] == "commune-s-month"
    rows = audit_rows(billing_app, billing_tenant, "billing.plan_changed")
    assert rows[-1]["actor_id"] == admin.id
    assert rows[-1]["details"] == {"previous_plan": "commune-xs-month", "plan": "commune-s-month"}


def test_forms_without_csrf_are_refused(billing_app, billing_tenant):
    subscribe(billing_app, billing_tenant, "commune-xs-month")
    client, _admin = admin_client(billing_app, billing_tenant)
    for path, data in (
        ("/gestion/abonnement/offre", {"plan": "commune-s-month"}),
        ("/gestion/abonnement/mandat", {"plan": "commune-s-month", "siret": "1"}),
        ("/gestion/abonnement/carte", {"plan": "commune-s-month"}),
        ("/gestion/abonnement/portail", {}),
    ):
        assert client.post(path, data=data).status_code == 400, path
    assert read_subscription(billing_app, billing_tenant)["plan_code"] == "commune-xs-month"


def test_a_tenant_without_subscription_can_start_paying(billing_app, billing_tenant, no_stripe):
    client, _admin = admin_client(billing_app, billing_tenant)
    page = client.get("/gestion/abonnement/")
    assert page.status_code == 200
    assert "ouvert directement par l'équipe Pnyx" in text(page)
    form = client.get("/gestion/abonnement/mandat")
    siret = siret_for(billing_app, billing_tenant)
    response = client.post(
        "/gestion/abonnement/mandat",
        data={
            "csrf_token": csrf_in(form.text),
            "plan": "commune-xs-month",
            "siret": siret,
            "purchase_order": "BC-0",
        },
    )
    assert response.status_code == 302
    sub = read_subscription(billing_app, billing_tenant)
    assert sub["pending_stripe"] is True and sub["siret"] == siret


# --------------------------------------------------------------------------- CLI, demo


def test_cli_commands(billing_app, make_tenant, no_stripe):
    runner = billing_app.test_cli_runner()
    seeded = runner.invoke(args=["billing", "seed-plans"])
    assert seeded.exit_code == 0, seeded.output
    assert "Every default plan already exists." in seeded.output
    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, trial_ends_at=utc(2026, 1, 1))
    swept = runner.invoke(args=["billing", "sweep", "--now", "2026-01-02T00:00:00"])
    assert swept.exit_code == 0, swept.output
    counts = json.loads(swept.output)
    assert counts["subscriptions"] >= 1 and counts.get("trialing->read_only", 0) >= 1
    assert read_subscription(billing_app, tenant)["state"] == "read_only"
    reconciled = runner.invoke(args=["billing", "reconcile"])
    assert reconciled.exit_code == 0
    assert json.loads(reconciled.output) == {"skipped": "stripe not configured"}


def test_the_cron_schedule_registers_both_jobs():
    from rq import cron

    cron._job_data_registry.clear()
    import importlib

    import billing.cron

    importlib.reload(billing.cron)
    names = {entry["func"].__name__: entry for entry in cron._job_data_registry}
    cron._job_data_registry.clear()
    assert names["run_daily_sweep"]["cron"] == "15 3 * * *"
    assert names["reconcile_with_stripe"]["interval"] == 3600


def test_the_demo_seeder_gives_three_states_and_is_idempotent(
    billing_app, make_tenant, monkeypatch, no_stripe
):
    from billing import demo
    from billing.models import Invoice

    tenants = {name: make_tenant(provision=False) for name in ("mulhouse", "angers", "saillans")}
    setups = {"mulhouse": demo._mulhouse, "angers": demo._angers, "saillans": demo._saillans}
    monkeypatch.setattr(
        demo,
        "DEMO_SUBSCRIPTIONS",
        [(tenants[name].slug, setups[name]) for name in ("mulhouse", "angers", "saillans")],
    )
    with billing_app.app_context():
        first = list(demo.seed_billing())
        second = list(demo.seed_billing())
    assert first == second
    assert len(first) == 4 and "plans" in first[0]
    mulhouse = read_subscription(billing_app, tenants["mulhouse"])
    angers = read_subscription(billing_app, tenants["angers"])
    saillans = read_subscription(billing_app, tenants["saillans"])
    assert mulhouse["state"] == "active" and mulhouse["collection_method"] == "send_invoice"
    assert mulhouse["pending_stripe"] is True and mulhouse["siret"]
    assert angers["state"] == "trialing"

    assert 9 <= (angers["trial_ends_at"] - clock.utcnow()).days <= 10
    assert saillans["state"] == "past_due"
    assert 24 <= (saillans["grace_until"] - clock.utcnow()).days <= 25
    with billing_app.app_context():
        statuses = {
            tenant_id: status
            for tenant_id, status in db.session.execute(
                sa.select(Invoice.tenant_id, Invoice.status).where(
                    Invoice.tenant_id.in_([t.id for t in tenants.values()])
                )
            )
        }
    assert statuses == {tenants["mulhouse"].id: "paid", tenants["saillans"].id: "open"}
