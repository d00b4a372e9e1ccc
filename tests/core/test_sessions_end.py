"""Sessions end on the server (core.security.auth): a cookie copied before a log-out, a new
password, a 2FA reset or a block signs nobody in afterwards, and the cookie lives
PERMANENT_SESSION_LIFETIME (14 days), not Flask's 31.

Every log-in here goes through the real pages (password, then the TOTP code for staff and
platform accounts); the copied cookie is replayed by a second client, as an attacker who
read it from a shared computer or a proxy log would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pyotp
import sqlalchemy as sa

from core.db import db
from tests.support import (
    PASSWORD,
    PLATFORM,
    client_on,
    create_person,
    csrf_for,
    host_client,
    random_address,
    session_cookie,
)
from tests.support.staff import fresh_code


def copy_of(app, client):
    """A second client holding the same session cookie (the replay)."""
    host = client.base_url.split("://", 1)[1]
    other = host_client(app, host)
    other.environ_base["REMOTE_ADDR"] = random_address()
    other.set_cookie("session", session_cookie(client), domain=host)
    return other


def signed_in_to(response, login_path: str = "/connexion") -> bool:
    """True when the page answered as for a signed-in user (not sent to the log-in)."""
    if response.status_code in (301, 302, 303):
        return login_path not in response.headers.get("Location", "")
    return response.status_code == 200


def tenant_login(app, tenant, person) -> object:
    client = client_on(app, tenant)
    response = client.post(
        "/connexion",
        data={"csrf_token": csrf_for(client), "email": person.email, "password": PASSWORD},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    if person.secret:
        assert "/gestion/securite/verification" in response.headers["Location"]
        response = client.post(
            "/gestion/securite/verification",
            data={"csrf_token": csrf_for(client), "code": fresh_code(person.secret, None)},
        )
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return client


def tenant_logout(client) -> None:
    response = client.post("/deconnexion", data={"csrf_token": csrf_for(client)})
    assert response.status_code in (302, 303)


def session_records(app, tenant, user_id: int) -> int:
    from participation.accounts.models import UserSession
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(sa.select(sa.func.count()).where(UserSession.user_id == user_id))


# --------------------------------------------------------------------------- log-out


def test_a_citizen_cookie_copied_before_log_out_no_longer_opens_the_account(staff_app, tenant):
    person = create_person(staff_app, tenant)
    browser = tenant_login(staff_app, tenant, person)
    thief = copy_of(staff_app, browser)
    assert signed_in_to(thief.get("/compte"))
    assert session_records(staff_app, tenant, person.id) == 1

    tenant_logout(browser)

    assert session_records(staff_app, tenant, person.id) == 0
    replay = thief.get("/compte")
    assert replay.status_code == 302 and "/connexion" in replay.headers["Location"]
    assert not signed_in_to(browser.get("/compte"))


def test_a_moderator_cookie_copied_before_log_out_no_longer_opens_moderation(staff_app, tenant):
    moderator = create_person(staff_app, tenant, "moderator")
    browser = tenant_login(staff_app, tenant, moderator)
    thief = copy_of(staff_app, browser)
    assert thief.get("/gestion/moderation/").status_code == 200

    tenant_logout(browser)

    replay = thief.get("/gestion/moderation/")
    assert replay.status_code == 302 and "/connexion" in replay.headers["Location"]


def test_log_out_ends_only_that_session(staff_app, tenant):
    person = create_person(staff_app, tenant)
    laptop = tenant_login(staff_app, tenant, person)
    phone = tenant_login(staff_app, tenant, person)
    tenant_logout(laptop)
    assert signed_in_to(phone.get("/compte"))
    assert not signed_in_to(laptop.get("/compte"))


def _platform_coordinator(app) -> tuple[str, str]:
    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    secret = pyotp.random_base32()
    email = f"coordination-{uuid.uuid4().hex[:8]}@exemple.fr"
    with app.app_context():
        user = create_platform_user(email, "Claire Coordination", "coordinator", PASSWORD)
        enable_totp_with_secret(user, secret)
        db.session.commit()
    return email, secret


def platform_login(app, email: str, secret: str):
    client = host_client(app, PLATFORM)
    client.environ_base["REMOTE_ADDR"] = random_address()
    response = client.post(
        "/connexion", data={"csrf_token": csrf_for(client), "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302 and "/connexion/verification" in response.location
    response = client.post(
        "/connexion/verification",
        data={"csrf_token": csrf_for(client), "code": fresh_code(secret, _last_step(app, email))},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _last_step(app, email: str) -> int | None:
    """A second log-in needs the next TOTP step: a code is never accepted twice."""
    from tenants.platform.services import get_platform_user_by_email

    with app.app_context():
        return get_platform_user_by_email(email).totp_last_step


def test_a_coordinator_cookie_copied_before_log_out_no_longer_opens_the_platform(app):
    email, secret = _platform_coordinator(app)
    browser = platform_login(app, email, secret)
    thief = copy_of(app, browser)
    assert thief.get("/espace").status_code == 200

    assert browser.post("/deconnexion", data={"csrf_token": csrf_for(browser)}).status_code == 302

    replay = thief.get("/espace")
    assert replay.status_code == 302 and "/connexion" in replay.headers["Location"]


# --------------------------------------------------------------------------- every session


def test_a_password_reset_ends_every_session_of_the_account(staff_app, tenant):
    from participation.accounts import services
    from participation.accounts.models import User
    from tenants.context import tenant_context

    person = create_person(staff_app, tenant)
    laptop = tenant_login(staff_app, tenant, person)
    phone = tenant_login(staff_app, tenant, person)
    assert session_records(staff_app, tenant, person.id) == 2
    with staff_app.app_context(), tenant_context(tenant):
        token = services.reset_token(db.session.get(User, person.id))
    other = client_on(staff_app, tenant)
    response = other.post(
        f"/reinitialiser/{token}",
        data={"csrf_token": csrf_for(other), "password": "Nouveau-Baobab-Cerfeuil-2291"},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:800]
    assert session_records(staff_app, tenant, person.id) == 0
    assert not signed_in_to(laptop.get("/compte"))
    assert not signed_in_to(phone.get("/compte"))


def test_blocking_a_citizen_ends_their_sessions(staff_app, tenant):
    from participation.accounts.models import User
    from participation.engagement.services import block_user
    from tenants.context import tenant_context

    moderator = create_person(staff_app, tenant, "moderator")
    troll = create_person(staff_app, tenant)
    browser = tenant_login(staff_app, tenant, troll)
    copy = copy_of(staff_app, browser)
    with staff_app.app_context(), tenant_context(tenant):
        block_user(
            db.session.get(User, troll.id), "Insultes répétées", db.session.get(User, moderator.id)
        )
        db.session.commit()
    assert session_records(staff_app, tenant, troll.id) == 0
    assert not signed_in_to(browser.get("/compte"))
    assert not signed_in_to(copy.get("/compte"))


def test_a_platform_2fa_reset_and_a_deactivation_end_every_session(app):
    email, secret = _platform_coordinator(app)
    first, second = platform_login(app, email, secret), platform_login(app, email, secret)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["platform", "reset-2fa", "--email", email])
    assert result.exit_code == 0, result.output
    for client in (first, second):
        assert client.get("/espace").status_code == 302

    # Enrolled again, logged in again, then blocked by an operator: out at once.
    from tenants.platform.models import PlatformUser
    from tenants.platform.services import enable_totp_with_secret, get_platform_user_by_email

    with app.app_context():
        enable_totp_with_secret(get_platform_user_by_email(email), secret)
        db.session.commit()
    browser = platform_login(app, email, secret)
    assert browser.get("/espace").status_code == 200
    result = runner.invoke(args=["platform", "deactivate-user", "--email", email])
    assert result.exit_code == 0, result.output
    assert browser.get("/espace").status_code == 302
    with app.app_context():
        user = get_platform_user_by_email(email)
        assert user.is_active is False
        from tenants.platform.models import PlatformUserSession

        assert not db.session.scalar(
            sa.select(sa.func.count()).where(PlatformUserSession.user_id == user.id)
        )
        assert isinstance(user, PlatformUser)


def test_a_new_password_can_keep_the_session_that_changed_it(app):
    from core.security.auth import SESSION_RECORD_KEY, token_digest
    from tenants.platform.services import get_platform_user_by_email, set_platform_password

    email, secret = _platform_coordinator(app)
    here, elsewhere = platform_login(app, email, secret), platform_login(app, email, secret)
    with here.session_transaction(base_url=here.base_url) as sess:
        kept = token_digest(sess[SESSION_RECORD_KEY])
    with app.app_context():
        user = get_platform_user_by_email(email)
        set_platform_password(user, "Autre-Ornithorynque-Safran-77", keep_session=kept)
        db.session.commit()
        new_id = user.get_id()
    # What core.security.auth.refresh_login does in the request that changed it.
    with here.session_transaction(base_url=here.base_url) as sess:
        sess["_user_id"] = new_id
    assert here.get("/espace").status_code == 200
    assert elsewhere.get("/espace").status_code == 302


# --------------------------------------------------------------------------- lifetime


def test_the_cookie_and_the_record_last_fourteen_days(staff_app, tenant):
    from participation.accounts.models import UserSession
    from tenants.context import tenant_context

    person = create_person(staff_app, tenant)
    client = client_on(staff_app, tenant)
    response = client.post(
        "/connexion",
        data={"csrf_token": csrf_for(client), "email": person.email, "password": PASSWORD},
    )
    assert response.status_code in (302, 303)
    cookie = next(
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    )
    expires = next(
        part.split("=", 1)[1] for part in cookie.split("; ") if part.startswith("Expires=")
    )
    lifetime = parsedate_to_datetime(expires) - datetime.now(UTC)
    assert timedelta(days=13, hours=23) < lifetime <= timedelta(days=14), cookie

    with staff_app.app_context(), tenant_context(tenant):
        record = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == person.id))
        assert timedelta(days=13, hours=23) < record.expires_at - datetime.now(UTC)
        # Past its lifetime, the record no longer signs in, whatever the cookie says.
        record.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert not signed_in_to(client.get("/compte"))
