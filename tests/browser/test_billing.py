"""The billing pages in a real browser, each checked with axe-core: the admin's subscription
page and invoice form (tenant site), the operator's console, a tenant's billing, the plans
and a plan's form (platform site)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible, visit
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

NEEDED = (
    "billing_admin.index",
    "billing_operator.index",
    "staff.home",
    "accounts.login",
    "platform_accounts.login",
)


def _prepare(app) -> None:
    from billing.catalogue import seed_plans
    from core.db import db

    with app.app_context():
        seed_plans()
        db.session.commit()


@pytest.fixture(scope="module")
def site(live_server, smtp_server):
    """The live server, the plans seeded."""
    live_server.app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    _prepare(live_server.app)
    return live_server


@pytest.fixture(scope="module")
def billed_tenant(site):
    """A provisioned tenant on an invoice subscription, one invoice paid, one overdue."""
    import sqlalchemy as sa

    from billing import services
    from billing.models import CollectionMethod, Invoice
    from billing.siret import complete_siret
    from core.db import db
    from tenants import official
    from tenants.context import load_tenant_ref
    from tenants.models import Tenant
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant
    from tests.support import ensure_legal_documents

    app = site.app
    now = datetime.now(UTC)
    with app.app_context():
        taken = set(db.session.scalars(sa.select(Tenant.code)))
        code = next(
            c.code
            for c in official.search("bourg", limit=300)
            if c.kind == "commune" and c.code not in taken
        )
        tenant = create_tenant(code, site.platform_host, slug=f"f-{uuid.uuid4().hex[:10]}")
        db.session.commit()
        provision_now(db.engine, tenant.id)
        sub = services.start_trial(tenant.id, now=now - timedelta(days=100))
        sub.collection_method = CollectionMethod.INVOICE
        sub.pending_stripe = True
        sub.siret = complete_siret(tenant.siren or "216802249")
        sub.purchase_order = "BC-2026-0007"
        for number, status, issued in (
            ("PNYX-2026-0101", "paid", now - timedelta(days=70)),
            ("PNYX-2026-0102", "open", now - timedelta(days=40)),
        ):
            db.session.add(
                Invoice(
                    tenant_id=tenant.id,
                    subscription_id=sub.id,
                    number=number,
                    status=status,
                    total_cents=5_880,
                    amount_due_cents=5_880,
                    issued_at=issued,
                    due_at=issued + timedelta(days=30),
                    invoice_pdf_url=f"https://pay.stripe.com/invoice/{number}/pdf",
                    hosted_invoice_url=f"https://invoice.stripe.com/i/{number}",
                )
            )
        db.session.flush()
        services.refresh_state(sub, now)
        db.session.commit()
        ref = load_tenant_ref(tenant.id)
    ensure_legal_documents(app, ref)
    return ref


def _tenant_url(site, tenant, path: str) -> str:
    return site.url_for_host(tenant.primary_host, path)


def _log_in_admin(page, site, tenant) -> None:
    from tests.support import create_person

    admin = create_person(site.app, tenant, "admin", password=PASSWORD)
    visit(page, _tenant_url(site, tenant, "/connexion?next=/gestion/abonnement/"))
    page.get_by_label("Adresse e-mail").fill(admin.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(admin.secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Valider", exact=True).click()
    assert page.url == _tenant_url(site, tenant, "/gestion/abonnement/"), page.url


def test_the_admin_billing_pages_are_accessible(page, site, billed_tenant):
    _log_in_admin(page, site, billed_tenant)
    visit(page, _tenant_url(site, billed_tenant, "/gestion/abonnement/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Abonnement")
    expect(page.get_by_role("status").first).to_contain_text("en retard de paiement")
    expect(page.get_by_role("link", name="PDF de la facture PNYX-2026-0101")).to_be_visible()
    expect(page.locator("main")).to_contain_text("n'est pas configuré sur cette plateforme")

    # With a Stripe key, the card form is offered (nothing is sent to Stripe to show it).
    site.app.config["STRIPE_SECRET_KEY"] = "sk_test_browser"
    try:
        from billing.models import Plan
        from core.db import db

        with site.app.app_context():
            for plan in db.session.query(Plan):
                plan.stripe_price_id = plan.stripe_price_id or f"price_{plan.code}".replace(
                    "-", "_"
                )
            db.session.commit()
        visit(page, _tenant_url(site, billed_tenant, "/gestion/abonnement/"))
        expect(page.get_by_role("button", name="Payer par carte avec Stripe")).to_be_visible()
    finally:
        site.app.config["STRIPE_SECRET_KEY"] = ""

    # Small screens: no sideways scrolling.
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, _tenant_url(site, billed_tenant, "/gestion/abonnement/"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})

    # The invoice form, then its errors.
    visit(page, _tenant_url(site, billed_tenant, "/gestion/abonnement/mandat"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("mandat administratif")
    page.get_by_label("Numéro SIRET de la collectivité").fill("123")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer l'abonnement sur facture").click()
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    assert_accessible(page)


def _log_in_operator(page, site) -> None:
    from core.db import db
    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    secret = pyotp.random_base32()
    email = f"ops.{uuid.uuid4().hex[:8]}@exemple.fr"
    with site.app.app_context():
        user = create_platform_user(email, "Dominique Opératrice", "operator", password=PASSWORD)
        enable_totp_with_secret(user, secret)
        db.session.commit()
    visit(page, site.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Vérifier", exact=True).click()
    assert page.url == site.url + "/operateur", page.url


def test_the_operator_billing_pages_are_accessible(page, site, billed_tenant):
    from billing.services import get_plan
    from core.db import db

    _log_in_operator(page, site)
    visit(page, site.url + "/operateur/facturation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Facturation des collectivités")
    row = page.get_by_role("row").filter(has_text=billed_tenant.name)
    expect(row).to_contain_text("Paiement en retard")

    visit(page, site.url + f"/operateur/facturation/{billed_tenant.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(billed_tenant.name)
    expect(page.get_by_label("Référence du virement (facture PNYX-2026-0102)")).to_be_visible()

    visit(page, site.url + "/operateur/facturation/offres")
    expect(page.get_by_role("heading", level=1)).to_have_text("Offres et prix")
    with site.app.app_context():
        plan_id = get_plan("commune-xs-month").id
        db.session.rollback()
    visit(page, site.url + f"/operateur/facturation/offres/{plan_id}")
    expect(page.get_by_label("Prix hors taxes, en euros")).to_have_value("49.00")
