"""A platform operator in a real browser: the first log-in on the platform host, the
mandatory TOTP enrolment with the key shown on the page, the recovery codes, then the
operator console listing the live tenant; log-out. Every page is checked with axe."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.axe import visit

pytestmark = pytest.mark.browser

PASSWORD = "Lagune-Ocarina-Brindille-7302"


@pytest.fixture
def operator(live_server) -> str:
    """A new operator account (no second factor yet); returns its e-mail."""
    from core.db import db
    from tenants.platform import services

    email = f"operateur.{uuid.uuid4().hex[:10]}@exemple.fr"
    with live_server.app.app_context():
        services.create_platform_user(email, "Dominique Opératrice", "operator", PASSWORD)
        db.session.commit()
    return email


def test_an_operator_enrols_totp_and_reaches_the_console(
    page, live_server, live_tenant, operator, follow
):
    visit(page, live_server.url + "/connexion")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à la plateforme")
    page.get_by_label("Adresse e-mail").fill(operator)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"))

    # No second factor yet: the enrolment page, and nothing else, is open.
    assert page.url == live_server.url + "/compte/double-authentification"
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    shown = page.locator("#totp-secret").inner_text()
    secret = shown.replace(" ", "").strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), shown
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    follow(page, page.get_by_role("button", name="Activer", exact=True))

    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification activée")
    codes = page.locator(".recovery-codes li")
    assert codes.count() >= 8, codes.all_inner_texts()

    follow(page, page.get_by_role("link", name="J'ai conservé mes codes, continuer"))
    assert page.url == live_server.url + "/operateur"
    expect(page.get_by_role("heading", level=1)).to_have_text("Console opérateur")
    tenants = page.get_by_role("region", name="Collectivités")
    expect(tenants.get_by_role("link", name=live_tenant.ref.primary_host)).to_have_attribute(
        "href", live_tenant.page_url("/")
    )
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Console opérateur")).to_be_visible()

    follow(page, nav.get_by_role("button", name="Se déconnecter"))
    assert page.url == live_server.url + "/connexion"
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté.")
    visit(page, live_server.url + "/operateur")
    assert page.url.startswith(live_server.url + "/connexion"), page.url
