"""Sign-up of a collectivité in a real browser: from the search to a ready space.

The live server runs jobs synchronously (RQ_ASYNC=False), so the space is usually ready by
the time the progress page opens; the polling of that page is tested on its own, with a
space provisioned while the page is open. Every page is checked with axe-core.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible, visit
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

SEARCH_LABEL = "Nom, code postal ou code officiel de votre collectivité"


def seed_plans(app) -> None:
    """The trial needs the plans (seeded once by ``flask billing seed-plans`` in real life)."""
    from billing.catalogue import seed_plans
    from core.db import db

    with app.app_context():
        seed_plans()
        db.session.commit()


@pytest.fixture(scope="module")
def site(live_server, smtp_server):
    """The live server, the plans seeded."""
    # Mail from the server's jobs goes to the tests' SMTP server, whenever it started.
    live_server.app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    seed_plans(live_server.app)
    return live_server


def free_commune(app):
    """A commune with no space yet, found among the first ten results for its own name."""
    import sqlalchemy as sa

    from core.db import db
    from tenants import official

    with app.app_context():
        taken = set(db.session.scalars(sa.text("SELECT code FROM public.tenants")))
    for commune in official.search("champ", limit=300):
        if commune.kind != "commune" or commune.code in taken:
            continue
        if commune in official.search(commune.name, limit=10):
            return commune
    raise LookupError("no free commune for the browser sign-up")


def new_tenant(site, commune, provision: bool):
    from core.db import db
    from tenants.context import load_tenant_ref
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant

    with site.app.app_context():
        tenant = create_tenant(
            commune.code, site.platform_host, slug=f"bs-{uuid.uuid4().hex[:8]}", kind="commune"
        )
        db.session.commit()
        tenant_id = tenant.id
        if provision:
            provision_now(db.engine, tenant_id)
        return load_tenant_ref(tenant_id)


def test_sign_up_from_the_search_to_a_ready_space(page, site, smtp_server):
    commune = free_commune(site.app)
    email = f"participation.{uuid.uuid4().hex[:8]}@mairie-exemple.fr"

    visit(page, site.url + "/")
    page.get_by_role("link", name="Inscrire ma collectivité").click()
    expect(page).to_have_url(site.url + "/inscription-collectivite")
    assert_accessible(page)

    # The search field is an ARIA 1.2 combobox once signup.js has run.
    combobox = page.get_by_role("combobox", name=SEARCH_LABEL)
    expect(combobox).to_have_attribute("aria-expanded", "false")
    combobox.press_sequentially(commune.name, delay=20)
    listbox = page.get_by_role("listbox", name="Collectivités trouvées")
    expect(listbox).to_be_visible()
    expect(combobox).to_have_attribute("aria-expanded", "true")
    expect(combobox).to_have_attribute("aria-controls", "q-listbox")
    expect(page.locator("#q-status")).to_contain_text("trouvée")
    assert_accessible(page)  # with the list open

    # Escape closes the list, the down arrow opens it again on the first option.
    combobox.press("Escape")
    expect(listbox).to_be_hidden()
    expect(combobox).to_have_attribute("aria-expanded", "false")
    for _ in range(10):
        combobox.press("ArrowDown")
        active = combobox.get_attribute("aria-activedescendant")
        option = page.locator(f"#{active}")
        expect(option).to_have_attribute("aria-selected", "true")
        if option.inner_text() == commune.label:
            break
    else:
        pytest.fail(f"{commune.label} is not among the options")
    combobox.press("Enter")
    expect(combobox).to_have_value(commune.label)
    expect(listbox).to_be_hidden()
    expect(page.locator("#q-status")).to_contain_text("choisie")
    combobox.press("Enter")  # the form, with the chosen collectivité

    expect(page).to_have_url(
        re.compile(rf"/inscription-collectivite/commune/{commune.code}$"), timeout=10_000
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Inscrire {commune.name}")
    assert_accessible(page)

    page.get_by_label("Vos prénom et nom").fill("Camille Martin")
    page.get_by_label("Votre fonction").fill("Chargée de mission participation")
    page.get_by_label("Votre numéro de téléphone professionnel").fill("03 89 32 58 58")
    page.get_by_label("Votre adresse e-mail professionnelle").fill(email)
    # The subdomain: one of the official name's variants (issue 13), the name first.
    variants = page.get_by_role("group", name="Adresse de votre espace").get_by_role("radio")
    expect(variants.first).to_be_checked()
    slug = variants.last.get_attribute("value")
    variants.last.check()
    page.get_by_label("J'accepte les conditions d'utilisation de la plateforme Pnyx").check()
    assert_accessible(page)
    page.get_by_role("button", name="Créer l'espace de participation").click()

    ready = page.get_by_role("heading", name="Espace créé : vérification en cours.")
    expect(ready).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"/inscription-collectivite/suivi/"))
    pending_panel = page.locator('[data-progress-panel="pending_verification"]')
    expect(pending_panel.get_by_text("Consultez votre messagerie.")).to_be_visible()
    assert_accessible(page)

    invitation = smtp_server.wait_for_message_to(email, timeout=15)
    assert "premier administrateur" in smtp_server.text_of(invitation)

    page.get_by_role("link", name=f"{slug}.{site.platform_host}").click()
    expect(page).to_have_url(site.url_for_host(f"{slug}.pnyx.localhost", "/"))
    # Until verified, the public sees the pending page.
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace en cours de vérification")
    assert_accessible(page)


def test_progress_page_follows_the_provisioning(page, site):
    from billing.signup import progress_token
    from core.db import db
    from tenants.provisioning import provision_now

    tenant = new_tenant(site, free_commune(site.app), provision=False)
    with site.app.test_request_context():
        token = progress_token(tenant.id)
    visit(page, f"{site.url}/inscription-collectivite/suivi/{token}")
    expect(page.get_by_role("heading", name="Création de l'espace…")).to_be_visible()
    expect(page.get_by_role("heading", name="Prêt : votre espace est en ligne.")).to_be_hidden()

    with site.app.app_context():
        provision_now(db.engine, tenant.id)

    # signup.js asks for the state, shows the ready panel and announces it.
    expect(page.get_by_role("heading", name="Prêt : votre espace est en ligne.")).to_be_visible()
    expect(page.locator("[data-progress-announce]")).to_have_text(
        "Prêt : votre espace est en ligne."
    )
    expect(page.get_by_role("heading", name="Création de l'espace…")).to_be_hidden()
    assert_accessible(page)


def test_pages_without_javascript_are_accessible(browser, site):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        visit(page, f"{site.url}/inscription-collectivite?q=68100", accessible=False)
        page.get_by_label(re.compile(r"^Mulhouse \(68\)")).check()
        page.get_by_role("button", name="Continuer").click()
        expect(page).to_have_url(re.compile(r"/inscription-collectivite/commune/68224$"))
    finally:
        context.close()


def test_duplicate_search_results_and_terms_pages_are_accessible(page, site):
    commune = free_commune(site.app)
    new_tenant(site, commune, provision=True)
    visit(page, f"{site.url}/inscription-collectivite/commune/{commune.code}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{commune.name} a déjà un espace de participation"
    )
    expect(
        page.get_by_role("heading", name="Contacter l'administrateur de cet espace")
    ).to_be_visible()

    visit(page, f"{site.url}/inscription-collectivite?q=mulh")
    expect(page.get_by_role("radio", name=re.compile(r"^Mulhouse \(68\)"))).to_be_visible()

    visit(page, f"{site.url}/conditions-plateforme")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Conditions d'utilisation de la plateforme Pnyx"
    )


def test_no_horizontal_scroll_at_320_pixels(page, site):
    commune = free_commune(site.app)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in (
        "/inscription-collectivite?q=mulh",
        f"/inscription-collectivite/commune/{commune.code}",
        "/conditions-plateforme",
    ):
        visit(page, site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} scrolls sideways at 320 px ({width} px wide)"


def test_pending_page_and_operator_queue_are_accessible(page, site):
    """Issue 13: the public page of a space being verified, and the operator's queue."""
    import pyotp

    from billing.verification import create_request
    from core.db import db
    from tenants.platform.services import create_platform_user, enable_totp_with_secret
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant

    commune = free_commune(site.app)
    with site.app.app_context():
        tenant = create_tenant(
            commune.code,
            site.platform_host,
            slug=f"bv-{uuid.uuid4().hex[:8]}",
            kind="commune",
            verification_required=True,
        )
        create_request(
            tenant,
            name="Claire Dubois",
            role="Chargée de mission démocratie participative",
            phone="03 89 20 68 68",
            email=f"claire.{uuid.uuid4().hex[:6]}@exemple.fr",
        )
        db.session.commit()
        tenant_id, host = tenant.id, tenant.primary_host
        provision_now(db.engine, tenant_id)
        secret = pyotp.random_base32()
        email = f"ops-{uuid.uuid4().hex[:6]}@exemple.fr"
        user = create_platform_user(email, "Camille Opératrice", "operator", password=PASSWORD)
        enable_totp_with_secret(user, secret)
        db.session.commit()
    from tenants import invalidate_host_cache

    with site.app.app_context():
        invalidate_host_cache()

    response = visit(page, site.url_for_host(host, "/"))
    assert response.headers["x-robots-tag"].startswith("noindex")
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace en cours de vérification")
    expect(page.locator('meta[name="robots"]')).to_have_attribute("content", "noindex, nofollow")

    visit(page, f"{site.url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Console opérateur")
    visit(page, f"{site.url}/operateur/verifications")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification des inscriptions")
    expect(page.get_by_role("link", name=commune.name)).to_be_visible()
    page.get_by_role("link", name=commune.name).click()
    expect(page.get_by_role("button", name="Approuver la demande")).to_be_visible()
    assert_accessible(page)
