"""Consultations in a real browser: an administrator (second factor given) builds a
questionnaire with a section and a conditional question, publishes it; a citizen answers
(the conditional question appears only for the answer it depends on), then edits the
response; the administrator publishes the results and « Vous avez dit, nous avons fait »;
the citizen reads the results (SVG charts with their data tables). Every page on the way is
checked with axe. A second citizen answers with JavaScript off."""

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
TITLE = "Mobilités douces : vos habitudes"


@pytest.fixture(scope="module")
def site(live_server, live_tenant):
    if "surveys.answer" not in live_server.app.view_functions:
        pytest.skip("the survey pages are not registered on the live server")
    return live_server, live_tenant


def _log_in(page, tenant, email: str, password: str, follow, secret: str | None = None):
    visit(page, tenant.page_url("/connexion"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    follow(page, page.get_by_role("button", name="Se connecter"))
    if secret:
        assert page.url.startswith(tenant.page_url("/gestion/securite/verification")), page.url
        page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        follow(page, page.get_by_role("button", name="Valider", exact=True))


def _add_question(staff, follow, kind: str, text: str, options: str = "", **extra):
    follow(staff, staff.get_by_role("link", name="Ajouter une question", exact=True))
    staff.get_by_label("Type de question").select_option(label=kind)
    staff.get_by_label("Question", exact=True).fill(text)
    if options:
        staff.get_by_label("Choix proposés (un par ligne)").fill(options)
    if extra.get("required"):
        staff.get_by_label("Réponse obligatoire").check()
    if extra.get("section"):
        staff.get_by_label("Section").select_option(label=extra["section"])
    if extra.get("condition"):
        staff.get_by_label("Afficher seulement si…").select_option(label=extra["condition"])
    follow(staff, staff.get_by_role("button", name="Enregistrer la question"))
    expect(staff.get_by_role("status")).to_contain_text("La question est enregistrée")


def test_staff_build_a_survey_citizens_answer_and_read_the_results(
    page, open_page, site, follow, browser
):
    from tests.support import create_person, ensure_legal_documents

    server, tenant = site
    app, ref = server.app, tenant.ref
    ensure_legal_documents(app, ref)
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    suffix = uuid.uuid4().hex[:8]
    citizen = create_person(
        app, ref, None, email=f"yasmine.{suffix}@exemple.fr", password=CITIZEN_PASSWORD
    )
    admin = create_person(
        app, ref, "admin", email=f"admin.s{suffix}@exemple.fr", password=ADMIN_PASSWORD
    )

    # --- The administrator builds the questionnaire.
    staff = open_page()
    _log_in(staff, tenant, admin.email, ADMIN_PASSWORD, follow, secret=admin.secret)
    visit(staff, tenant.page_url("/gestion/consultations/"))
    follow(staff, staff.get_by_role("link", name="Nouvelle consultation"))
    staff.get_by_label("Titre").fill(TITLE)
    staff.get_by_label("Résumé").fill("Comment vous déplacez-vous ?")
    staff.get_by_label("Ouverture le").fill(today.isoformat())
    staff.get_by_label("Clôture le (inclus)").fill((today + timedelta(days=10)).isoformat())
    follow(staff, staff.get_by_role("button", name="Enregistrer"))
    expect(staff.get_by_role("heading", level=1)).to_have_text(TITLE)
    survey_id = int(re.search(r"/gestion/consultations/(\d+)$", staff.url).group(1))
    _add_question(
        staff,
        follow,
        "Choix unique",
        "Votre mode principal ?",
        "Vélo\nVoiture\nBus",
        required=True,
    )
    follow(staff, staff.get_by_role("link", name="Ajouter une section"))
    staff.get_by_label("Titre de la section").fill("Vos priorités")
    follow(staff, staff.get_by_role("button", name="Enregistrer"))
    _add_question(
        staff,
        follow,
        "Texte court",
        "Qu'est-ce qui vous ferait changer ?",
        section="Vos priorités",
        condition="Q1 « Votre mode principal ? » = Voiture",
        required=True,
    )
    _add_question(staff, follow, "Échelle de 1 à 5", "Êtes-vous en sécurité à vélo ?")
    _add_question(
        staff,
        follow,
        "Classement",
        "Vos priorités",
        "Pistes\nParkings\nZones 30",
        section="Vos priorités",
    )
    expect(staff.get_by_role("main")).to_contain_text("Si vous avez répondu « Voiture »")
    follow(staff, staff.get_by_role("button", name="Publier la consultation"))
    expect(staff.get_by_role("status")).to_contain_text("La consultation est publiée")

    # --- The citizen answers; the conditional question shows only for « Voiture ».
    _log_in(page, tenant, citizen.email, CITIZEN_PASSWORD, follow)
    visit(page, tenant.page_url("/consultations"))
    follow(page, page.get_by_role("link", name=TITLE))
    follow(page, page.get_by_role("link", name="Répondre au questionnaire"))
    conditional = page.get_by_label(re.compile("Qu'est-ce qui vous ferait changer"))
    expect(conditional).to_be_hidden()
    page.get_by_label("Voiture").check()
    expect(conditional).to_be_visible()
    page.get_by_label("Vélo").check()
    expect(conditional).to_be_hidden()
    page.get_by_label("Voiture").check()
    conditional.fill("Une piste sûre jusqu'au travail")
    page.get_by_label("4", exact=True).check()
    for rank, label in enumerate(("Parkings", "Pistes", "Zones 30"), start=1):
        page.get_by_label(label, exact=True).select_option(str(rank))
    follow(page, page.get_by_role("button", name="Envoyer ma réponse"))
    expect(page.get_by_role("status")).to_contain_text("Merci, votre réponse est enregistrée")

    # It can be edited while the survey is open; a required answer missing is explained.
    follow(page, page.get_by_role("link", name="Modifier ma réponse"))
    expect(page.get_by_label("Voiture")).to_be_checked()
    conditional.fill("")
    follow(page, page.get_by_role("button", name="Enregistrer ma réponse"))
    expect(page.get_by_role("alert")).to_contain_text("Cette question est obligatoire")
    page.get_by_label("Bus").check()
    follow(page, page.get_by_role("button", name="Enregistrer ma réponse"))
    expect(page.get_by_role("status")).to_contain_text("Votre réponse est modifiée")

    # --- A second citizen, JavaScript off: every question shows, with the hint. (axe runs
    # in the page's JavaScript, so these pages, already checked above, are not re-checked.)
    other = create_person(
        app, ref, None, email=f"lucas.{suffix}@exemple.fr", password=CITIZEN_PASSWORD
    )
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    context.set_default_timeout(10_000)
    try:
        nojs = context.new_page()
        nojs.goto(tenant.page_url("/connexion"))
        nojs.get_by_label("Adresse e-mail").fill(other.email)
        nojs.get_by_label("Mot de passe").fill(CITIZEN_PASSWORD)
        follow(nojs, nojs.get_by_role("button", name="Se connecter"), accessible=False)
        nojs.goto(tenant.page_url(f"/consultations/{survey_id}/repondre"))
        hint = nojs.get_by_text("Si vous avez répondu « Voiture » à la question 1.")
        expect(hint).to_be_visible()
        nojs.get_by_label("Vélo").check()
        nojs.get_by_label(re.compile("Qu'est-ce qui vous ferait changer")).fill("Ignoré")
        nojs.get_by_label("Pistes", exact=True).select_option("1")
        nojs.get_by_label("Parkings", exact=True).select_option("2")
        nojs.get_by_label("Zones 30", exact=True).select_option("3")
        follow(nojs, nojs.get_by_role("button", name="Envoyer ma réponse"), accessible=False)
        expect(nojs.get_by_role("status")).to_contain_text("Merci")
    finally:
        context.close()

    # --- The administrator publishes the results and what was decided.
    visit(staff, tenant.page_url(f"/gestion/consultations/{survey_id}/resultats"))
    expect(staff.get_by_role("main")).to_contain_text("2 réponses au total")
    visit(staff, tenant.page_url(f"/gestion/consultations/{survey_id}"))
    follow(staff, staff.get_by_role("button", name="Publier les résultats"))
    visit(staff, tenant.page_url(f"/gestion/consultations/{survey_id}/bilan"))
    staff.get_by_label("Ce que la collectivité a décidé (Markdown)").fill(
        "## Décision\n\nTrois pistes **sécurisées** seront créées."
    )
    staff.get_by_label("Publier cette page").check()
    follow(staff, staff.get_by_role("button", name="Enregistrer"))

    # --- The citizen reads them: charts with their tables, and the outcome page.
    visit(page, tenant.page_url(f"/consultations/{survey_id}/resultats"))
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(3)  # choice, scale, ranking
    expect(charts.first).to_have_accessible_name(re.compile("Votre mode principal"))
    page.get_by_text("Voir les données sous forme de tableau").first.click()
    expect(page.get_by_role("table").first).to_contain_text("Bus")
    expect(page.get_by_role("main")).not_to_contain_text("Une piste sûre")  # staff only
    follow(page, page.get_by_role("link", name=re.compile("Vous avez dit, nous avons fait")))
    expect(page.get_by_role("main")).to_contain_text("Trois pistes sécurisées")
