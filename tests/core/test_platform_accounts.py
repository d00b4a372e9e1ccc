"""Platform accounts: log-in, mandatory TOTP, recovery codes, roles, CLI and migration."""

from __future__ import annotations

import html
import re
import secrets
import time
import uuid

import pyotp
import pytest
import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import session
from flask_login import current_user

from core.db import db
from tests.support import PASSWORD, PLATFORM, client_on

BAD_CREDENTIALS = "E-mail ou mot de passe incorrect."
TOO_MANY = "Trop de tentatives : merci de patienter quelques minutes avant de réessayer."


@pytest.fixture(scope="module")
def papp(app):
    return app


def _client(papp, host: str = PLATFORM):
    """A client with an address of its own: rate-limit counters never leak between tests
    (nor between runs within the hour)."""
    return client_on(papp, host)


def _make_user(papp, role: str = "operator", tenant_id: int | None = None) -> str:
    from tenants.platform.services import create_platform_user

    email = f"{role}-{uuid.uuid4().hex[:10]}@Exemple.FR"
    with papp.app_context():
        create_platform_user(email, f"Camille {role}", role, PASSWORD, tenant_id=tenant_id)
        db.session.commit()
    return email.lower()


def _user(papp, email: str):
    from tenants.platform.services import get_platform_user_by_email

    with papp.app_context():
        user = get_platform_user_by_email(email)
        db.session.expunge(user)
        return user


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _post_form(client, path: str, data: dict, query: str = ""):
    page = client.get(path + query)
    assert page.status_code == 200, page.text
    return client.post(path + query, data={"csrf_token": _csrf(page.text), **data})


def _password_step(client, email: str, password: str = PASSWORD, query: str = ""):
    return _post_form(client, "/connexion", {"email": email, "password": password}, query)


def _enrol(client) -> tuple[str, int, list[str], str]:
    """Enrol from the page's own secret: (secret, step used, recovery codes, page)."""
    page = client.get("/compte/double-authentification")
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    step = int(time.time()) // totp.interval
    response = client.post(
        "/compte/double-authentification",
        data={"csrf_token": _csrf(page.text), "code": totp.at(step * totp.interval)},
    )
    assert response.status_code == 200, response.text
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", response.text)
    return secret, step, codes, response.text


def _enrolled_user(papp, role: str = "operator", tenant_id: int | None = None):
    """An account that went through its first log-in and enrolment, logged out again."""
    email = _make_user(papp, role, tenant_id)
    client = _client(papp)
    assert _password_step(client, email).status_code == 302
    secret, step, codes, _page = _enrol(client)
    _logout(client)
    return email, secret, step, codes


def _logout(client):
    page = client.get("/")  # the navigation holds the log-out form
    response = client.post("/deconnexion", data={"csrf_token": _csrf(page.text)})
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    return response


def _code(secret: str, step: int) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(step * totp.interval)


def _verify(client, data: dict):
    page = client.get("/connexion/verification")
    assert page.status_code == 200, page.text
    return client.post("/connexion/verification", data={"csrf_token": _csrf(page.text), **data})


# --------------------------------------------------------------------------- flows


def test_first_log_in_enrols_totp_then_shows_recovery_codes_and_the_console(papp, tenant_a):
    email = _make_user(papp)
    client = _client(papp)
    login_page = client.get("/connexion")
    assert 'autocomplete="email"' in login_page.text
    assert 'autocomplete="current-password"' in login_page.text

    response = _password_step(client, email.upper())  # e-mails are case-insensitive
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/compte/double-authentification")
    # Password alone opens nothing else.
    assert (
        client.get("/operateur").headers["Location"].startswith("/compte/double-authentification")
    )

    enrol_page = client.get("/compte/double-authentification")
    assert "<svg" in enrol_page.text and 'role="img"' in enrol_page.text
    assert 'inputmode="numeric"' in enrol_page.text
    assert 'autocomplete="one-time-code"' in enrol_page.text
    assert enrol_page.headers["Cache-Control"] == "no-store"
    with papp.app_context():  # not stored before it is confirmed
        from tenants.platform.services import get_platform_user_by_email

        user = get_platform_user_by_email(email)
        assert user.totp_secret is None and not user.totp_enabled

    wrong = client.post(
        "/compte/double-authentification",
        data={"csrf_token": _csrf(enrol_page.text), "code": "000000"},
    )
    assert "Ce code ne correspond pas" in wrong.text

    secret, _step, codes, page = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "ne seront plus jamais affichés" in page
    with papp.app_context():
        user = get_platform_user_by_email(email)
        assert user.totp_enabled and user.totp_secret == secret
        assert len(user.recovery_codes) == 10 and codes[0] not in user.recovery_codes
        actions = set(
            db.session.scalars(
                sa.text(
                    "SELECT action FROM public.platform_audit_log WHERE target_id = :id"
                ).bindparams(id=str(user.id))
            )
        )
        assert {
            "platform_user.created",
            "platform_user.login",
            "platform_user.two_factor_enabled",
        } <= actions

    console = client.get("/operateur")
    assert console.status_code == 200
    assert "Console opérateur" in console.text
    assert tenant_a.name in console.text
    population = format_decimal(tenant_a.population, locale="fr_FR")
    assert population in console.text
    assert "Actif" in console.text and "En préparation" in console.text
    assert f'href="http://{tenant_a.primary_host}/"' in console.text
    assert "À jour" in console.text
    # The nav offers the console and the log-out form.
    assert "Se déconnecter" in console.text


