"""The billing state machine, transition by transition, with the clock given explicitly;
read-only enforcement on the tenant's pages; reminder e-mails; archiving."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from tests.support import client_on, csrf_in, text
from tests.support.billing import (
    add_invoice,
    admin_client,
    days,
    read_subscription,
    refresh,
    subscribe,
    utc,
)
from tests.support.smtp import links_in, text_of

T0 = utc(2026, 3, 2, 9, 0)


# --------------------------------------------------------------------------- transitions


def test_trial_then_read_only_then_canceled_when_nobody_subscribes(billing_app, make_tenant):
    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, trial_ends_at=T0)
    assert refresh(billing_app, tenant, T0 - days(1)) == "trialing"
    assert refresh(billing_app, tenant, T0) == "read_only"
    sub = read_subscription(billing_app, tenant)
    assert sub["read_only_since"] == T0
    assert sub["canceled_at"] is None
    # The grace period runs from the end of the trial.
    assert refresh(billing_app, tenant, T0 + days(44)) == "read_only"
    assert refresh(billing_app, tenant, T0 + days(45)) == "canceled"
    sub = read_subscription(billing_app, tenant)
    assert sub["canceled_at"] == T0 + days(45)
    assert sub["retention_until"] == T0 + days(45 + 90)


def test_a_commitment_during_the_trial_keeps_the_space_open(billing_app, make_tenant):
    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, trial_ends_at=T0, pending_stripe=True)
    assert refresh(billing_app, tenant, T0 - days(1)) == "trialing"
    assert refresh(billing_app, tenant, T0 + days(1)) == "active"


def test_active_past_due_read_only_and_back_to_active(billing_app, make_tenant):
    from billing import services

    tenant = make_tenant(provision=False)
    subscribe(
        billing_app,
        tenant,
        trial_ends_at=T0 - days(60),
        stripe_subscription_id=f"sub_state_{tenant.id}",
        stripe_status="active",
        collection_method="send_invoice",
    )
    due = T0 + days(30)
    invoice_id = add_invoice(billing_app, tenant, issued_at=T0, due_at=due)
    assert refresh(billing_app, tenant, T0) == "active"  # issued, not due yet
    assert refresh(billing_app, tenant, due + timedelta(minutes=1)) == "past_due"
    sub = read_subscription(billing_app, tenant)
    assert sub["past_due_since"] == due
    assert sub["grace_until"] == due + days(45)  # 45 days past the due date
    assert refresh(billing_app, tenant, due + days(44)) == "past_due"
    assert refresh(billing_app, tenant, due + days(45)) == "read_only"
    assert read_subscription(billing_app, tenant)["read_only_since"] == due + days(45)
    # The public accountant's transfer arrives: marked paid, the space reopens.
    with billing_app.test_request_context("/"):
        services.mark_invoice_paid_out_of_band(invoice_id, "Mandat 2026-77", actor_id=None)
        db.session.commit()
    sub = read_subscription(billing_app, tenant)
    assert sub["state"] == "active"
    assert sub["past_due_since"] is None and sub["grace_until"] is None


def test_stripe_past_due_without_a_local_invoice_starts_the_grace_period(billing_app, make_tenant):
    tenant = make_tenant(provision=False)
    subscribe(
        billing_app,
        tenant,
        stripe_subscription_id=f"sub_pd_{tenant.id}",
        stripe_status="past_due",
        trial_ends_at=T0 - days(90),
    )
    assert refresh(billing_app, tenant, T0) == "past_due"
    assert read_subscription(billing_app, tenant)["grace_until"] == T0 + days(45)
    # The start of the grace period does not move with the next refresh.
    assert refresh(billing_app, tenant, T0 + days(10)) == "past_due"
    assert read_subscription(billing_app, tenant)["grace_until"] == T0 + days(45)


def test_canceled_keeps_the_data_for_the_retention_period(billing_app, make_tenant):
    tenant = make_tenant(provision=False)
    subscribe(
        billing_app,
        tenant,
        stripe_subscription_id=f"sub_cx_{tenant.id}",
        stripe_status="canceled",
        canceled_at=T0,
    )
    assert refresh(billing_app, tenant, T0 + days(1)) == "canceled"
    assert read_subscription(billing_app, tenant)["retention_until"] == T0 + days(90)


def test_the_grace_period_is_a_setting(billing_app, make_tenant):
    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, trial_ends_at=T0)
    billing_app.config["BILLING_GRACE_DAYS"] = 10
    try:
        assert refresh(billing_app, tenant, T0 + days(10)) == "canceled"
    finally:
        billing_app.config["BILLING_GRACE_DAYS"] = 45


def test_the_sweep_archives_once_the_retention_period_is_over(
    billing_app, billing_tenant, tmp_path
):
    from billing.tasks import sweep_now
    from tenants.models import Tenant
    from tenants.platform.models import PlatformAuditEntry

    subscribe(
        billing_app,
        billing_tenant,
        stripe_subscription_id=f"sub_arch_{billing_tenant.id}",
        stripe_status="canceled",
        canceled_at=T0,
    )
    saved = billing_app.config["TENANT_EXPORT_DIR"]
    billing_app.config["TENANT_EXPORT_DIR"] = str(tmp_path)
    try:
        with billing_app.app_context():
            sweep_now(T0 + days(89))
        assert read_subscription(billing_app, billing_tenant)["state"] == "canceled"
        with billing_app.app_context():
            result = sweep_now(T0 + days(90))
        assert result.get("archived", 0) >= 1
    finally:
        billing_app.config["TENANT_EXPORT_DIR"] = saved
    sub = read_subscription(billing_app, billing_tenant)
    assert sub["state"] == "archived"
    assert sub["archived_at"] == T0 + days(90)
    with billing_app.app_context():
        tenant = db.session.get(Tenant, billing_tenant.id)
        assert tenant.status == "archived"
        export = Path(tenant.archive_path)
        assert export.parent == tmp_path and export.stat().st_size > 0
        audit = db.session.scalar(
            sa.select(PlatformAuditEntry).where(
                PlatformAuditEntry.action == "billing.tenant_archived",
                PlatformAuditEntry.target_id == str(billing_tenant.id),
            )
        )
        assert audit is not None
    # Archived is final: the site is gone (404), the sweep leaves it alone.
    with billing_app.app_context():
        sweep_now(T0 + days(200))
    assert read_subscription(billing_app, billing_tenant)["state"] == "archived"


# --------------------------------------------------------------------------- read-only


def _post_service(client, name: str):
    page = client.get("/gestion/services")
    assert page.status_code == 200, page.text
    return client.post("/gestion/services", data={"csrf_token": csrf_in(page.text), "name": name})


def test_read_only_refuses_writes_but_citizens_still_read(billing_app, billing_tenant):
    subscribe(
        billing_app,
        billing_tenant,
        trial_ends_at=T0 - days(200),
        stripe_subscription_id=f"sub_ro_{billing_tenant.id}",
        stripe_status="past_due",
        collection_method="send_invoice",
    )
    add_invoice(billing_app, billing_tenant, issued_at=T0 - days(120), due_at=T0 - days(90))
    refresh(billing_app, billing_tenant, utc(2099, 1, 1))
    client, _admin = admin_client(billing_app, billing_tenant)

    # Citizens read.
    visitor = client_on(billing_app, billing_tenant)
    assert visitor.get("/").status_code == 200
    # Nothing new can be written: a staff form is refused with the reason and the fix.
    response = _post_service(client, "Voirie")
    assert response.status_code == 403
    body = text(response)
    assert "est en lecture seule : une facture d'abonnement reste impayée" in body
    assert "Administration › Abonnement (/gestion/abonnement)" in body
    # The admin sees why on the staff pages…
    home = client.get("/gestion/")
    assert "est en lecture seule" in text(home)
    # …and can still act on billing (the billing pages are exempt).
    page = client.get("/gestion/abonnement/")
    assert page.status_code == 200
    assert "Rétablir l'espace" in text(page)
    assert "Lecture seule" in text(page)
    invoice_form = client.get("/gestion/abonnement/mandat")
    response = client.post(
        "/gestion/abonnement/mandat",
        data={"csrf_token": csrf_in(invoice_form.text), "plan": "", "siret": ""},
    )
    assert response.status_code == 200  # the form answers (with its errors), not a 403
    # Signing out and in stay possible.
    logout = client.post("/deconnexion", data={"csrf_token": csrf_in(home.text)})
    assert logout.status_code in (302, 303)


def test_read_only_applies_as_soon_as_the_grace_period_ends_without_the_sweep(
    billing_app, billing_tenant
):

    subscribe(
        billing_app,
        billing_tenant,
        state="past_due",
        stripe_subscription_id=f"sub_eff_{billing_tenant.id}",
        stripe_status="past_due",
        past_due_since=clock.utcnow() - days(46),
        grace_until=clock.utcnow() - days(1),
    )
    client, _admin = admin_client(billing_app, billing_tenant)
    assert _post_service(client, "Culture").status_code == 403


def test_past_due_still_writes_and_warns_the_admin(billing_app, billing_tenant):

    subscribe(
        billing_app,
        billing_tenant,
        stripe_subscription_id=f"sub_warn_{billing_tenant.id}",
        stripe_status="active",
        trial_ends_at=utc(2020, 1, 1),
    )
    add_invoice(
        billing_app,
        billing_tenant,
        issued_at=clock.utcnow() - days(40),
        due_at=clock.utcnow() - days(10),
    )
    refresh(billing_app, billing_tenant, clock.utcnow())
    client, _admin = admin_client(billing_app, billing_tenant)
    response = _post_service(client, "Jeunesse")
    assert response.status_code == 302
    home = text(client.get("/gestion/"))
    assert "Une facture d'abonnement est en retard de paiement" in home
    assert "l'espace passera en lecture seule" in home


def test_a_canceled_space_offers_its_export(billing_app, billing_tenant):
    import io
    import zipfile

    subscribe(
        billing_app,
        billing_tenant,
        stripe_subscription_id=f"sub_exp_{billing_tenant.id}",
        stripe_status="canceled",
        canceled_at=utc(2099, 1, 1),
    )
    refresh(billing_app, billing_tenant, utc(2099, 1, 2))
    client, admin = admin_client(billing_app, billing_tenant)
    assert _post_service(client, "Culture").status_code == 403
    page = text(client.get("/gestion/abonnement/"))
    assert "téléchargez l'export complet avant le" in page
    response = client.get("/gestion/abonnement/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"LISEZ-MOI.txt", "users.csv", "settings.csv"} <= names
    users = archive.read("users.csv").decode()
    assert admin.email in users
    header = users.splitlines()[0]
    assert "password_hash" not in header and "totp_secret" not in header
    assert "recovery_codes" not in header


def test_billing_pages_are_for_admins_only(billing_app, billing_tenant):
    from tests.support import logged_in

    subscribe(billing_app, billing_tenant)
    moderator, _person = logged_in(billing_app, billing_tenant, "moderator")
    for path in (
        "/gestion/abonnement/",
        "/gestion/abonnement/mandat",
        "/gestion/abonnement/export",
    ):
        assert moderator.get(path).status_code == 403
    anonymous = moderator.application.test_client()
    response = anonymous.get(
        "/gestion/abonnement/", base_url=f"http://{billing_tenant.primary_host}"
    )
    assert response.status_code == 302  # to the log-in page


# --------------------------------------------------------------------------- reminders


@pytest.fixture
def mail_tenant(billing_tenant, billing_app, mailbox):
    client, admin = admin_client(billing_app, billing_tenant)
    return billing_tenant, admin


def test_trial_reminders_seven_days_then_one_day_before_the_end(billing_app, mail_tenant, mailbox):
    from billing.tasks import sweep_subscription

    tenant, admin = mail_tenant
    sub_id = subscribe(billing_app, tenant, trial_ends_at=T0)
    with billing_app.app_context():
        assert sweep_subscription(sub_id, tenant.id, T0 - days(8)) == []
        assert sweep_subscription(sub_id, tenant.id, T0 - days(7)) == ["trial-7-2026-03-02"]
        assert sweep_subscription(sub_id, tenant.id, T0 - days(6)) == []  # sent once
        assert sweep_subscription(sub_id, tenant.id, T0 - days(1)) == ["trial-1-2026-03-02"]
    messages = mailbox.wait_for(lambda _: len(mailbox.messages_to(admin.email)) >= 2)
    first = mailbox.messages_to(admin.email)[0]
    assert messages
    assert first["Subject"] == (f"La période d'essai de {tenant.name} se termine le 2 mars 2026")
    assert f"http://{tenant.primary_host}/gestion/abonnement/" in links_in(first)
    assert "lecture seule" in text_of(first)


def test_overdue_reminders_every_week_to_admins_and_the_finance_office(
    billing_app, mail_tenant, mailbox
):
    from billing.tasks import sweep_subscription

    tenant, admin = mail_tenant
    sub_id = subscribe(
        billing_app,
        tenant,
        trial_ends_at=T0 - days(90),
        state="active",
        stripe_subscription_id=f"sub_rem_{tenant.id}",
        stripe_status="active",
        billing_email="finances@exemple.fr",
    )
    add_invoice(billing_app, tenant, number="PNYX-2026-0099", issued_at=T0 - days(30), due_at=T0)
    with billing_app.app_context():
        assert sweep_subscription(sub_id, tenant.id, T0 - days(1)) == []
        actions = sweep_subscription(sub_id, tenant.id, T0 + days(1))
        assert "active->past_due" in actions
        assert any(a.startswith("overdue-") for a in actions)
        assert sweep_subscription(sub_id, tenant.id, T0 + days(3)) == []
        assert any(
            a.startswith("overdue-") for a in sweep_subscription(sub_id, tenant.id, T0 + days(8))
        )
    to_admin = mailbox.wait_for(lambda _: mailbox.messages_to(admin.email))
    to_finance = mailbox.wait_for(lambda _: mailbox.messages_to("finances@exemple.fr"))
    assert (
        to_admin[0]["Subject"] == f"Facture PNYX-2026-0099 en attente de paiement — {tenant.name}"
    )
    assert "588,00" in text_of(to_finance[0])
    assert "16 avril 2026" in text_of(to_finance[0])  # due date + 45 days


def test_going_read_only_is_announced(billing_app, mail_tenant, mailbox):
    from billing.tasks import sweep_subscription

    tenant, admin = mail_tenant
    sub_id = subscribe(billing_app, tenant, trial_ends_at=T0)
    with billing_app.app_context():
        actions = sweep_subscription(sub_id, tenant.id, T0 + days(1))
    assert "trialing->read_only" in actions and "read-only" in actions
    message = mailbox.wait_for(
        lambda _: [m for m in mailbox.messages_to(admin.email) if "lecture seule" in m["Subject"]]
    )[0]
    assert "La période d'essai" in text_of(message)


def test_extending_the_trial_of_a_canceled_space_reopens_it(billing_app, make_tenant):
    from billing import services

    tenant = make_tenant(provision=False)
    subscribe(
        billing_app,
        tenant,
        stripe_subscription_id=f"sub_reopen_{tenant.id}",
        stripe_status="canceled",
        canceled_at=T0,
    )
    assert refresh(billing_app, tenant, T0 + days(1)) == "canceled"
    with billing_app.test_request_context("/"):
        services.extend_trial(tenant.id, 30, actor_id=None, now=T0 + days(2))
        db.session.commit()
    sub = read_subscription(billing_app, tenant)
    assert sub["state"] == "trialing"
    assert sub["trial_ends_at"] == T0 + days(32)
    assert sub["stripe_subscription_id"] is None and sub["retention_until"] is None
    # Archived is final.
    subscribe(billing_app, tenant, state="archived")
    with billing_app.test_request_context("/"):
        with pytest.raises(services.BillingError, match="archivé"):
            services.extend_trial(tenant.id, 30, actor_id=None)
        db.session.rollback()
