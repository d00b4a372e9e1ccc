"""A network member in a real browser: log-in with password and TOTP on the platform host,
then the network's pages (presentation, members and map, practice library, a practice,
the forum) — each checked with axe — a comment posted and a question asked."""

from __future__ import annotations

import uuid

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.axe import visit

pytestmark = pytest.mark.browser

PASSWORD = "Lagune-Ocarina-Brindille-7302"


@pytest.fixture
def network_member(live_server, live_tenant):
    """A member account of the live tenant (TOTP enrolled), a network with that tenant as
    member, a practice with a template and a forum question; returns what the test needs."""
    from core.db import db
    from network.core.models import MembershipStatus, Network, NetworkMembership
    from network.forum.models import ForumQuestion
    from network.library.models import Practice, PracticeCategory, PracticeOutcome
    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    secret = pyotp.random_base32()
    email = f"agent.{uuid.uuid4().hex[:10]}@exemple.fr"
    slug = f"reseau-{uuid.uuid4().hex[:8]}"
    with live_server.app.app_context():
        user = create_platform_user(
            email, "Sacha Agent", "member", PASSWORD, tenant_id=live_tenant.ref.id
        )
        enable_totp_with_secret(user, secret)
        network = Network(
            slug=slug,
            name="Réseau des territoires de test",
            description="Un réseau **de test**.",
            charter="1. Partager\n2. Rendre compte",
            public_sections=["members"],
        )
        db.session.add(network)
        db.session.flush()
        db.session.add(
            NetworkMembership(
                network_id=network.id,
                tenant_id=live_tenant.ref.id,
                status=MembershipStatus.ACTIVE,
            )
        )
        practice = Practice(
            network_id=network.id,
            category=PracticeCategory.EXPERIENCE,
            outcome=PracticeOutcome.FAILURE,
            title="Conseils de quartier en visio",
            summary="La participation a chuté.",
            body="Un an d'essai.",
            lessons="Le lien ne passe pas par l'écran.",
            tags=["quartiers"],
            tags_text="quartiers",
            author_tenant_id=live_tenant.ref.id,
            author_id=user.id,
            process_template={
                "title": "Conseil de quartier hybride",
                "summary": "",
                "phases": [
                    {
                        "kind": "information",
                        "title": "Annonce",
                        "description": "",
                        "weeks": 2,
                        "actions": ["comment"],
                    },
                ],
            },
        )
        db.session.add(practice)
        db.session.add(
            ForumQuestion(
                network_id=network.id,
                author_id=user.id,
                title="Quel délai de réponse ?",
                body="Trois mois ?",
            )
        )
        db.session.commit()
        return {"email": email, "secret": secret, "slug": slug, "practice_id": practice.id}


def test_a_member_browses_the_network_pages(page, live_server, network_member, follow):
    slug = network_member["slug"]
    # Public: the presentation and the members' map, without an account.
    visit(page, f"{live_server.url}/reseaux/{slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Réseau des territoires de test")
    nav = page.get_by_role("navigation", name="Rubriques du réseau")
    expect(nav.get_by_role("link", name="Membres")).to_be_visible()
    expect(nav.get_by_role("link", name="Pratiques")).to_have_count(0)  # members only
    follow(page, nav.get_by_role("link", name="Membres"))
    expect(page.get_by_role("img", name="Carte des membres")).to_be_visible()
    expect(page.get_by_role("table", name="Liste des collectivités membres")).to_be_visible()

    # Log in as the member (password, then the TOTP code).
    visit(page, f"{live_server.url}/connexion?next=/reseaux/{slug}/pratiques")
    page.get_by_label("Adresse e-mail").fill(network_member["email"])
    page.get_by_label("Mot de passe").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"))
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(network_member["secret"]).now())
    follow(page, page.get_by_role("button", name="Vérifier"))
    assert page.url.endswith(f"/reseaux/{slug}/pratiques"), page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Bibliothèque des pratiques")
    nav = page.get_by_role("navigation", name="Rubriques du réseau")
    expect(nav.get_by_role("link", name="Pratiques")).to_have_attribute("aria-current", "page")

    page.get_by_role("searchbox", name="Rechercher").fill("quartier")
    follow(page, page.get_by_role("button", name="Rechercher"))
    follow(page, page.get_by_role("link", name="Conseils de quartier en visio"))
    expect(page.get_by_text("Échec", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Adopter cette pratique")).to_be_visible()
    page.get_by_label("Votre commentaire").fill("Merci pour ce retour honnête !")
    follow(page, page.get_by_role("button", name="Publier le commentaire"))
    expect(page.get_by_text("Merci pour ce retour honnête !")).to_be_visible()

    follow(page, nav.get_by_role("link", name="Forum"))
    follow(page, page.get_by_role("link", name="Poser une question"))
    page.get_by_label("Votre question, en une phrase").fill("Comment recruter un panel ?")
    page.get_by_label("Précisez le contexte").fill("Tirage au sort ou volontariat ?")
    follow(page, page.get_by_role("button", name="Publier la question"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Comment recruter un panel ?")