def test_second_log_in_asks_for_the_code_and_refuses_a_replayed_one(papp):
    email, secret, step, _codes = _enrolled_user(papp)
    client = _client(papp)
    response = _password_step(client, email, query="?next=/operateur")
    assert response.status_code == 302
    assert response.headers["Location"] == "/connexion/verification"
    # Not logged in yet.
    assert client.get("/operateur").headers["Location"].startswith("/connexion")

    page = client.get("/connexion/verification")
    assert 'autocomplete="one-time-code"' in page.text and 'inputmode="numeric"' in page.text

    replayed = _verify(client, {"code": _code(secret, step)})  # the enrolment's code
    assert replayed.status_code == 200
    assert "Ce code est incorrect ou a déjà été utilisé." in replayed.text

    accepted = _verify(client, {"code": _code(secret, step + 1)})
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/operateur"
    assert client.get("/operateur").status_code == 200

    _logout(client)
    assert client.get("/operateur").status_code == 302
    _password_step(client, email)
    again = _verify(client, {"code": _code(secret, step + 1)})
    assert "déjà été utilisé" in again.text


def test_a_recovery_code_works_once(papp):
    email, _secret, _step, codes = _enrolled_user(papp)
    client = _client(papp)
    _password_step(client, email)
    used = _verify(client, {"recovery_code": codes[0].upper()})
    assert used.status_code == 302 and used.headers["Location"] == "/operateur"
    assert "Il vous en reste 9" in client.get("/operateur").text
    _logout(client)

    _password_step(client, email)
    refused = _verify(client, {"recovery_code": codes[0]})
    assert refused.status_code == 200
    assert "Ce code est incorrect ou a déjà été utilisé." in refused.text
    assert _verify(client, {"recovery_code": codes[1]}).status_code == 302
    with papp.app_context():
        from tenants.platform.services import get_platform_user_by_email

        assert get_platform_user_by_email(email).recovery_codes_left == 8


def test_wrong_password_and_unknown_email_look_the_same(papp):
    email = _make_user(papp)
    client = _client(papp)
    wrong = _password_step(client, email, password="Pas-le-bon-mot-de-passe-42")
    unknown = _password_step(client, f"inconnu-{uuid.uuid4().hex}@exemple.fr")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        assert BAD_CREDENTIALS in response.text

    def main(text: str) -> str:
        return re.sub(r'value="[^"]*"', "", text.split("<main", 1)[1])

    assert main(wrong.text) == main(unknown.text)

    empty = _password_step(client, "", password="")
    assert empty.status_code == 200
    assert "Indiquez votre adresse e-mail." in empty.text
    assert 'aria-invalid="true"' in empty.text


def test_an_inactive_account_cannot_log_in(papp):
    email = _make_user(papp)
    with papp.app_context():
        db.session.execute(
            sa.text("UPDATE public.platform_users SET is_active = false WHERE email = :e"),
            {"e": email},
        )
        db.session.commit()
    assert BAD_CREDENTIALS in _password_step(_client(papp), email).text


def test_log_in_is_rate_limited_with_a_french_message(papp):
    client = _client(papp)
    page = client.get("/connexion")
    token = _csrf(page.text)
    data = {"csrf_token": token, "email": "personne@exemple.fr", "password": "x" * 12}
    for _ in range(10):
        assert client.post("/connexion", data=data).status_code == 200
    limited = client.post("/connexion", data=data)
    assert limited.status_code == 429
    assert TOO_MANY in limited.text
    # The form itself stays readable.
    assert client.get("/connexion").status_code == 200


