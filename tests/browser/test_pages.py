"""The main pages in a real browser: accessibility (axe), keyboard use, small screens."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible, visit

pytestmark = pytest.mark.browser

UNKNOWN_HOST = "inconnue.pnyx.localhost"


@pytest.fixture(params=["platform", "tenant", "unknown host"])
def any_site(request):
    """``(url, expected status)`` of the home page of each kind of site."""
    live_server = request.getfixturevalue("live_server")
    if request.param == "platform":
        return live_server.url + "/", 200
    if request.param == "tenant":
        return request.getfixturevalue("live_tenant").page_url("/"), 200
    return live_server.url_for_host(UNKNOWN_HOST), 404


def test_platform_home_is_accessible(page, live_server):
    visit(page, live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Pnyx, la participation citoyenne des territoires"
    )


def test_tenant_home_is_accessible(page, live_tenant):
    visit(page, live_tenant.page_url("/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(live_tenant.name)
    expect(page).to_have_title(f"Pnyx — {live_tenant.name}")


def test_unknown_host_shows_the_french_404_page(page, live_server):
    visit(page, live_server.url_for_host(UNKNOWN_HOST), status=404)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Erreur 404")
    expect(page.locator("main")).to_contain_text(
        "Aucun espace de participation n'existe à cette adresse."
    )


def test_tab_reaches_the_skip_link_first_and_enter_moves_to_the_content(page, any_site):
    url, status = any_site
    visit(page, url, status=status, accessible=False)
    page.keyboard.press("Tab")
    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_have_text("Aller au contenu")
    # Focused, it must be on screen: a sighted keyboard user has to see where they are.
    box = skip_link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 0
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()


def test_no_horizontal_scroll_at_320_pixels(page, any_site):
    url, status = any_site
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, url, status=status)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320, f"{url} scrolls sideways at 320 px ({scroll_width} px wide)"


def test_language_choice_in_the_browser(page, live_tenant):
    visit(page, live_tenant.page_url("/langue/en?next=/"))
    assert page.url == live_tenant.page_url("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Skip to content")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Welcome to the participation space of {live_tenant.name}"
    )


def test_assert_accessible_lists_serious_violations(page):
    page.set_content(
        '<html lang="fr"><head><title>Essai</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<p style="color:#ccc;background:#fff">Texte peu lisible</p>'
        "</main></body></html>"
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "image-alt (critical)" in report and "color-contrast (serious)" in report
    assert "img" in report
