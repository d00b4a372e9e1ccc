"""Citizen accounts: sign-up with e-mail confirmation, log-in/out, password reset, tenant
isolation of accounts, cookies and tokens, rate limits, CSRF, versioned terms."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    PASSWORD,
    create_user,
    find_user,
    load_user,
    login,
    post_form,
    unique_email,
)
from tests.support import client_on as make_client
from tests.support import csrf_in as csrf_token

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
TOO_MANY = "Trop de tentatives : merci de patienter quelques minutes avant de réessayer."
NEW_PASSWORD = "Girafe-Tamarin-Velours-2093"


def _link(smtp, message, fragment: str) -> str:
    links = [url for url in smtp.links_in(message) if fragment in url]
    assert links, f"no link with {fragment!r} in {smtp.links_in(message)}"
    return links[0]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _signup(client, email: str, password: str = PASSWORD, name: str = "Camille Martin", **extra):
    data = {
        "display_name": name,
        "email": email,
        "password": password,
        "accept_terms": "y",
        "accept_charter": "y",
    }
    data.update(extra)
    return post_form(client, "/inscription", data)


def _subjects(smtp, email: str) -> list[str]:
    return [str(m["Subject"]) for m in smtp.messages_to(email)]


# --------------------------------------------------------------------------- sign-up


def test_signup_page_is_accessible_and_links_the_texts(client_a):
    html = client_a.get("/inscription").get_data(as_text=True)
    assert 'autocomplete="name"' in html
    assert 'autocomplete="email"' in html
    assert 'autocomplete="new-password"' in html
    assert 'href="/conditions"' in html and 'href="/charte"' in html
    assert '<label for="password">' in html
    assert "<script" not in html and "style=" not in html


def test_signup_confirmation_login_and_logout(app, client_a, tenant_a, smtp):
    email = unique_email()
    response = _signup(client_a, email.upper())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inscription/confirmation")
    page = client_a.get("/inscription/confirmation").get_data(as_text=True)
    assert "Vérifiez votre boîte e-mail" in page

    message = smtp.wait_for_message_to(email)
    assert tenant_a.name in str(message["Subject"])
    assert smtp.html_of(message)  # a text and an HTML part
    link = _link(smtp, message, "/confirmer/")
    assert urlsplit(link).netloc == tenant_a.primary_host

    # Not confirmed yet: log-in refused.
    refused = login(client_a, email)
    assert "pas encore confirmée" in refused.get_data(as_text=True)

    confirmed = client_a.get(_path(link))
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith("/connexion")

    response = login(client_a, email)
    assert response.status_code == 302
    assert client_a.get("/compte").status_code == 200
    user = find_user(app, tenant_a, email)
    assert user.last_login_at is not None
    assert user.terms_version == 1 and user.charter_version == 1

    token = csrf_token(client_a.get("/compte").get_data(as_text=True))
    response = client_a.post("/deconnexion", data={"csrf_token": token})
    assert response.status_code == 302
    after = client_a.get("/compte")
    assert after.status_code == 302 and "/connexion" in after.headers["Location"]


def test_signup_explains_what_is_wrong_in_french(client_a):
    response = post_form(
        client_a,
        "/inscription",
        {"display_name": "", "email": "pas-une-adresse", "password": "motdepasse"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in html
    assert "Indiquez une adresse e-mail valide" in html
    assert "au moins 12 caractères" in html
    assert "Vous devez accepter les conditions d'utilisation." in unescape(html)
    assert "Vous devez accepter la charte de participation." in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="email-hint email-error"' in html


def test_signup_refuses_a_common_password(client_a):
    html = _signup(client_a, unique_email(), password="azertyuiop123").get_data(as_text=True)
    assert "trop courant ou trop facile à deviner" in html


def test_duplicate_signup_gives_the_same_page_and_mails_a_notice(
    app, client_a, tenant_a, smtp, user_factory
):
    user = user_factory(display_name="Yasmine Benali")
    response = _signup(make_client(app, tenant_a), user.email.upper(), name="Intrus")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inscription/confirmation")

    notice = smtp.wait_for(
        lambda _: [m for m in smtp.messages_to(user.email) if "déjà un compte" in m["Subject"]]
    )[0]
    text = smtp.text_of(notice)
    assert "Yasmine Benali" in text and "/mot-de-passe-oublie" in text
    assert "/confirmer/" not in text  # the account is already confirmed
    with app.app_context():
        from participation.accounts.models import User
        from tenants.context import tenant_context

        with tenant_context(tenant_a):
            count = db.session.scalar(
                sa.select(sa.func.count(User.id)).where(sa.func.lower(User.email) == user.email)
            )
    assert count == 1
    # The original account is untouched.
    assert login(make_client(app, tenant_a), user.email).status_code == 302


def test_duplicate_signup_of_an_unconfirmed_account_resends_the_link(
    app, tenant_a, smtp, user_factory
):
    user = user_factory(confirmed=False)
    smtp.wait_for_message_to(user.email)
    _signup(make_client(app, tenant_a), user.email)
    notice = smtp.wait_for(
        lambda _: [m for m in smtp.messages_to(user.email) if "déjà un compte" in m["Subject"]]
    )[0]
    link = _link(smtp, notice, "/confirmer/")
    assert make_client(app, tenant_a).get(_path(link)).status_code == 302
    assert load_user(app, tenant_a, user.id).email_confirmed_at is not None


def test_resend_confirmation_answers_the_same_whatever_the_address(
    app, tenant_a, smtp, user_factory
):
    pending = user_factory(confirmed=False)
    client = make_client(app, tenant_a)
    answers = []
    for email in (pending.email, unique_email("inconnu")):
        response = post_form(
            client, "/inscription/confirmation", {"email": email}, follow_redirects=True
        )
        answers.append((response.status_code, "un nouveau lien vient d" in response.text))
    assert answers[0] == answers[1] == (200, True)
    smtp.wait_for(lambda _: len(smtp.messages_to(pending.email)) >= 2)


def test_confirmation_link_expires_and_cannot_be_forged(app, client_a, tenant_a, user_factory):
    from itsdangerous import URLSafeTimedSerializer

    user = user_factory(confirmed=False)
    forged = URLSafeTimedSerializer("not-the-key", salt="x").dumps({"u": user.id})
    response = client_a.get(f"/confirmer/{forged}")
    assert response.status_code == 400
    assert "n'est pas valide" in unescape(response.text)
    assert load_user(app, tenant_a, user.id).email_confirmed_at is None


# --------------------------------------------------------------------------- log-in


def test_unconfirmed_login_is_refused_and_offers_a_new_link(app, tenant_a, smtp, user_factory):
    user = user_factory(confirmed=False)
    client = make_client(app, tenant_a)
    response = login(client, user.email)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "pas encore confirmée" in html
    assert "Recevoir un nouveau lien de confirmation" in html
    assert client.get("/compte").status_code == 302
    # A wrong password on the same account says nothing about its state.
    wrong = login(make_client(app, tenant_a), user.email, "Mauvais-mot-de-passe-42")
    assert BAD_CREDENTIALS in wrong.text and "confirmée" not in wrong.text


def test_wrong_password_and_unknown_email_get_the_same_answer(app, tenant_a, user_factory):
    user = user_factory()
    wrong = login(make_client(app, tenant_a), user.email, "Mauvais-mot-de-passe-42")
    unknown = login(make_client(app, tenant_a), unique_email("personne"), PASSWORD)
    assert wrong.status_code == unknown.status_code == 200
    assert BAD_CREDENTIALS in wrong.text and BAD_CREDENTIALS in unknown.text

    def error_box(html: str) -> str:
        return html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]

    assert error_box(wrong.text) == error_box(unknown.text)


def test_login_goes_back_to_next_but_never_to_another_site(app, tenant_a, user_factory):
    user = user_factory()
    client = make_client(app, tenant_a)
    response = client.get("/compte/notifications")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    token = csrf_token(page.text)
    response = client.post(
        "/connexion",
        data={
            "csrf_token": token,
            "email": user.email,
            "password": PASSWORD,
            "next": "/compte/notifications",
        },
    )
    assert response.headers["Location"] == "/compte/notifications"

    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil"):
        client = make_client(app, tenant_a)
        token = csrf_token(client.get("/connexion").text)
        response = client.post(
            "/connexion",
            data={"csrf_token": token, "email": user.email, "password": PASSWORD, "next": evil},
        )
        assert response.headers["Location"] == "/", evil


def test_deactivated_account_cannot_log_in(app, tenant_a, user_factory):
    user = user_factory(is_active_account=False)
    response = login(make_client(app, tenant_a), user.email)
    assert "désactivé" in response.text


def test_staff_with_two_factor_is_handed_over_to_the_challenge(app, tenant_a, user_factory):
    from participation.accounts.models import StaffRole

    user = user_factory(staff_role=StaffRole.AGENT, totp_enabled=True, totp_secret="A" * 32)
    client = make_client(app, tenant_a)
    response = post_form(
        client, "/connexion", {"email": user.email, "password": PASSWORD, "next": "/compte"}
    )
    if "staff.two_factor" in app.view_functions:
        assert response.status_code == 302
        with client.session_transaction(base_url=client.base_url) as session:
            assert session["pending_2fa_user_id"] == user.id
            assert session["pending_2fa_next"] == "/compte"
            assert "_user_id" not in session
    else:
        assert response.status_code == 503  # never logged in without the second factor
    assert client.get("/compte").status_code == 302


def test_staff_without_two_factor_is_logged_in_unverified(app, tenant_a, user_factory):
    from participation.accounts.models import StaffRole

    user = user_factory(staff_role=StaffRole.MODERATOR)
    client = make_client(app, tenant_a)
    assert login(client, user.email).status_code == 302
    with client.session_transaction(base_url=client.base_url) as session:
        assert session["pnyx_2fa"] is False
        assert session["_user_id"].startswith(f"t{tenant_a.id}:{user.id}:")


def test_csrf_token_is_required(client_a, user_factory):
    user = user_factory()
    response = client_a.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    response = client_a.post("/deconnexion")
    assert response.status_code == 400


# --------------------------------------------------------------------------- password reset


def test_password_reset_end_to_end(app, tenant_a, smtp, user_factory):
    user = user_factory()
    elsewhere = make_client(app, tenant_a)
    assert login(elsewhere, user.email).status_code == 302
    assert elsewhere.get("/compte").status_code == 200

    client = make_client(app, tenant_a)
    response = post_form(
        client, "/mot-de-passe-oublie", {"email": user.email.upper()}, follow_redirects=True
    )
    assert "Si un compte correspond à cette adresse" in response.text
    message = smtp.wait_for(
        lambda _: [m for m in smtp.messages_to(user.email) if "mot de passe" in m["Subject"]]
    )[0]
    link = _path(_link(smtp, message, "/reinitialiser/"))

    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert 'autocomplete="new-password"' in page.text
    weak = client.post(link, data={"csrf_token": csrf_token(page.text), "password": "court"})
    assert "au moins 12 caractères" in weak.text

    done = client.post(link, data={"csrf_token": csrf_token(page.text), "password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/connexion")

    # Single use, other sessions ended, the old password is dead, the new one works.
    again = client.get(link)
    assert again.status_code == 400 and "n'est pas valide" in unescape(again.text)
    assert elsewhere.get("/compte").status_code == 302
    assert BAD_CREDENTIALS in login(make_client(app, tenant_a), user.email).text
    assert login(make_client(app, tenant_a), user.email, NEW_PASSWORD).status_code == 302
    assert load_user(app, tenant_a, user.id).session_version == user.session_version + 1


def test_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(app, tenant_a, smtp):
    email = unique_email("inconnu")
    response = post_form(
        make_client(app, tenant_a), "/mot-de-passe-oublie", {"email": email}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Si un compte correspond à cette adresse" in response.text
    assert smtp.messages_to(email) == []


def test_reset_confirms_an_unconfirmed_address(app, tenant_a, user_factory):
    from participation.accounts import services
    from tenants.context import tenant_context

    user = user_factory(confirmed=False)
    with app.app_context(), tenant_context(tenant_a):
        token = services.reset_token(services.get_user_by_email(user.email))
    client = make_client(app, tenant_a)
    post_form(client, f"/reinitialiser/{token}", {"password": NEW_PASSWORD})
    assert load_user(app, tenant_a, user.id).email_confirmed_at is not None
    assert login(make_client(app, tenant_a), user.email, NEW_PASSWORD).status_code == 302


# --------------------------------------------------------------------------- tenants


def test_the_same_email_on_two_tenants_is_two_accounts(app, tenant_a, tenant_b, smtp):
    email = unique_email("lucas")
    on_a = create_user(app, tenant_a, email, display_name="Lucas Weber")
    # Signing up on B is a real sign-up, not a "you already have an account" notice.
    client_b = make_client(app, tenant_b)
    response = _signup(client_b, email, password=NEW_PASSWORD, name="Lucas W.")
    assert response.status_code == 302
    message = smtp.wait_for(
        lambda _: [m for m in smtp.messages_to(email) if tenant_b.name in m["Subject"]]
    )[0]
    assert "déjà un compte" not in message["Subject"]
    client_b.get(_path(_link(smtp, message, "/confirmer/")))
    on_b = find_user(app, tenant_b, email)
    assert on_b is not None and on_b.display_name == "Lucas W."
    assert on_a.display_name == "Lucas Weber"

    # A's password does not open B's account, and each password works on its own site.
    assert BAD_CREDENTIALS in login(make_client(app, tenant_b), email, PASSWORD).text
    assert login(make_client(app, tenant_a), email, PASSWORD).status_code == 302
    assert login(make_client(app, tenant_b), email, NEW_PASSWORD).status_code == 302


def test_a_session_cookie_from_tenant_a_does_not_authenticate_on_b(
    app, tenant_a, tenant_b, user_factory
):
    user = user_factory()
    create_user(app, tenant_b, user.email)  # same address, even same-looking account
    client_a = make_client(app, tenant_a)
    assert login(client_a, user.email).status_code == 302
    cookie = client_a.get_cookie("session", domain=tenant_a.primary_host)
    assert cookie is not None and cookie.domain in (tenant_a.primary_host, None, "")

    client_b = make_client(app, tenant_b)
    client_b.set_cookie("session", cookie.value, domain=tenant_b.primary_host)
    response = client_b.get("/compte")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    assert client_a.get("/compte").status_code == 200


def test_tokens_from_tenant_a_are_refused_on_b(app, tenant_a, tenant_b):
    from participation.accounts import services
    from tenants.context import tenant_context

    email = unique_email()
    user_a = create_user(app, tenant_a, email, confirmed=False)
    user_b = create_user(app, tenant_b, email, confirmed=False)
    with app.app_context(), tenant_context(tenant_a):
        # Tokens signed on A that name B's account exactly (id and state): only the tenant
        # in the salt tells them apart from B's own tokens.
        confirm = services._serializer("confirm-email").dumps(
            {"u": user_b.id, "e": services._fingerprint(user_b.email)}
        )
        reset = services._serializer("reset-password").dumps(
            {
                "u": user_b.id,
                "f": services._fingerprint(user_b.password_hash, user_b.session_version),
            }
        )
        own_reset = services.reset_token(services.get_user_by_email(email))
    client_b = make_client(app, tenant_b)
    assert client_b.get(f"/confirmer/{confirm}").status_code == 400
    assert client_b.get(f"/reinitialiser/{reset}").status_code == 400
    assert client_b.get(f"/reinitialiser/{own_reset}").status_code == 400
    assert load_user(app, tenant_b, user_b.id).email_confirmed_at is None
    # A's own tokens work on A.
    client_a = make_client(app, tenant_a)
    assert client_a.get(f"/reinitialiser/{own_reset}").status_code == 200
    with app.app_context(), tenant_context(tenant_a):
        own_confirm = services.confirmation_token(services.get_user_by_email(email))
    assert client_a.get(f"/confirmer/{own_confirm}").status_code == 302
    assert load_user(app, tenant_a, user_a.id).email_confirmed_at is not None


# --------------------------------------------------------------------------- rate limits


@pytest.mark.parametrize(
    ("path", "data", "allowed"),
    [
        ("/connexion", {"email": "x@exemple.fr", "password": "Mauvais-mot-de-passe"}, 10),
        ("/inscription", {"email": "x@exemple.fr"}, 5),
        ("/mot-de-passe-oublie", {"email": "x@exemple.fr"}, 5),
        ("/inscription/confirmation", {"email": "x@exemple.fr"}, 3),
    ],
)
def test_rate_limits_answer_429_in_french(app, tenant_a, path, data, allowed):
    client = make_client(app, tenant_a)
    token = csrf_token(client.get(path).text)
    # A new e-mail each time: this is the per-address limit, not the per-account one.
    for _attempt in range(allowed):
        response = client.post(path, data={"csrf_token": token, **data, "email": unique_email()})
        assert response.status_code != 429
    response = client.post(path, data={"csrf_token": token, **data, "email": unique_email()})
    assert response.status_code == 429
    assert TOO_MANY in response.text
    assert response.headers["Retry-After"] == "60"  # the per-minute window that was hit
    # Another address is not affected.
    other = make_client(app, tenant_a)
    other_data = {"csrf_token": csrf_token(other.get(path).text), **data, "email": unique_email()}
    assert other.post(path, data=other_data).status_code != 429


# --------------------------------------------------------------------------- legal texts


def test_terms_charter_and_privacy_pages(app, own_tenant):
    client = make_client(app, own_tenant)
    terms = client.get("/conditions")
    assert terms.status_code == 200
    assert "<h1>Conditions générales d'utilisation</h1>" in unescape(terms.text)
    assert "Version 1" in terms.text and own_tenant.name in terms.text
    charter = client.get("/charte")
    assert "<h1>Charte de participation</h1>" in charter.text and "<li>" in charter.text

    privacy = client.get("/confidentialite").text
    assert "Participant·e anonyme" in privacy
    assert "délégué à la protection des données" in privacy
    assert "n'a pas encore indiqué" in unescape(privacy)  # the fallback
    assert "représentativité" in privacy and "cnil.fr" in privacy

    from tenants.context import tenant_context
    from tenants.models import TenantSetting

    with app.app_context(), tenant_context(own_tenant):
        setting = db.session.get(TenantSetting, "dpo_contact")
        setting.value = "Service juridique\n2 place de la Mairie\ndpo@ville-exemple.fr\n"
        db.session.commit()
    privacy = client.get("/confidentialite").text
    assert 'href="mailto:dpo@ville-exemple.fr"' in privacy
    assert "Service juridique<br>" in privacy and "2 place de la Mairie" in privacy
    assert "n'a pas encore indiqué" not in unescape(privacy)


def test_a_new_terms_version_must_be_accepted(app, own_tenant):
    from participation.accounts import services
    from participation.accounts.models import LegalDocumentKind
    from tenants.context import tenant_context

    user = create_user(app, own_tenant)
    client = make_client(app, own_tenant)
    assert login(client, user.email).status_code == 302
    assert client.get("/compte").status_code == 200

    with app.app_context(), tenant_context(own_tenant):
        services.publish_legal_document(
            LegalDocumentKind.TERMS, "Conditions générales d'utilisation", "## Nouveau\n\nTexte."
        )
        db.session.commit()

    response = client.get("/compte")
    assert response.status_code == 303
    assert _path(response.headers["Location"]) in (
        "/conditions/accepter?next=/compte",
        "/conditions/accepter?next=%2Fcompte",
    )
    assert client.get("/compte/notifications").status_code == 303
    # The texts, the privacy page, the RGPD rights and log-out stay reachable.
    for path in (
        "/conditions",
        "/charte",
        "/confidentialite",
        "/compte/donnees",
        "/compte/supprimer",
    ):
        assert client.get(path).status_code == 200, path

    page = client.get("/conditions/accepter?next=/compte")
    assert "Conditions générales d'utilisation" in unescape(page.text) and "version 2" in unescape(
        page.text
    )
    refused = client.post(
        "/conditions/accepter", data={"csrf_token": csrf_token(page.text), "next": "/compte"}
    )
    assert "Cochez cette case pour continuer." in refused.text
    accepted = client.post(
        "/conditions/accepter",
        data={"csrf_token": csrf_token(page.text), "next": "/compte", "accept": "y"},
    )
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/compte"
    assert client.get("/compte").status_code == 200
    stored = load_user(app, own_tenant, user.id)
    assert stored.terms_version == 2 and stored.charter_version == 1

    # Someone who signs up now accepts version 2 directly.
    newcomer = create_user(app, own_tenant)
    assert newcomer.terms_version == 2
    fresh = make_client(app, own_tenant)
    login(fresh, newcomer.email)
    assert fresh.get("/compte").status_code == 200


def test_provisioning_inserts_the_default_texts(app, make_tenant):
    from participation.accounts import services
    from tenants.context import tenant_context

    tenant = make_tenant(fresh=True)  # provisioned, not reset from the pool
    with app.app_context(), tenant_context(tenant):
        documents = services.current_legal_documents()
        assert sorted(d.value for d in documents) == ["charter", "terms"]
        assert all(doc.version == 1 and tenant.name in doc.body for doc in documents.values())


def test_legal_markdown_is_escaped():
    from participation.accounts.legal import render_markdown

    html = str(
        render_markdown(
            "# Titre\n\nTexte <script>alert(1)</script> [x](javascript:alert(1)) "
            "[CNIL](https://www.cnil.fr) **gras**\n\n- un\n- deux"
        )
    )
    assert "<script>" not in html and "javascript:" not in html.split("[x]")[0]
    assert "<h2>Titre</h2>" in html and "<strong>gras</strong>" in html
    assert '<a href="https://www.cnil.fr"' in html and "<ul><li>un</li><li>deux</li></ul>" in html