def test_second_factor_is_rate_limited_per_account_too(papp):
    """Guessing codes from many addresses does not go faster than from one."""
    email, _secret, _step, _codes = _enrolled_user(papp)
    client = _client(papp)
    _password_step(client, email)
    token = _csrf(client.get("/connexion/verification").text)
    for attempt in range(11):
        client.environ_base["REMOTE_ADDR"] = f"10.99.{secrets.randbelow(254) + 1}.{attempt + 1}"
        response = client.post(
            "/connexion/verification", data={"csrf_token": token, "code": "000000"}
        )
        assert response.status_code == (429 if attempt == 10 else 200)
    assert TOO_MANY in response.text


def test_a_post_without_csrf_token_is_refused(papp):
    response = _client(papp).post(
        "/connexion", data={"email": "personne@exemple.fr", "password": PASSWORD}
    )
    assert response.status_code == 400


def test_redirect_after_log_in_stays_on_the_site(papp):
    email, secret, step, _codes = _enrolled_user(papp)
    client = _client(papp)
    _password_step(client, email, query="?next=https://evil.example/")
    response = _verify(client, {"code": _code(secret, step + 1)})
    assert response.headers["Location"] == "/operateur"


# --------------------------------------------------------------------------- roles


def test_anonymous_is_sent_to_the_log_in_page(papp):
    client = _client(papp)
    for path in ("/operateur", "/espace", "/compte/double-authentification"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion?next=")


def test_coordinator_gets_403_on_the_console_and_has_a_network_space(papp):
    email, secret, step, _codes = _enrolled_user(papp, "coordinator")
    client = _client(papp)
    _password_step(client, email)
    response = _verify(client, {"code": _code(secret, step + 1)})
    assert response.headers["Location"] == "/espace"
    forbidden = client.get("/operateur")
    assert forbidden.status_code == 403
    assert "Vous n'avez pas le droit" in html.unescape(forbidden.text)
    home = client.get("/espace")
    assert home.status_code == 200
    assert "Votre espace réseau" in home.text and "Coordination de réseau" in home.text
    assert "Console opérateur" not in home.text


def test_member_is_linked_to_its_collectivite(papp, tenant_a):
    from tenants.platform.services import PlatformAccountError, create_platform_user

    with papp.app_context():
        with pytest.raises(PlatformAccountError, match="collectivité"):
            create_platform_user("agent@exemple.fr", "Agent", "member", PASSWORD)
        db.session.rollback()
    email, secret, step, _codes = _enrolled_user(papp, "member", tenant_id=tenant_a.id)
    client = _client(papp)
    _password_step(client, email)
    _verify(client, {"code": _code(secret, step + 1)})
    home = client.get("/espace")
    assert home.status_code == 200 and tenant_a.name in home.text
    assert client.get("/operateur").status_code == 403


def test_platform_session_does_not_log_in_on_a_tenant_host(papp, tenant_a):
    email, secret, step, _codes = _enrolled_user(papp)
    client = _client(papp)
    _password_step(client, email)
    _verify(client, {"code": _code(secret, step + 1)})
    assert client.get("/operateur").status_code == 200
    cookie = client.get_cookie("session", domain=PLATFORM).value

    def seen_from(host: str):
        with papp.test_request_context(
            "/", base_url=f"http://{host}", headers={"Cookie": f"session={cookie}"}
        ):
            papp.preprocess_request()
            return dict(session), current_user.is_authenticated

    platform_session, platform_authenticated = seen_from(PLATFORM)
    assert platform_authenticated and platform_session["_user_id"].startswith("p:")
    tenant_session, tenant_authenticated = seen_from(tenant_a.primary_host)
    assert tenant_session == {} and not tenant_authenticated
    # And over HTTP: the copied cookie opens nothing on the tenant host.
    tenant_client = _client(papp, tenant_a.primary_host)
    tenant_client.set_cookie("session", cookie, domain=tenant_a.primary_host)
    assert "Se déconnecter" not in tenant_client.get("/").text


def test_bumping_the_session_version_ends_the_session(papp):
    email, secret, step, _codes = _enrolled_user(papp)
    client = _client(papp)
    _password_step(client, email)
    _verify(client, {"code": _code(secret, step + 1)})
    assert client.get("/operateur").status_code == 200
    with papp.app_context():
        db.session.execute(
            sa.text(
                "UPDATE public.platform_users SET session_version = session_version + 1 "
                "WHERE email = :e"
            ),
            {"e": email},
        )
        db.session.commit()
    assert client.get("/operateur").status_code == 302


# --------------------------------------------------------------------------- CLI, demo


def _cli(papp, *args, input: str | None = None):
    return papp.test_cli_runner().invoke(args=["platform", *args], input=input)


def _create_user_cli(papp, email: str, role: str, *options: str, input: str | None = None):
    return _cli(
        papp, "create-user", "--email", email, "--name", "Dominique Agent", "--role", role,
        *options, input=input,
    )  # fmt: skip


def test_cli_refuses_a_weak_password(papp):
    email = f"faible-{uuid.uuid4().hex[:8]}@exemple.fr"
    result = _create_user_cli(papp, email, "operator", "--password", "motdepasse123")
    assert result.exit_code == 1
    assert "trop courant ou trop facile à deviner" in result.output
    assert _user_or_none(papp, email) is None


def test_cli_creates_users_and_lists_them(papp, tenant_a):
    email = f"cli-{uuid.uuid4().hex[:8]}@exemple.fr"
    result = _create_user_cli(
        papp, email, "member", "--tenant", tenant_a.slug, input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # the prompt hides it
    user = _user(papp, email)
    assert user.role == "member" and user.tenant_id == tenant_a.id

    missing_tenant = _create_user_cli(papp, "x" + email, "member", "--password", PASSWORD)
    assert missing_tenant.exit_code == 1 and "collectivité" in missing_tenant.output
    duplicate = _create_user_cli(papp, email.upper(), "coordinator", "--password", PASSWORD)
    assert duplicate.exit_code == 1 and "existe déjà" in duplicate.output

    listed = _cli(papp, "list-users")
    assert listed.exit_code == 0
    assert email in listed.output and f"tenant={tenant_a.slug}" in listed.output


def _user_or_none(papp, email):
    from tenants.platform.services import get_platform_user_by_email

    with papp.app_context():
        return get_platform_user_by_email(email)


def test_demo_seeder_is_idempotent_and_prints_the_totp_secrets(papp):
    from tenants.platform.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_platform_accounts

    with papp.app_context():
        first = list(seed_platform_accounts())
        second = list(seed_platform_accounts())
        count = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM public.platform_users WHERE email LIKE '%@pnyx.localhost'"
            )
        )
    assert first == second and count == 2
    output = "\n".join(first)
    assert DEMO_PASSWORD in output
    for email, _name, _role, secret in DEMO_ACCOUNTS:
        assert email in output and secret in output
    assert "authenticator app" in output

    client = _client(papp)
    _password_step(client, "operateur@pnyx.localhost", DEMO_PASSWORD)
    operator_secret = DEMO_ACCOUNTS[0][3]
    assert _verify(client, {"code": pyotp.TOTP(operator_secret).now()}).status_code == 302
    assert client.get("/operateur").status_code == 200


