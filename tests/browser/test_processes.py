"""Participatory processes in a real browser: the home page and a process page (axe, the
timeline with the keyboard, small screens), and a moderator who creates, schedules and
publishes a process through the staff pages."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from core import clock
from tests.browser.axe import assert_accessible, visit
from tests.support import PASSWORD

pytestmark = pytest.mark.browser


# --------------------------------------------------------------------------- the site


@pytest.fixture(scope="module")
def site(live_server, make_live_tenant) -> tuple:
    """``(live server, a live tenant of this module)``."""
    return live_server, make_live_tenant()


@pytest.fixture(scope="module")
def published(site):
    """A published process of the site's tenant, open for contributions today."""
    from core.db import db
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState, Theme
    from tenants.context import tenant_context

    live_server, tenant = site
    today = clock.paris_today()
    with live_server.app.app_context(), tenant_context(tenant.ref):
        theme = Theme(name="Cadre de vie", position=1)
        process = Process(
            title="Réinventons les berges de l'Ill",
            summary="Promenade, baignade, nature : imaginons ensemble les berges.",
            description="## Le projet\n\nDes berges **accessibles** à toutes et à tous.",
            theme=theme,
            state=ProcessState.DRAFT,
        )
        process.phases = [
            Phase(
                kind=PhaseKind.INFORMATION,
                title="Information",
                position=1,
                starts_on=today - timedelta(days=30),
                ends_on=today - timedelta(days=11),
                allows_comment=True,
                description="Trois réunions publiques, 180 personnes.",
            ),
            Phase(
                kind=PhaseKind.CONTRIBUTIONS,
                title="Vos propositions",
                position=2,
                starts_on=today - timedelta(days=10),
                ends_on=today + timedelta(days=20),
                allows_propose=True,
                allows_support=True,
            ),
            Phase(
                kind=PhaseKind.VOTE,
                title="Vote des habitants",
                position=3,
                starts_on=today + timedelta(days=40),
                ends_on=today + timedelta(days=50),
                allows_support=True,
            ),
        ]
        db.session.add(process)
        db.session.flush()
        process.publish()
        db.session.commit()
        return process.id


# --------------------------------------------------------------------------- public pages


def test_home_and_process_page_are_accessible_and_the_timeline_keyboard_readable(
    page, site, published, follow
):
    _live_server, tenant = site
    visit(page, tenant.page_url("/"))
    open_now = page.get_by_role("region", name="Démarches en cours")
    card = open_now.get_by_role("link", name="Réinventons les berges de l'Ill")
    expect(card).to_be_visible()
    expect(open_now).to_contain_text("Vous pouvez maintenant : Déposer une proposition, Soutenir")

    follow(page, card)
    assert page.url == tenant.page_url(f"/demarches/{published}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Réinventons les berges de l'Ill")
    now = page.get_by_role("region", name="Ce que vous pouvez faire maintenant")
    expect(now).to_contain_text("Déposer une proposition")

    # The keyboard reaches the timeline through the page's table of contents.
    link = page.get_by_role("link", name="Calendrier de la démarche")
    for _ in range(40):
        page.keyboard.press("Tab")
        if link.evaluate("element => element === document.activeElement"):
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    timeline = page.locator("section#calendrier")
    expect(timeline).to_be_focused()
    expect(timeline).to_be_in_viewport()
    steps = timeline.get_by_role("listitem").filter(has=page.get_by_role("heading", level=3))
    expect(steps).to_have_count(3)
    current = timeline.locator('li[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current.get_by_role("heading", level=3)).to_have_text("Vos propositions")
    expect(current).to_contain_text("En cours")
    expect(steps.nth(0)).to_contain_text("Terminée")
    expect(steps.nth(0)).to_contain_text("Trois réunions publiques")
    expect(steps.nth(2)).to_contain_text("À venir")
    # Tab goes on from the timeline to what follows (no trap).
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement !== document.body")

    # The list of processes, and a small screen.
    visit(page, tenant.page_url("/demarches?etat=en-cours"))
    expect(page.get_by_role("link", name="Réinventons les berges de l'Ill")).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/", f"/demarches/{published}", "/demarches"):
        visit(page, tenant.page_url(path))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} scrolls sideways at 320 px ({width} px wide)"


def test_a_draft_is_not_found_for_visitors(page, site):
    from core.db import db
    from participation.processes.models import Process, ProcessState
    from tenants.context import tenant_context

    live_server, tenant = site
    with live_server.app.app_context(), tenant_context(tenant.ref):
        draft = Process(title="Brouillon", summary="…", state=ProcessState.DRAFT)
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    visit(page, tenant.page_url(f"/demarches/{draft_id}"), status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Erreur 404")


# --------------------------------------------------------------------------- staff


def test_a_moderator_creates_schedules_and_publishes_a_process(page, site, follow):
    from tests.support import create_person

    live_server, tenant = site
    moderator = create_person(live_server.app, tenant.ref, "moderator", password=PASSWORD)
    visit(page, tenant.page_url("/gestion/demarches/nouvelle"))
    page.get_by_label("Adresse e-mail").fill(moderator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"))
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(moderator.secret).now())
    follow(page, page.get_by_role("button", name="Valider", exact=True))
    assert page.url == tenant.page_url("/gestion/demarches/nouvelle")
    assert_accessible(page)

    page.get_by_label("Titre", exact=True).fill("Plan vélo 2027")
    page.get_by_label("Résumé").fill("Dites-nous où vous aimeriez pédaler en sécurité.")
    page.get_by_label("Description", exact=True).fill("Des pistes **continues**.")
    follow(page, page.get_by_role("button", name="Prévisualiser la description"))
    preview = page.get_by_role("region", name="Aperçu de la description (non enregistré)")
    expect(preview.locator("strong")).to_have_text("continues")
    follow(page, page.get_by_role("button", name="Créer la démarche"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan vélo 2027")

    # Publishing without a phase is refused; then a phase is added and it is published.
    follow(page, page.get_by_role("button", name="Publier la démarche"))
    expect(page.locator(".flash-error")).to_have_text(
        "Ajoutez au moins une phase avant de publier."
    )
    follow(page, page.get_by_role("link", name="Gérer les phases"))
    today = clock.paris_today()
    page.get_by_label("Type de phase").select_option(label="Contributions")
    page.get_by_label("Titre de la phase").fill("Vos propositions")
    page.get_by_label("Date de début").fill(today.isoformat())
    page.get_by_label("Date de fin").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Déposer une proposition").check()
    follow(page, page.get_by_role("button", name="Ajouter la phase"))
    expect(page.locator(".error-summary")).to_contain_text(
        "La date de fin doit être le même jour que la date de début ou après."
    )
    page.get_by_label("Date de fin").fill((today + timedelta(days=30)).isoformat())
    follow(page, page.get_by_role("button", name="Ajouter la phase"))
    expect(page.get_by_role("cell", name="Déposer une proposition")).to_be_visible()

    follow(page, page.get_by_role("link", name="Retour à la démarche"))
    follow(page, page.get_by_role("button", name="Publier la démarche"))
    expect(page.locator(".flash-success")).to_contain_text("est publiée")
    follow(page, page.get_by_role("link", name="Voir la page publique"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan vélo 2027")
    expect(page.locator('li[aria-current="step"]')).to_contain_text("Vos propositions")
