"""Participatory budget in a real browser: a citizen has their participation validated,
then votes on a knapsack ballot whose running total (static JS) follows each choice; an
over-budget selection is blocked by the script, and refused by the server when scripts
are off (the selection kept, a French message). The results page and every staff page of
the budget are checked with axe too."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible, visit
from tests.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def frozen_today(monkeypatch):
    """The live server runs in this process: freezing the clock here freezes it there."""
    from tests.support.participation import TODAY

    monkeypatch.setattr("core.clock.paris_today", lambda: TODAY)
    return TODAY


def _log_in(page, tenant, email, follow, secret=None, accessible=True):
    visit(page, tenant.page_url("/connexion"), accessible=accessible)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Se connecter"), accessible=accessible)
    if secret:
        page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        follow(page, page.get_by_role("button", name="Valider", exact=True))


def _flat(value: str) -> str:
    return value.replace("\u202f", " ").replace("\u00a0", " ")


def _count_ballots(app, ref, budget_id):
    from tests.support.budgets import count_rows

    return count_rows(app, ref, "budget_ballots", budget_id)


def test_vote_with_running_total_and_over_budget_refusal(
    page, open_page, browser, live_server, live_tenant, follow, frozen_today
):
    from tests.support import create_person, ensure_legal_documents
    from tests.support.budgets import make_budget

    app, ref = live_server.app, live_tenant.ref
    ensure_legal_documents(app, ref)
    made = make_budget(
        app,
        ref,
        phase="vote",
        envelope=100_000,
        minimum_age=16,
        require_residency=True,
        title="Budget participatif des squares",
        projects=[
            ("Des bancs au parc Salvator", 60_000),
            ("Pistes cyclables rue du Sauvage", 30_000),
            ("Une fresque sur le mur de la gare", 50_000),
            ("Une piscine sur l'Ill", 900_000, None, "unfeasible"),
        ],
    )
    suffix = uuid.uuid4().hex[:8]
    voter = create_person(
        app, ref, None, email=f"vote.{suffix}@exemple.fr", display_name="Camille Martin"
    )

    # --- Participation validated through the eligibility form.
    _log_in(page, live_tenant, voter.email, follow)
    visit(page, live_tenant.page_url(f"/budgets-participatifs/{made.id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget participatif des squares")
    follow(page, page.get_by_role("link", name="Voter", exact=True))
    assert page.url.endswith(f"/budgets-participatifs/{made.id}/eligibilite"), page.url
    page.get_by_label("Prénom et nom").fill("Camille Martin")
    page.get_by_label("Date de naissance").fill("1990-02-01")
    page.get_by_label("Je déclare sur l'honneur résider sur le territoire").check()
    follow(page, page.get_by_role("button", name="Valider ma participation"))
    assert page.url.endswith(f"/budgets-participatifs/{made.id}/vote"), page.url
    expect(page.get_by_role("status")).to_contain_text("vous pouvez voter")

    # --- The running total follows every choice.
    total = page.locator(".ballot-total")
    expect(total).to_be_visible()
    assert "0 € / 100 000 €" in _flat(total.inner_text())
    page.get_by_label(re.compile("Des bancs au parc Salvator")).check()
    expect(total).to_contain_text("60")
    assert "60 000 € / 100 000 €" in _flat(total.inner_text())
    assert "reste 40 000 €" in _flat(total.inner_text())
    page.get_by_label(re.compile("Une fresque sur le mur de la gare")).check()
    expect(total).to_have_class(re.compile("ballot-over"))
    assert "110 000 € / 100 000 €" in _flat(total.inner_text())
    assert "dépassement" in total.inner_text()
    assert_accessible(page)

    # The script blocks the over-budget ballot: no navigation, a message, nothing recorded.
    page.get_by_role("button", name="Envoyer mon vote (définitif)").click()
    expect(page.locator(".ballot-blocked")).to_be_visible()
    expect(page.locator(".ballot-blocked")).to_contain_text("dépasse l’enveloppe")
    assert page.url.endswith("/vote")
    assert _count_ballots(app, ref, made.id) == 0

    # A selection within the envelope is recorded; the ballot is final.
    page.get_by_label(re.compile("Une fresque sur le mur de la gare")).uncheck()
    page.get_by_label(re.compile("Pistes cyclables rue du Sauvage")).check()
    assert "90 000 € / 100 000 €" in _flat(total.inner_text())
    follow(page, page.get_by_role("button", name="Envoyer mon vote (définitif)"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous avez voté")
    assert _count_ballots(app, ref, made.id) == 1
    visit(page, live_tenant.page_url(f"/budgets-participatifs/{made.id}/vote"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous avez voté")

    # --- Without JavaScript, the server refuses the over-budget ballot and keeps the choice.
    from tests.support.budgets import approve_voter

    other = create_person(
        app, ref, None, email=f"sansjs.{suffix}@exemple.fr", display_name="Yasmine Benali"
    )
    approve_voter(app, ref, made.id, other.id)
    # (axe needs scripts: these pages were checked above with scripts on.)
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    try:
        plain = context.new_page()
        _log_in(plain, live_tenant, other.email, follow, accessible=False)
        visit(
            plain, live_tenant.page_url(f"/budgets-participatifs/{made.id}/vote"), accessible=False
        )
        expect(plain.locator(".ballot-total")).to_be_hidden()
        plain.get_by_label(re.compile("Des bancs au parc Salvator")).check()
        plain.get_by_label(re.compile("Une fresque sur le mur de la gare")).check()
        follow(
            plain,
            plain.get_by_role("button", name="Envoyer mon vote (définitif)"),
            status=422,
            accessible=False,
        )
        alert = plain.get_by_role("alert")
        expect(alert).to_contain_text("dépasse l'enveloppe")
        assert "110 000 €" in _flat(alert.inner_text())
        expect(plain.get_by_label(re.compile("Des bancs au parc Salvator"))).to_be_checked()
        expect(plain.get_by_label(re.compile("Une fresque sur le mur de la gare"))).to_be_checked()
        assert _count_ballots(app, ref, made.id) == 1
    finally:
        context.close()


def test_results_and_staff_pages_are_accessible(
    page, live_server, live_tenant, follow, frozen_today
):
    from tests.support import create_person, ensure_legal_documents
    from tests.support.budgets import make_budget

    app, ref = live_server.app, live_tenant.ref
    ensure_legal_documents(app, ref)
    finished = make_budget(
        app,
        ref,
        phase="results",
        envelopes={"Rebberg": 40_000, "Dornach": 30_000},
        eligible_population=1_200,
        projects=[
            ("Un verger au Rebberg", 25_000, "Rebberg"),
            ("Des arceaux vélo à Dornach", 8_000, "Dornach"),
        ],
    )
    from core.db import db
    from participation.budgets.models import Ballot, BallotChoice, Voter
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(ref):
        from datetime import UTC, datetime

        for n in range(3):
            db.session.add(
                Voter(
                    budget_id=finished.id,
                    voter_label=f"V{n}",
                    channel="paper",
                    polling_point="Mairie",
                )
            )
            ballot = Ballot(
                budget_id=finished.id,
                channel="paper",
                polling_point="Mairie",
                cast_hour=datetime(2027, 3, 1, 10, tzinfo=UTC),
            )
            db.session.add(ballot)
            db.session.flush()
            db.session.add(
                BallotChoice(
                    ballot_id=ballot.id, project_id=finished.projects["Un verger au Rebberg"]
                )
            )
        db.session.commit()

    visit(page, live_tenant.page_url("/budgets-participatifs/"))
    visit(page, live_tenant.page_url(f"/budgets-participatifs/{finished.id}"))
    visit(page, live_tenant.page_url(f"/budgets-participatifs/{finished.id}/resultats"))
    expect(page.locator("svg[role=img]").first).to_be_visible()
    expect(page.locator("table", has_text="Un verger au Rebberg")).to_contain_text("Retenu")
    visit(
        page,
        live_tenant.page_url(
            f"/budgets-participatifs/projets/{finished.projects['Un verger au Rebberg']}"
        ),
    )

    suffix = uuid.uuid4().hex[:8]
    admin = create_person(
        app, ref, "admin", email=f"admin.{suffix}@exemple.fr", display_name="Alex Admin"
    )
    _log_in(page, live_tenant, admin.email, follow, secret=admin.secret)
    for path in (
        "/gestion/budgets/",
        "/gestion/budgets/nouveau",
        f"/gestion/budgets/{finished.id}",
        f"/gestion/budgets/{finished.id}/modifier",
        f"/gestion/budgets/{finished.id}/recensement",
        f"/gestion/budgets/{finished.id}/verifications",
        f"/gestion/budgets/{finished.id}/registre",
        f"/gestion/budgets/{finished.id}/bulletins-papier",
        f"/gestion/budgets/projets/{finished.projects['Un verger au Rebberg']}/analyse",
        f"/gestion/budgets/projets/{finished.projects['Un verger au Rebberg']}/suivi",
    ):
        visit(page, live_tenant.page_url(path))