# --------------------------------------------------------------------------- schema


def test_the_migration_matches_the_models(papp):
    """s0002 ran on the test database (``app`` upgrades public): it must create what the
    models declare, constraint names included."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tenants.models import Tenant
    from tenants.platform.models import PlatformAuditEntry, PlatformUser

    # Alembic sees the default schema as None: compare copies of the tables without it
    # (index names keep the "public_" the schema gave them).
    convention = {**db.metadata.naming_convention, "ix": "ix_public_%(column_0_label)s"}
    metadata = sa.MetaData(naming_convention=convention)
    for model in (Tenant, PlatformUser, PlatformAuditEntry):
        model.__table__.to_metadata(
            metadata, schema=None, referred_schema_fn=lambda *args: sa.schema.BLANK_SCHEMA
        )
    names = {PlatformUser.__tablename__, PlatformAuditEntry.__tablename__}

    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in names

    with papp.app_context(), db.engine.connect() as conn:
        checks = {
            c["name"] for c in sa.inspect(conn).get_check_constraints("platform_users", "public")
        }
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        diff = compare_metadata(context, metadata)
    assert {
        "ck_platform_users_role",
        "ck_platform_users_member_has_tenant",
        "ck_platform_users_email_lower",
    } <= checks
    assert diff == [], diff


def test_the_database_refuses_a_member_without_collectivite(papp):
    from sqlalchemy.exc import IntegrityError

    with papp.app_context():
        with pytest.raises(IntegrityError, match="ck_platform_users_member_has_tenant"):
            db.session.execute(
                sa.text(
                    "INSERT INTO public.platform_users (email, display_name, role) "
                    "VALUES ('sans@exemple.fr', 'Sans', 'member')"
                )
            )
        db.session.rollback()
