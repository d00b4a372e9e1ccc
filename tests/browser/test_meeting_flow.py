"""Public meetings in a real browser: two citizens register for a meeting with one place,
the second lands on the waiting list; the first cancels and the second gets the place
(shown on the page, told by e-mail); the .ics link works. A moderator (second factor given)
opens the staff pages of the meeting. Every page on the way is checked with axe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.axe import visit
from tests.support import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, tenant, email: str, follow, secret: str | None = None):
    visit(page, tenant.page_url("/connexion"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"))
    if secret:
        page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        follow(page, page.get_by_role("button", name="Valider", exact=True))


def _meeting(app, ref, title: str) -> int:
    from core.db import db
    from participation.meetings.models import Meeting
    from tests.support.participation import read

    def create():
        start = (datetime.now(UTC) + timedelta(days=6)).replace(
            hour=17, minute=30, second=0, microsecond=0
        )
        meeting = Meeting(
            title=title,
            description="Présentation des esquisses, puis **ateliers** par table.",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            address="Salle des fêtes, 2 place de la Réunion",
            capacity=1,
            published_at=datetime.now(UTC),
        )
        db.session.add(meeting)
        db.session.commit()
        return meeting.id

    return read(app, ref, create)


def test_registering_for_a_meeting_with_a_waiting_list(
    page, open_page, live_server, live_tenant, follow, smtp_server
):
    from tests.support import create_person, ensure_legal_documents

    app, ref = live_server.app, live_tenant.ref
    ensure_legal_documents(app, ref)
    suffix = uuid.uuid4().hex[:6]
    title = f"Réunion publique : réaménagement de la place de la Réunion ({suffix})"
    meeting_id = _meeting(app, ref, title)
    first = create_person(app, ref, None, email=f"anne.{suffix}@exemple.fr")
    second = create_person(app, ref, None, email=f"bruno.{suffix}@exemple.fr")
    moderator = create_person(app, ref, "moderator", email=f"modo.{suffix}@exemple.fr")

    # Anyone sees the meeting in the list; registering needs an account.
    visit(page, live_tenant.page_url("/reunions"))
    follow(page, page.get_by_role("link", name=title))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("region", name="Inscription")).to_contain_text("1 place libre sur 1")
    expect(page.get_by_role("link", name="Se connecter pour s'inscrire")).to_be_visible()

    _log_in(page, live_tenant, first.email, follow)
    visit(page, live_tenant.page_url(f"/reunions/{meeting_id}"))
    follow(page, page.get_by_role("button", name="M'inscrire"))
    expect(page.get_by_role("status")).to_contain_text("Vous êtes inscrit·e")
    expect(page.get_by_role("region", name="Inscription")).to_contain_text("Complet")

    other = open_page()
    _log_in(other, live_tenant, second.email, follow)
    visit(other, live_tenant.page_url(f"/reunions/{meeting_id}"))
    follow(other, other.get_by_role("button", name="M'inscrire sur la liste d'attente"))
    expect(other.get_by_role("status")).to_contain_text("liste d'attente")
    expect(other.get_by_role("region", name="Inscription")).to_contain_text("en position 1")

    # The first cancels: the place goes to the second at once, who is told by e-mail.
    follow(page, page.get_by_role("button", name="Annuler mon inscription"))
    expect(page.get_by_role("status")).to_contain_text("Votre inscription est annulée")
    visit(other, live_tenant.page_url(f"/reunions/{meeting_id}"))
    expect(other.get_by_role("region", name="Inscription")).to_contain_text(
        "Vous êtes inscrit·e à cette réunion"
    )
    mail = smtp_server.wait_for(
        lambda _: [
            m
            for m in smtp_server.messages_to(second.email)
            if "place s'est libérée" in str(m["Subject"])
        ],
        timeout=10,
    )
    assert mail

    # The .ics file.
    # (fetched by the page: Playwright's own HTTP client does not resolve *.localhost)
    kind, body = other.evaluate(
        "url => fetch(url).then(r => Promise.all([r.headers.get('content-type'), r.text()]))",
        live_tenant.page_url(f"/reunions/{meeting_id}.ics"),
    )
    assert kind.startswith("text/calendar") and "BEGIN:VEVENT" in body

    # The moderator's pages for this meeting.
    staff = open_page()
    _log_in(staff, live_tenant, moderator.email, follow, secret=moderator.secret)
    visit(staff, live_tenant.page_url("/gestion/reunions/"))
    follow(staff, staff.get_by_role("link", name=title))
    expect(staff.get_by_role("heading", level=1)).to_have_text(title)
    follow(staff, staff.get_by_role("link", name="Inscrits"))
    expect(staff.get_by_role("main")).to_contain_text(second.email)
    follow(staff, staff.get_by_role("link", name="Compte rendu et propositions"))
    visit(staff, live_tenant.page_url("/gestion/reunions/nouvelle"))
