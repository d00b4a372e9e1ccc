"""A citizen's account in a real browser: sign-up, the confirmation link from the real
mail, log-in, log-out; the log-in form with the keyboard alone; an accessible error state.

Every page the browser lands on is checked with axe (``visit`` and ``follow``).
Rate limits stay on: each test posts the sign-up or log-in form once.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible, visit

pytestmark = pytest.mark.browser

PASSWORD = "Cerf-volant-Basilic-Horizon-93"
WEAK_PASSWORD = "motdepasse123"
MAX_TABS = 30


def _unique_email(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}@exemple.fr"


def _nav(page):
    return page.get_by_role("navigation", name="Navigation principale")


def _confirmed_citizen(live_server, live_tenant) -> tuple[str, str]:
    """A confirmed account (terms accepted), made through the models as the staff tests do."""
    from tests.support import create_person

    person = create_person(
        live_server.app, live_tenant.ref, email=_unique_email("clavier"), password=PASSWORD
    )
    return person.email, person.display_name


def test_sign_up_confirm_by_mail_log_in_and_log_out(
    page, live_server, live_tenant, follow, mail_link
):
    name = f"Camille {uuid.uuid4().hex[:6]}"
    email = _unique_email("camille")

    visit(page, live_tenant.page_url("/"))
    follow(page, _nav(page).get_by_role("link", name="Créer un compte"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte")

    page.get_by_label("Nom affiché").fill(name)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("J'accepte les conditions générales d'utilisation").check()
    page.get_by_label("Je m'engage à respecter la charte de participation").check()
    follow(page, page.get_by_role("button", name="Créer mon compte"))
    assert page.url == live_tenant.page_url("/inscription/confirmation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre boîte e-mail")
    # The resend form is filled in with the address just given.
    expect(page.get_by_label("Adresse e-mail")).to_have_value(email)

    link = mail_link(email, "/confirmer/")
    assert link.startswith(live_tenant.page_url("/confirmer/")), link
    visit(page, link)
    assert page.url == live_tenant.page_url("/connexion")
    expect(page.get_by_role("status")).to_contain_text("Votre adresse e-mail est confirmée.")

    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"))
    assert page.url == live_tenant.page_url("/")
    nav = _nav(page)
    expect(nav.get_by_role("button", name="Se déconnecter")).to_be_visible()

    follow(page, nav.get_by_role("link", name="Mon compte"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.get_by_label("Nom affiché")).to_have_value(name)
    expect(page.locator("main")).to_contain_text(email)

    follow(page, _nav(page).get_by_role("button", name="Se déconnecter"))
    assert page.url == live_tenant.page_url("/")
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté·e.")
    nav = _nav(page)
    expect(nav.get_by_role("link", name="Connexion")).to_be_visible()
    expect(nav.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    # The account pages are closed again.
    visit(page, live_tenant.page_url("/compte"))
    assert page.url.startswith(live_tenant.page_url("/connexion"))


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                tag: el.tagName.toLowerCase(),
                id: el.id,
                type: el.getAttribute('type'),
                text: (el.innerText || '').trim(),
                outlineStyle: style.outlineStyle,
                outlineWidth: parseFloat(style.outlineWidth),
                outlineColor: style.outlineColor,
            };
        }"""
    )


def _tab_until(page, wanted, what: str) -> dict:
    """Press Tab until ``wanted(focused)``; fail after MAX_TABS presses."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if wanted(focused):
            return focused
        seen.append(focused["id"] or focused["tag"] + ":" + focused["text"][:20])
    raise AssertionError(f"Tab never reached {what}; focus went through {seen}")


def _rgb(colour: str) -> tuple[float, ...]:
    values = colour[colour.index("(") + 1 : colour.index(")")].replace(",", " ").split()
    return tuple(float(v) for v in values[:3])


def _contrast(first: str, second: str) -> float:
    def luminance(colour: str) -> float:
        channels = []
        for value in _rgb(colour):
            c = value / 255
            channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
        r, g, b = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _assert_visible_focus(page, focused: dict) -> None:
    label = focused["id"] or focused["text"]
    assert focused["outlineStyle"] != "none", f"{label}: no focus outline"
    assert focused["outlineWidth"] >= 2, f"{label}: focus outline thinner than 2px"
    # WCAG 1.4.11: the indicator must stand out (3:1) from the page around it.
    background = page.evaluate("getComputedStyle(document.querySelector('main')).backgroundColor")
    if background == "rgba(0, 0, 0, 0)":
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    ratio = _contrast(focused["outlineColor"], background)
    assert ratio >= 3, f"{label}: focus outline contrast {ratio:.2f}:1 against {background}"


def test_the_keyboard_alone_completes_the_log_in_form(page, live_server, live_tenant, follow):
    email, name = _confirmed_citizen(live_server, live_tenant)
    visit(page, live_tenant.page_url("/connexion"))

    focused = _tab_until(page, lambda f: f["id"] == "email", "the e-mail field")
    _assert_visible_focus(page, focused)
    page.keyboard.type(email)

    page.keyboard.press("Tab")
    focused = _focused(page)
    assert focused["id"] == "password", f"Tab after the e-mail went to {focused}"
    _assert_visible_focus(page, focused)
    page.keyboard.type(PASSWORD)

    focused = _tab_until(
        page,
        lambda f: f["tag"] == "button" and f["text"] == "Se connecter",
        "the submit button",
    )
    _assert_visible_focus(page, focused)
    follow(page, lambda: page.keyboard.press("Enter"))

    assert page.url == live_tenant.page_url("/")
    nav = _nav(page)
    expect(nav.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(nav.get_by_role("link", name="Mon compte")).to_be_visible()


def test_a_weak_password_gives_an_accessible_error(page, live_tenant, follow, smtp_server):
    email = _unique_email("faible")
    visit(page, live_tenant.page_url("/inscription"))
    page.get_by_label("Nom affiché").fill("Dominique")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(WEAK_PASSWORD)
    page.get_by_label("J'accepte les conditions générales d'utilisation").check()
    page.get_by_label("Je m'engage à respecter la charte de participation").check()
    follow(page, page.get_by_role("button", name="Créer mon compte"))  # axe on the error page

    assert page.url == live_tenant.page_url("/inscription")
    summary = page.locator(".error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire contient des erreurs")
    summary_link = summary.get_by_role("link")
    expect(summary_link).to_have_count(1)
    expect(summary_link).to_have_attribute("href", "#password")
    expect(summary_link).to_contain_text("trop courant ou trop facile à deviner")

    password = page.locator("#password")
    expect(password).to_have_attribute("aria-invalid", "true")
    described_by = (password.get_attribute("aria-describedby") or "").split()
    assert "password-error" in described_by and "password-hint" in described_by, described_by
    error = page.locator("#password-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("trop courant ou trop facile à deviner")
    # The field's accessible description carries the error, for screen readers.
    description = page.evaluate(
        """() => document.getElementById('password').getAttribute('aria-describedby')
                .split(' ').map(id => document.getElementById(id).textContent.trim()).join(' ')"""
    )
    assert "trop courant" in description
    # The other answers are kept, the password is not sent back.
    expect(page.get_by_label("Nom affiché")).to_have_value("Dominique")
    expect(page.get_by_label("Adresse e-mail")).to_have_value(email)
    expect(password).to_have_value("")

    # The summary's link takes the focus to the field.
    summary_link.click()
    expect(password).to_be_focused()
    assert_accessible(page)
    assert smtp_server.messages_to(email) == []  # nothing was created, nothing was sent
