"""Profile, consented demographics, notification preferences, "Télécharger mes données"
and "Supprimer mon compte"."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import PASSWORD, create_user, find_user, load_user, login, post_form
from tests.support import client_on as make_client
from tests.support import csrf_in as csrf_token


def _logged_in(app, tenant, user):
    client = make_client(app, tenant)
    assert login(client, user.email).status_code == 302
    return client


@pytest.fixture
def neighbourhood(app, tenant_a):
    from participation.accounts.models import Neighbourhood
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant_a):
        place = Neighbourhood(name=f"Quartier {uuid.uuid4().hex[:6]}", position=0)
        db.session.add(place)
        db.session.commit()
        return place.id


# --------------------------------------------------------------------------- profile


def test_profile_page_explains_the_optional_data(app, tenant_a, user_factory, neighbourhood):
    user = user_factory()
    client = _logged_in(app, tenant_a, user)
    html = unescape(client.get("/compte").text)
    assert user.email in html
    assert "uniquement à produire des statistiques anonymes de représentativité" in html
    assert "Tranche d'âge" in html and "Quartier" in html
    assert 'autocomplete="name"' in html
    assert html.index("<h1>") < html.index("<h2>")


def test_demographics_are_saved_only_with_consent(app, tenant_a, user_factory, neighbourhood):
    user = user_factory()
    client = _logged_in(app, tenant_a, user)
    form = {
        "display_name": "Camille M.",
        "age_bracket": "25-39",
        "neighbourhood_id": str(neighbourhood),
    }

    response = post_form(client, "/compte", form)
    assert response.status_code == 302
    stored = load_user(app, tenant_a, user.id)
    assert stored.display_name == "Camille M."
    assert stored.age_bracket is None and stored.neighbourhood_id is None
    assert stored.demographics_consent_at is None

    post_form(client, "/compte", {**form, "demographics_consent": "y"})
    stored = load_user(app, tenant_a, user.id)
    assert stored.age_bracket.value == "25-39" and stored.neighbourhood_id == neighbourhood
    assert stored.demographics_consent_at is not None
    page = client.get("/compte").text
    assert 'value="25-39" selected' in page or 'selected value="25-39"' in page

    # Withdrawing consent erases them, even if the fields are still filled in.
    post_form(client, "/compte", form)
    stored = load_user(app, tenant_a, user.id)
    assert stored.age_bracket is None and stored.neighbourhood_id is None
    assert stored.demographics_consent_at is None


def test_profile_refuses_an_unknown_choice(app, tenant_a, user_factory):
    user = user_factory()
    client = _logged_in(app, tenant_a, user)
    response = post_form(
        client,
        "/compte",
        {"display_name": "Camille", "age_bracket": "12-13", "demographics_consent": "y"},
    )
    assert response.status_code == 200
    assert load_user(app, tenant_a, user.id).age_bracket is None


def test_profile_pages_need_a_log_in(client_a):
    for path in (
        "/compte",
        "/compte/notifications",
        "/compte/donnees",
        "/compte/supprimer",
        "/conditions/accepter",
    ):
        response = client_a.get(path)
        assert response.status_code == 302, path
        assert urlsplit(response.headers["Location"]).path == "/connexion"


def test_notification_preferences_are_saved(app, tenant_a, user_factory):
    user = user_factory()
    client = _logged_in(app, tenant_a, user)
    page = client.get("/compte/notifications").text
    assert (
        'value="immediate" checked' in page
        or 'checked id="frequency-0"' in page
        or "checked" in page
    )
    response = post_form(
        client, "/compte/notifications", {"frequency": "daily", "notify_comments": "y"}
    )
    assert response.status_code == 302
    stored = load_user(app, tenant_a, user.id)
    assert stored.notification_frequency.value == "daily"
    assert stored.notify_comments is True
    assert stored.notify_answers is False and stored.notify_processes is False

    bad = post_form(client, "/compte/notifications", {"frequency": "hourly"})
    assert bad.status_code == 200
    assert load_user(app, tenant_a, user.id).notification_frequency.value == "daily"


# --------------------------------------------------------------------------- export


def _request_export(client, smtp, email: str) -> str:
    page = client.get("/compte/donnees")
    assert "7 jours" in page.text
    response = client.post("/compte/donnees", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    message = smtp.wait_for(
        lambda _: [m for m in smtp.messages_to(email) if "données" in m["Subject"]]
    )[-1]
    links = [link for link in smtp.links_in(message) if "/compte/donnees/" in link]
    assert links
    return links[0]


def test_export_zip_holds_the_users_data_and_only_its_owner_gets_it(
    app, tenant_a, smtp, user_factory, neighbourhood
):
    user = user_factory(display_name="Yasmine Benali")
    client = _logged_in(app, tenant_a, user)
    post_form(
        client,
        "/compte",
        {
            "display_name": "Yasmine Benali",
            "demographics_consent": "y",
            "age_bracket": "40-54",
            "neighbourhood_id": str(neighbourhood),
        },
    )
    link = _request_export(client, smtp, user.email)
    assert urlsplit(link).netloc == tenant_a.primary_host
    path = urlsplit(link).path

    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = set(archive.namelist())
        assert {"profil.json", "preferences.json", "consentements.json", "LISEZMOI.txt"} <= names
        assert "agent.json" not in names  # not staff
        profile = json.loads(archive.read("profil.json"))
        consents = json.loads(archive.read("consentements.json"))
        preferences = json.loads(archive.read("preferences.json"))
    assert profile["email"] == user.email and profile["nom_affiche"] == "Yasmine Benali"
    assert profile["donnees_demographiques"]["tranche_age"] == "40-54"
    assert profile["donnees_demographiques"]["quartier"].startswith("Quartier ")
    assert consents["conditions_generales"]["version_acceptee"] == 1
    assert preferences["frequence_des_notifications"] == "immediate"

    # The archive sits in the tenant's folder, named from ids only.
    with app.app_context():
        folder = Path(app.config["TENANT_EXPORT_DIR"]) / f"t{tenant_a.id}"
    assert list(folder.glob(f"user-{user.id}-*.zip"))

    # Another user of the same site, an anonymous visitor, another site: refused.
    other = user_factory()
    assert _logged_in(app, tenant_a, other).get(path).status_code == 404
    anonymous = make_client(app, tenant_a).get(path)
    assert anonymous.status_code == 302 and "/connexion" in anonymous.headers["Location"]
    assert make_client(app, tenant_a).get("/compte/donnees/forged").status_code == 302
    assert client.get("/compte/donnees/forged").status_code == 404


def test_export_sections_can_be_added_by_other_features(app, tenant_a, smtp, user_factory):
    from participation.accounts import tasks

    def proposals(user):
        return "propositions.json", [{"titre": "Plus d'arbres rue du Sauvage", "auteur": user.id}]

    user = user_factory()
    client = _logged_in(app, tenant_a, user)
    tasks.export_sections.append(proposals)
    try:
        link = _request_export(client, smtp, user.email)
    finally:
        tasks.export_sections.remove(proposals)
    with zipfile.ZipFile(io.BytesIO(client.get(urlsplit(link).path).data)) as archive:
        data = json.loads(archive.read("propositions.json"))
        readme = archive.read("LISEZMOI.txt").decode()
    assert data == [{"titre": "Plus d'arbres rue du Sauvage", "auteur": user.id}]
    assert "propositions.json" in readme


def test_staff_export_lists_their_services(app, tenant_a, user_factory):
    from participation.accounts.models import Service, StaffRole, User
    from participation.accounts.tasks import build_archive
    from tenants.context import tenant_context

    user = user_factory(staff_role=StaffRole.AGENT)
    with app.app_context(), tenant_context(tenant_a):
        staff = db.session.get(User, user.id)
        staff.services.append(Service(name=f"Voirie {uuid.uuid4().hex[:6]}"))
        db.session.flush()
        buffer = io.BytesIO()
        build_archive(staff, buffer)
        db.session.rollback()
    with zipfile.ZipFile(buffer) as archive:
        agent = json.loads(archive.read("agent.json"))
    assert agent["role"] == "agent" and agent["services"][0]["nom"].startswith("Voirie")


def test_export_token_from_tenant_a_is_refused_on_b(app, tenant_a, tenant_b):
    from participation.accounts import services
    from tenants.context import tenant_context

    user_b = create_user(app, tenant_b)
    with app.app_context(), tenant_context(tenant_a):
        token = services._serializer("data-export").dumps(
            {"u": user_b.id, "f": f"user-{user_b.id}-0123456789abcdef.zip"}
        )
    client = _logged_in(app, tenant_b, user_b)
    assert client.get(f"/compte/donnees/{token}").status_code == 404


# --------------------------------------------------------------------------- deletion


def test_account_deletion_erases_personal_data(app, tenant_a, smtp, user_factory, neighbourhood):
    from core.audit import AuditEntry
    from participation.accounts.models import User
    from tenants.context import tenant_context

    user = user_factory(display_name="Lucas Weber")
    email = user.email
    elsewhere = _logged_in(app, tenant_a, user)
    client = _logged_in(app, tenant_a, user)
    post_form(
        client,
        "/compte",
        {
            "display_name": "Lucas Weber",
            "demographics_consent": "y",
            "age_bracket": "18-24",
            "neighbourhood_id": str(neighbourhood),
        },
    )

    page = client.get("/compte/supprimer")
    assert "Participant·e anonyme" in unescape(page.text)
    assert 'autocomplete="current-password"' in page.text
    wrong = client.post(
        "/compte/supprimer",
        data={
            "csrf_token": csrf_token(page.text),
            "password": "Pas-le-bon-mot-de-passe",
            "confirm": "y",
        },
    )
    assert "Ce mot de passe est incorrect." in wrong.text
    assert load_user(app, tenant_a, user.id).deleted_at is None
    unconfirmed = client.post(
        "/compte/supprimer", data={"csrf_token": csrf_token(page.text), "password": PASSWORD}
    )
    assert "Cochez cette case" in unconfirmed.text

    done = client.post(
        "/compte/supprimer",
        data={"csrf_token": csrf_token(page.text), "password": PASSWORD, "confirm": "y"},
    )
    assert done.status_code == 302
    assert "Participant·e anonyme" in unescape(client.get("/").text)

    stored = load_user(app, tenant_a, user.id)
    assert stored.email is None and stored.password_hash is None
    assert stored.display_name == User.ANONYMOUS_NAME == "Participant·e anonyme"
    assert stored.public_name == "Participant·e anonyme"
    assert stored.age_bracket is None and stored.neighbourhood_id is None
    assert stored.demographics_consent_at is None and stored.deleted_at is not None
    assert stored.totp_secret is None and stored.recovery_codes == []
    assert stored.session_version == user.session_version + 1

    with app.app_context(), tenant_context(tenant_a):
        entry = db.session.scalar(
            sa.select(AuditEntry).where(
                AuditEntry.action == "account.deleted", AuditEntry.target_id == str(user.id)
            )
        )
        assert entry is not None and email not in json.dumps(entry.details)
        assert entry.actor_label == "Participant·e anonyme"

    # Every session ended, no log-in possible, a goodbye mail went out.
    assert client.get("/compte").status_code == 302
    assert elsewhere.get("/compte").status_code == 302
    assert "incorrect" in login(make_client(app, tenant_a), email).text
    smtp.wait_for(lambda _: [m for m in smtp.messages_to(email) if "supprimé" in m["Subject"]])

    # The address is free again: a new, unrelated account.
    again = post_form(
        make_client(app, tenant_a),
        "/inscription",
        {
            "display_name": "Lucas",
            "email": email,
            "password": PASSWORD,
            "accept_terms": "y",
            "accept_charter": "y",
        },
    )
    assert again.status_code == 302
    fresh = find_user(app, tenant_a, email)
    assert fresh is not None and fresh.id != user.id


def test_deletion_removes_the_export_archives(app, tenant_a, smtp, user_factory):
    user = user_factory()
    client = _logged_in(app, tenant_a, user)
    _request_export(client, smtp, user.email)
    folder = Path(app.config["TENANT_EXPORT_DIR"]) / f"t{tenant_a.id}"
    assert list(folder.glob(f"user-{user.id}-*.zip"))
    post_form(client, "/compte/supprimer", {"password": PASSWORD, "confirm": "y"})
    assert not list(folder.glob(f"user-{user.id}-*.zip"))


def test_the_last_administrator_cannot_delete_their_account(app, own_tenant):
    from participation.accounts.models import StaffRole

    admin = create_user(app, own_tenant, staff_role=StaffRole.ADMIN)
    client = _logged_in(app, own_tenant, admin)
    response = post_form(
        client, "/compte/supprimer", {"password": PASSWORD, "confirm": "y"}, follow_redirects=True
    )
    assert "dernier administrateur" in unescape(response.text)
    assert load_user(app, own_tenant, admin.id).deleted_at is None


def test_privacy_page_states_the_anonymisation_rule(client_a):
    html = unescape(client_a.get("/confidentialite").text)
    assert "Participant·e anonyme" in html
    assert "Télécharger mes données" in html and "Supprimer mon compte" in html
    assert "tranche d'âge" in html.lower()


# --------------------------------------------------------------------------- demo


def test_demo_citizens_are_seeded_idempotently(app, own_tenant):
    from participation.accounts import demo, services
    from participation.accounts.models import User
    from tenants.context import tenant_context

    with app.app_context():
        for _round in range(2):
            with tenant_context(own_tenant) as tenant:
                demo._seed_tenant("saillans", tenant)
        with tenant_context(own_tenant):
            users = db.session.scalars(sa.select(User).order_by(User.id)).all()
            assert [u.email for u in users] == [
                "elise.roux@example.fr",
                "thomas.faure@example.fr",
                "nadia.chabert@example.fr",
            ]
            assert all(u.email_confirmed_at for u in users)
            assert users[0].age_bracket is not None and users[0].neighbourhood is not None
            assert users[2].demographics_consent_at is None
            result = services.authenticate("elise.roux@example.fr", demo.DEMO_PASSWORD)
            assert result.ok
