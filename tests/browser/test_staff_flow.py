"""The staff of a collectivité in a real browser: an administrator (second factor already
enrolled) invites an agent from the team page; the agent opens the link of the real mail,
creates the account, enrols the second factor with the secret shown on the page, keeps the
recovery codes and reaches the staff home. Every page is checked with axe."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.axe import visit
from tests.support import PASSWORD as ADMIN_PASSWORD

pytestmark = pytest.mark.browser

AGENT_PASSWORD = "Phare-Tamarin-Quenouille-58"
SERVICE = "Voirie et propreté"
TEAM = "/gestion/equipe"


@pytest.fixture
def admin(live_server, live_tenant):
    """An administrator of the live tenant, TOTP enrolled, in the service the agent joins."""
    from tests.support import create_person

    return create_person(
        live_server.app,
        live_tenant.ref,
        "admin",
        email=f"admin.{uuid.uuid4().hex[:10]}@exemple.fr",
        display_name="Alex Administrateur",
        services=(SERVICE,),
        password=ADMIN_PASSWORD,
    )


def _log_in_as_admin(page, live_tenant, admin, follow) -> None:
    # A staff page sends to the log-in form, then comes back after the second factor.
    visit(page, live_tenant.page_url(TEAM))
    assert page.url.startswith(live_tenant.page_url("/connexion?next=")), page.url
    page.get_by_label("Adresse e-mail").fill(admin.email)
    page.get_by_label("Mot de passe").fill(ADMIN_PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"))
    assert page.url == live_tenant.page_url("/gestion/securite/verification")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification en deux étapes")
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(admin.secret).now())
    follow(page, page.get_by_role("button", name="Valider", exact=True))
    assert page.url == live_tenant.page_url(TEAM)


def test_an_invited_agent_joins_and_enrols_the_second_factor(
    page, open_page, live_tenant, admin, follow, mail_link
):
    agent_email = f"agent.{uuid.uuid4().hex[:10]}@exemple.fr"

    # The administrator invites the agent.
    _log_in_as_admin(page, live_tenant, admin, follow)
    expect(page.get_by_role("heading", level=1)).to_have_text("Équipe")
    follow(page, page.get_by_role("main").get_by_role("link", name="Inviter une personne"))
    page.get_by_label("Adresse e-mail").fill(agent_email)
    expect(page.get_by_role("radio", name=re.compile("^Agent d'un service"))).to_be_checked()
    page.get_by_role("checkbox", name=SERVICE).check()
    follow(page, page.get_by_role("button", name="Envoyer l'invitation"))
    assert page.url == live_tenant.page_url(TEAM)
    expect(page.get_by_role("status")).to_contain_text(f"Invitation envoyée à {agent_email}")
    expect(page.get_by_role("cell", name=agent_email, exact=True)).to_be_visible()
    expect(
        page.get_by_role("button", name=f"Annuler l'invitation de {agent_email}")
    ).to_be_visible()

    # The agent, in a browser of their own, opens the link of the mail.
    link = mail_link(agent_email, "/gestion/invitation/")
    assert link.startswith(live_tenant.page_url("/gestion/invitation/")), link
    agent = open_page()
    visit(agent, link)
    expect(agent.get_by_role("heading", level=1)).to_contain_text("Rejoindre l'équipe")
    expect(agent.get_by_role("main")).to_contain_text(agent_email)
    agent.get_by_label("Nom affiché").fill("Sacha Agent")
    agent.get_by_label("Mot de passe", exact=True).fill(AGENT_PASSWORD)
    agent.get_by_label("Confirmation du mot de passe").fill(AGENT_PASSWORD)
    agent.get_by_label("J'ai lu et j'accepte les conditions générales").check()
    follow(agent, agent.get_by_role("button", name="Créer mon compte et rejoindre l'équipe"))

    # Second factor, with the key written on the page (as typed into an app by hand).
    assert agent.url == live_tenant.page_url("/gestion/securite/double-authentification")
    expect(agent.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(agent.get_by_role("status")).to_contain_text("Bienvenue dans l'équipe !")
    expect(agent.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = agent.locator("code.secret").inner_text().replace(" ", "").strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    agent.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    follow(agent, agent.get_by_role("button", name="Activer la double authentification"))

    expect(agent.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(agent.get_by_role("status")).to_contain_text("La double authentification est activée")
    codes = agent.locator(".recovery-codes li")
    assert codes.count() >= 8, codes.all_inner_texts()
    assert all(code.strip() for code in codes.all_inner_texts())

    follow(agent, agent.get_by_role("link", name="J'ai conservé mes codes, continuer"))
    assert agent.url == live_tenant.page_url("/gestion/")
    expect(agent.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(agent.get_by_role("main")).to_contain_text("Bonjour Sacha Agent")
    expect(agent.get_by_role("main")).to_contain_text("Agent d'un service")
    expect(agent.get_by_role("main")).to_contain_text(f"Vos services : {SERVICE}")
    # An agent's menu has no team page.
    staff_menu = agent.get_by_role("navigation", name="Administration de l’espace")
    expect(staff_menu.get_by_role("link", name="Tableau de bord")).to_have_attribute(
        "aria-current", "page"
    )
    expect(staff_menu.get_by_role("link", name="Équipe")).to_have_count(0)

    # The administrator sees the new member, second factor on.
    visit(page, live_tenant.page_url(TEAM))
    # The live tenant is shared with other browser tests: find the row by its unique e-mail.
    row = page.get_by_role("row").filter(has_text=agent_email)
    expect(row).to_contain_text("Sacha Agent")
    expect(row).to_contain_text("Activée")
