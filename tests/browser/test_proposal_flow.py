"""Proposals in a real browser: a citizen proposes in an open process; an administrator
(second factor given) assigns the proposal to a service and one of its agents, then answers
it; the citizen sees the new status on the proposal and in the notification centre, and
receives the e-mail. Every page on the way is checked with axe."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.axe import visit
from tests.support import PASSWORD as CITIZEN_PASSWORD

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "Phare-Tamarin-Quenouille-58"
SERVICE = "Voirie et espaces publics"
TITLE = "Des fontaines à eau dans les squares"
NEEDED = ("proposals.show", "processes.show", "engagement.notifications", "debates.show")


@pytest.fixture(scope="module")
def site(live_server, live_tenant):
    """``(server, tenant)``."""
    return live_server, live_tenant


def _paris_today():
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def _log_in(page, tenant, email: str, password: str, follow, secret: str | None = None):
    visit(page, tenant.page_url("/connexion"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    follow(page, page.get_by_role("button", name="Se connecter"))
    if secret:
        assert page.url.startswith(tenant.page_url("/gestion/securite/verification")), page.url
        page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        follow(page, page.get_by_role("button", name="Valider", exact=True))


def test_a_citizen_proposes_staff_answer_and_the_citizen_sees_it(
    page, open_page, site, follow, smtp_server
):
    from tests.support import create_person, ensure_legal_documents
    from tests.support.participation import make_process

    server, tenant = site
    app, ref = server.app, tenant.ref
    ensure_legal_documents(app, ref)
    today = _paris_today()
    process_id = make_process(app, ref, base=today, title="Réinventons nos squares")
    suffix = uuid.uuid4().hex[:8]
    citizen = create_person(
        app,
        ref,
        None,
        email=f"camille.{suffix}@exemple.fr",
        display_name="Camille Martin",
        password=CITIZEN_PASSWORD,
    )
    admin = create_person(
        app,
        ref,
        "admin",
        email=f"admin.{suffix}@exemple.fr",
        display_name="Alex Administrateur",
        password=ADMIN_PASSWORD,
    )
    agent = create_person(
        app,
        ref,
        "agent",
        email=f"agent.{suffix}@exemple.fr",
        display_name=f"Sacha Agent {suffix}",
        services=(SERVICE,),
    )

    # --- The citizen proposes, from the process page.
    _log_in(page, tenant, citizen.email, CITIZEN_PASSWORD, follow)
    visit(page, tenant.page_url(f"/demarches/{process_id}"))
    section = page.get_by_role("region", name="Propositions")
    expect(section).to_contain_text("Aucune proposition pour le moment")
    follow(page, section.get_by_role("link", name="Déposer une proposition"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Déposer une proposition")
    # The anti-spam trap is in the form, but off-screen for people.
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()
    page.get_by_label("Titre").fill(TITLE)
    page.get_by_label("Description", exact=True).fill(
        "Boire de l'eau fraîche en été sans acheter de bouteille : une fontaine par square."
    )
    page.get_by_label("Latitude").fill("47,7508")
    page.get_by_label("Longitude").fill("7,3359")
    follow(page, page.get_by_role("button", name="Publier ma proposition"))
    match = re.search(r"/propositions/(\d+)$", page.url)
    assert match, page.url
    proposal_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("status")).to_contain_text("Votre proposition est publiée")
    expect(page.locator(".status-badge")).to_have_text("Reçue")
    expect(page.get_by_role("link", name=re.compile("OpenStreetMap"))).to_be_visible()

    # It can still be edited (the form is accessible too), then it shows in the list.
    follow(page, page.get_by_role("link", name="Modifier ma proposition"))
    page.get_by_label("Titre").fill(TITLE + " ")
    follow(page, page.get_by_role("button", name="Enregistrer les modifications"))
    visit(page, tenant.page_url(f"/demarches/{process_id}/propositions"))
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    visit(page, tenant.page_url(f"/demarches/{process_id}/propositions?sort=random"))
    assert "seed=" in page.url
    visit(page, tenant.page_url(f"/demarches/{process_id}/propositions?q=fontaine"))
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()

    # --- The administrator assigns it, then answers it.
    staff = open_page()
    _log_in(staff, tenant, admin.email, ADMIN_PASSWORD, follow, secret=admin.secret)
    visit(staff, tenant.page_url("/gestion/propositions/"))
    expect(staff.get_by_role("heading", level=1)).to_have_text("Propositions : ce qui attend")
    follow(staff, staff.get_by_role("link", name="Toutes les propositions"))
    follow(staff, staff.get_by_role("link", name=TITLE))
    expect(staff.get_by_role("heading", level=1)).to_contain_text(TITLE)
    staff.get_by_label("Service").select_option(label=SERVICE)
    staff.get_by_label("Agent", exact=True).select_option(label=f"{agent.display_name} ({SERVICE})")
    staff.get_by_label("Échéance").fill((today + timedelta(days=14)).isoformat())
    follow(staff, staff.get_by_role("button", name="Enregistrer l'affectation"))
    expect(staff.get_by_role("status")).to_contain_text("L'affectation est enregistrée")
    staff.get_by_label("Statut", exact=True).select_option(label="Retenue")
    staff.get_by_label("Réponse publique de la collectivité").fill(
        "Deux fontaines seront installées au square Steinbach **dès juin**."
    )
    follow(staff, staff.get_by_role("button", name="Enregistrer et prévenir"))
    expect(staff.get_by_role("status")).to_contain_text("l'auteur et les abonnés")
    visit(staff, tenant.page_url("/gestion/propositions/statuts"))
    visit(staff, tenant.page_url("/gestion/propositions/liste?waiting=1"))

    # --- The citizen sees the new status and the answer.
    visit(page, proposal_url)
    expect(page.locator(".status-badge")).to_have_text("Retenue")
    answer = page.get_by_role("region", name="Réponse de la collectivité")
    expect(answer).to_contain_text("Deux fontaines seront installées")
    expect(page.locator(".timeline")).to_contain_text("Nouveau statut : « Retenue »")
    expect(page.locator(".timeline")).not_to_contain_text(agent.display_name)  # internal
    visit(page, tenant.page_url("/notifications"))
    expect(page.get_by_role("main")).to_contain_text(f"« {TITLE} » : Retenue")

    # ... and the e-mail; the agent got theirs.
    def status_mail(messages):
        return [
            m for m in messages if citizen.email in m.envelope_to and "Retenue" in str(m["Subject"])
        ]

    mail = smtp_server.wait_for(status_mail, timeout=10)[0]
    assert TITLE in str(mail["Subject"])
    assert any(f"/propositions/{match.group(1)}" in link for link in smtp_server.links_in(mail))
    assignment = smtp_server.wait_for_message_to(agent.email, timeout=10)
    assert "Une proposition vous est confiée" in str(assignment["Subject"])
