"""Signalements in a real browser. A citizen reports a problem with JavaScript turned off:
the map stays hidden, the address field and the photo are enough; the report shows on its
page and in the public list. With JavaScript on, the Leaflet map enhances both pages and
picks a point into the hidden fields. Every page is checked with axe."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible, visit
from tests.support import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, tenant, email: str, submit, accessible: bool = True):
    visit(page, tenant.page_url("/connexion"), accessible=accessible)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Se connecter"))


def _category(app, ref, name: str) -> int:
    from core.db import db
    from participation.problems.models import ProblemCategory
    from tests.support.participation import read, service_id

    voirie = service_id(app, ref, "Voirie et espaces publics")

    def create():
        category = ProblemCategory(name=name, description="Trous, fissures", service_id=voirie)
        db.session.add(category)
        db.session.commit()
        return category.id

    return read(app, ref, create)


def _photo() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (47.0, 44.0, 59.0), 3: "E", 4: (7.0, 20.0, 21.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 110, 100)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_reporting_a_problem_without_javascript(no_js_page, page, live_server, live_tenant):
    from tests.support import create_person, ensure_legal_documents

    app, ref = live_server.app, live_tenant.ref
    ensure_legal_documents(app, ref)
    suffix = uuid.uuid4().hex[:6]
    category = f"Nid-de-poule {suffix}"
    _category(app, ref, category)
    person = create_person(
        app, ref, None, email=f"lea.{suffix}@exemple.fr", display_name=f"Léa {suffix}"
    )

    browser_page = no_js_page
    # axe needs JavaScript to run: the no-JS pages are checked again below with JS on.
    _log_in(browser_page, live_tenant, person.email, _click_and_wait, accessible=False)
    visit(browser_page, live_tenant.page_url("/signalements/nouveau"), accessible=False)
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Signaler un problème")
    expect(browser_page.locator("#carte-choix")).to_be_hidden()  # no map without JavaScript
    browser_page.get_by_label(category).check()
    browser_page.get_by_label("Description du problème").fill(
        "Nid-de-poule rue de la Sinne : profond, dangereux pour les vélos."
    )
    browser_page.get_by_label("Adresse ou lieu").fill("14 rue de la Sinne")
    browser_page.get_by_label("Photo (facultative)").set_input_files(
        files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    _click_and_wait(browser_page, browser_page.get_by_role("button", name="Envoyer le signalement"))
    assert re.search(r"/signalements/\d+$", browser_page.url), browser_page.url
    report_url = browser_page.url
    expect(browser_page.get_by_role("status")).to_contain_text("votre signalement n°")
    expect(browser_page.get_by_role("main")).to_contain_text("14 rue de la Sinne")
    expect(browser_page.locator(".problem-status")).to_have_text("Nouveau")
    photo = browser_page.get_by_role("img", name=re.compile("Photo jointe"))
    expect(photo).to_be_visible()

    # The same pages with JavaScript on: accessible, the map added.
    visit(page, report_url)
    visit(page, live_tenant.page_url("/signalements"))
    expect(page.get_by_role("link", name=re.compile(category))).to_be_visible()
    expect(page.locator("#carte")).to_be_visible()
    expect(page.locator("#carte .leaflet-control-zoom-in")).to_be_visible()
    assert_accessible(page)


def _click_and_wait(page, locator):
    with page.expect_navigation(wait_until="load") as navigation:
        locator.click()
    response = navigation.value
    assert response is not None and response.status < 400, response and response.status
    return response


def test_the_map_fills_the_hidden_fields(page, live_server, live_tenant, follow):
    from tests.support import create_person, ensure_legal_documents

    app, ref = live_server.app, live_tenant.ref
    ensure_legal_documents(app, ref)
    suffix = uuid.uuid4().hex[:6]
    category = f"Lampadaire en panne {suffix}"
    _category(app, ref, category)
    person = create_person(app, ref, None, email=f"paul.{suffix}@exemple.fr")
    _log_in(page, live_tenant, person.email, follow)
    visit(page, live_tenant.page_url("/signalements/nouveau"))
    expect(page.locator("#carte-choix")).to_be_visible()
    page.locator("#carte-choix").click(position={"x": 120, "y": 80})
    expect(page.locator("#point-choisi")).to_contain_text("Point choisi sur la carte")
    assert page.locator("input[name=latitude]").input_value()
    assert page.locator("input[name=longitude]").input_value()
    assert_accessible(page)
    page.get_by_label(category).check()
    page.get_by_label("Description du problème").fill("Le lampadaire clignote toute la nuit.")
    follow(page, page.get_by_role("button", name="Envoyer le signalement"))
    expect(page.get_by_role("link", name="voir sur OpenStreetMap")).to_be_visible()
