"""Debates, comments and the notification centre in a real browser: axe on a debate page
(anonymous and logged in, with replies and moderated content), the two columns side by
side on a wide screen and stacked on a phone, posting an argument, a reply and a comment,
then the notification centre."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core import clock
from tests.browser.axe import assert_accessible, visit
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

NEEDED = ("accounts.login", "staff.home", "debates.show", "engagement.notifications")


@pytest.fixture(scope="module")
def site(live_server, make_live_tenant) -> tuple:
    """``(live server, a live tenant of this module)``."""
    return live_server, make_live_tenant()


@pytest.fixture(scope="module")
def debate(site):
    """A debate in a process open for debates today, with arguments on both sides, a reply,
    a hidden argument and a short comment thread. Returns ``(debate id, citizen)``."""
    from core.db import db
    from participation.debates.models import Argument, Debate, Side
    from participation.engagement.comments import Comment
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState
    from tenants.context import tenant_context
    from tests.support import create_person

    live_server, tenant = site
    app = live_server.app
    citizen = create_person(app, tenant.ref, None, display_name="Camille Martin")
    other = create_person(app, tenant.ref, None, display_name="Yasmine Benali")
    now = clock.paris_today()
    with app.app_context(), tenant_context(tenant.ref):
        process = Process(title="Rues apaisées", state=ProcessState.PUBLISHED)
        process.phases = [
            Phase(
                kind=PhaseKind.CONTRIBUTIONS,
                title="Débat",
                position=1,
                starts_on=now - timedelta(days=5),
                ends_on=now + timedelta(days=5),
                allows_comment=True,
                allows_debate=True,
            )
        ]
        db.session.add(process)
        db.session.flush()
        debate = Debate(
            process_id=process.id,
            question="Faut-il piétonniser la rue du Sauvage le samedi ?",
            description="La Ville étudie sa fermeture aux voitures **le samedi**.",
        )
        db.session.add(debate)
        db.session.flush()
        pour = Argument(
            debate_id=debate.id,
            side=Side.FOR,
            author_id=other.id,
            body="Les familles et les poussettes respireront enfin.",
        )
        contre = Argument(
            debate_id=debate.id,
            side=Side.AGAINST,
            author_id=other.id,
            body="Les livraisons deviendront un casse-tête.",
        )
        db.session.add_all([pour, contre])
        db.session.flush()
        db.session.add_all(
            [
                Argument(
                    debate_id=debate.id,
                    parent_id=pour.id,
                    side=Side.FOR,
                    author_id=citizen.id,
                    body="Et les terrasses pourraient s'agrandir.",
                ),
                Argument(
                    debate_id=debate.id,
                    side=Side.AGAINST,
                    author_id=other.id,
                    body="Propos hors charte.",
                    hidden_at=sa_now(),
                    hidden_reason="Propos insultants",
                ),
            ]
        )
        comment = Comment(debate_id=debate.id, author_id=other.id, body="Une *bonne* question.")
        db.session.add(comment)
        db.session.flush()
        db.session.add(
            Comment(
                debate_id=debate.id,
                parent_id=comment.id,
                depth=1,
                author_id=citizen.id,
                body="Tout à fait d'accord.",
            )
        )
        db.session.commit()
        return debate.id, citizen


def sa_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def log_in(page, tenant, person, follow) -> None:
    visit(page, tenant.page_url("/connexion"))
    page.get_by_label("Adresse e-mail").fill(person.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"))


def test_debate_page_is_accessible_anonymous_and_logged_in(page, site, debate, follow):
    _live_server, tenant = site
    debate_id, citizen = debate
    url = tenant.page_url(f"/debats/{debate_id}")
    visit(page, url)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Faut-il piétonniser la rue du Sauvage le samedi ?"
    )
    expect(page.get_by_role("heading", name="Pour")).to_be_visible()
    expect(page.get_by_role("heading", name="Contre")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Masqué par la modération")
    expect(page.locator("main")).to_contain_text("Propos insultants")
    expect(page.locator("main")).not_to_contain_text("Propos hors charte.")
    expect(page.get_by_role("link", name="Connectez-vous pour ajouter un argument")).to_be_visible()
    # The honeypot is off screen for people, but still in the page for bots.
    assert page.locator('input[name="website"]').count() == 0  # no form when anonymous

    log_in(page, tenant, citizen, follow)
    visit(page, url)
    honeypot = page.locator('input[name="website"]').first
    box = honeypot.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, box
    # Reply forms are open too, so that axe checks them.
    for summary in page.locator("details.reply-form > summary").all():
        summary.click()
    assert_accessible(page)


def test_columns_side_by_side_then_stacked_on_a_phone(page, site, debate):
    _live_server, tenant = site
    debate_id, _citizen = debate
    page.set_viewport_size({"width": 1280, "height": 900})
    visit(page, tenant.page_url(f"/debats/{debate_id}"), accessible=False)
    pour = page.locator("section.debate-column-pour").bounding_box()
    contre = page.locator("section.debate-column-contre").bounding_box()
    assert abs(pour["y"] - contre["y"]) < 5 and contre["x"] > pour["x"] + pour["width"] - 1

    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, tenant.page_url(f"/debats/{debate_id}"))
    pour = page.locator("section.debate-column-pour").bounding_box()
    contre = page.locator("section.debate-column-contre").bounding_box()
    assert contre["y"] >= pour["y"] + pour["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_argue_reply_comment_then_read_notifications(page, open_page, site, debate, follow):
    from tests.support import create_person

    live_server, tenant = site
    debate_id, citizen = debate
    url = tenant.page_url(f"/debats/{debate_id}")

    # A newcomer follows the debate, adds an argument contre and replies to the first "pour".
    newcomer = create_person(live_server.app, tenant.ref, None, display_name="Lucas Weber")
    log_in(page, tenant, newcomer, follow)
    visit(page, url)
    follow(page, page.get_by_role("button", name="Suivre"))
    expect(page.get_by_role("button", name="Ne plus suivre")).to_be_visible()
    page.get_by_role("radio", name="Contre").check()
    page.get_by_label("Votre argument").fill("Le marché du samedi a besoin des voitures.")
    follow(page, page.get_by_role("button", name="Publier l'argument"))
    expect(page.locator("section.debate-column-contre")).to_contain_text(
        "Le marché du samedi a besoin des voitures."
    )
    first_pour = page.locator("section.debate-column-pour li.argument").first
    first_pour.locator("summary", has_text="Répondre").click()
    first_pour.get_by_label("Votre réponse").fill("Sauf pour les livraisons.")
    follow(page, first_pour.get_by_role("button", name="Publier la réponse"))
    expect(page.locator("section.debate-column-pour")).to_contain_text("Sauf pour les livraisons.")
    page.get_by_label("Votre commentaire").fill("Merci pour ce **débat**.")
    follow(page, page.get_by_role("button", name="Publier le commentaire"))
    expect(page.locator("#commentaires strong", has_text="débat")).to_be_visible()

    # The citizen who follows nothing but wrote under the first "pour" is not told; the
    # newcomer follows the debate: another person's argument reaches their centre.
    other_page = open_page()
    log_in(other_page, tenant, citizen, follow)
    visit(other_page, url)
    other_page.get_by_role("radio", name="Pour").check()
    other_page.get_by_label("Votre argument").fill("Les enfants pourront jouer dans la rue.")
    follow(other_page, other_page.get_by_role("button", name="Publier l'argument"))

    visit(page, tenant.page_url("/"))
    notifications_link = page.get_by_role("link", name="Notifications (1 non lue)")
    expect(notifications_link).to_be_visible()
    follow(page, notifications_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes notifications")
    expect(page.locator("main")).to_contain_text("Nouvel argument dans le débat")
    follow(page, page.get_by_role("button", name="Tout marquer comme lu"))
    expect(page.locator("main")).to_contain_text("Aucune notification non lue.")
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    follow(page, page.get_by_role("link", name="Nouvel argument dans le débat"))
    assert page.url.startswith(url)


def test_a_long_thread_is_paged_and_accessible(page, site, follow):
    """35 comments on a debate: 30 on the first page, the others through the
    "Commentaires suivants" link (a plain link, no script), axe clean on both pages."""
    from core.db import db
    from participation.debates.models import Debate
    from participation.engagement.comments import Comment
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState
    from tenants.context import tenant_context
    from tests.support import create_person

    live_server, tenant = site
    app = live_server.app
    author = create_person(app, tenant.ref, None, display_name="Inès Muller")
    now = clock.paris_today()
    with app.app_context(), tenant_context(tenant.ref):
        process = Process(title="Place du marché", state=ProcessState.PUBLISHED)
        process.phases = [
            Phase(
                kind=PhaseKind.CONTRIBUTIONS,
                title="Débat",
                position=1,
                starts_on=now - timedelta(days=5),
                ends_on=now + timedelta(days=5),
                allows_comment=True,
                allows_debate=True,
            )
        ]
        db.session.add(process)
        db.session.flush()
        debate = Debate(process_id=process.id, question="Faut-il couvrir la place du marché ?")
        db.session.add(debate)
        db.session.flush()
        start = sa_now() - timedelta(hours=1)
        for number in range(35):
            db.session.add(
                Comment(
                    debate_id=debate.id,
                    author_id=author.id,
                    body=f"Avis numéro {number:02d}",
                    created_at=start + timedelta(seconds=number),
                )
            )
        db.session.commit()
        debate_id = debate.id

    visit(page, tenant.page_url(f"/debats/{debate_id}"))
    comments = page.locator("#commentaires li.comment")
    expect(comments).to_have_count(30)
    expect(page.locator("#commentaires")).not_to_contain_text("Avis numéro 30")
    nav = page.get_by_role("navigation", name="Pages des commentaires")
    follow(page, nav.get_by_role("link", name="Commentaires suivants"))
    assert "commentaires=2" in page.url
    expect(comments).to_have_count(5)
    expect(page.locator("#commentaires")).to_contain_text("Avis numéro 34")
    assert_accessible(page)
    follow(page, nav.get_by_role("link", name="Commentaires plus anciens"))
    expect(page.locator("#commentaires")).to_contain_text("Avis numéro 00")
