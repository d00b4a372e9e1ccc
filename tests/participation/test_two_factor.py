"""Second factor of the staff: the code after the password (through accounts.login), no
replay, single-use recovery codes, enrolment before any staff page, regeneration, limits."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from core.db import db
from tests.support import (
    PASSWORD,
    client_on,
    create_person,
    csrf_in,
    forge_session,
    logged_in,
    login_path,
    path_of,
    post,
    text,
)
from tests.support.staff import audit_rows, fingerprint, fresh_code, read_user, totp_now

VERIFY = "/gestion/securite/verification"
ENROL = "/gestion/securite/double-authentification"
BAD_CODE = "Ce code est incorrect ou a déjà été utilisé."
PUBLIC_ENDPOINTS = {"staff.accept_invitation", "staff.two_factor", "staff.two_factor_enrol"}


def _log_in(client, person, next_path: str | None = None):
    """The password step, through the citizen engineer's log-in page."""
    path = "/connexion" + (f"?next={quote(next_path)}" if next_path else "")
    page = client.get(path)
    return client.post(
        path,
        data={
            "csrf_token": csrf_in(text(page)),
            "email": person.email,
            "password": PASSWORD,
            "next": next_path or "",
        },
    )


def _code(client, code: str):
    return post(client, VERIFY, {"code": code})


def _recovery(client, code: str):
    return post(client, VERIFY, {"recovery_code": code})


def _set_recovery_codes(app, tenant, person) -> list[str]:
    from core.security.totp import new_recovery_codes
    from participation.accounts.models import User
    from tenants.context import tenant_context

    plain, digests = new_recovery_codes()
    with app.app_context(), tenant_context(tenant):
        db.session.get(User, person.id).recovery_codes = digests
        db.session.commit()
    return plain


@pytest.fixture
def tenant(staff_app, tenant_a):
    return tenant_a


def test_second_log_in_asks_for_the_code_and_refuses_a_replayed_one(staff_app, tenant):
    app = staff_app
    admin = create_person(app, tenant, "admin")
    client = client_on(app, tenant)

    response = _log_in(client, admin, "/gestion/equipe")
    assert response.status_code == 302 and path_of(response.location) == VERIFY
    # The password alone opens nothing.
    assert client.get("/gestion/").status_code == 302
    assert path_of(client.get("/gestion/").location).startswith(login_path(app, tenant))
    page = client.get(VERIFY)
    assert page.status_code == 200 and "Vérification en deux étapes" in text(page)

    code = totp_now(admin.secret)
    done = _code(client, code)
    assert done.status_code == 302 and path_of(done.location) == "/gestion/equipe"
    assert client.get("/gestion/equipe").status_code == 200

    assert post(client, "/deconnexion").status_code == 302
    assert client.get("/gestion/").status_code == 302
    assert _log_in(client, admin).status_code == 302
    replay = _code(client, code)
    assert replay.status_code == 200 and BAD_CODE in text(replay)
    assert client.get("/gestion/").status_code == 302  # still not logged in

    last_step = read_user(app, tenant, admin.id)["totp_last_step"]
    assert _code(client, fresh_code(admin.secret, last_step)).status_code == 302
    assert client.get("/gestion/").status_code == 200

    rows = [r for r in audit_rows(app, tenant) if r["actor_id"] == admin.id]
    assert [(r["action"], r["details"].get("method")) for r in rows] == [
        ("staff.login", "totp"),
        ("staff.two_factor_failed", "totp"),
        ("staff.login", "totp"),
    ]


def test_a_recovery_code_works_once(staff_app, tenant):
    app = staff_app
    moderator = create_person(app, tenant, "moderator")
    codes = _set_recovery_codes(app, tenant, moderator)
    client = client_on(app, tenant)

    _log_in(client, moderator)
    used = _recovery(client, codes[3].upper().replace("-", " "))
    assert used.status_code == 302
    home = client.get("/gestion/")
    assert home.status_code == 200 and "Il vous en reste 9" in text(home)
    assert len(read_user(app, tenant, moderator.id)["recovery_codes"]) == 9

    post(client, "/deconnexion")
    _log_in(client, moderator)
    again = _recovery(client, codes[3])
    assert again.status_code == 200 and BAD_CODE in text(again)
    assert client.get("/gestion/").status_code == 302
    assert _recovery(client, codes[4]).status_code == 302
    assert len(read_user(app, tenant, moderator.id)["recovery_codes"]) == 8

    methods = [
        r["details"]["method"]
        for r in audit_rows(app, tenant, "staff.login")
        if r["actor_id"] == moderator.id
    ]
    assert methods == ["recovery_code", "recovery_code"]


def _staff_urls(app) -> list[tuple[str, str, set[str]]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff.") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        values = {name: 999999 for name in rule.arguments}
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        urls.append((rule.endpoint, path, set(rule.methods)))
    return urls


@pytest.mark.parametrize("role", ["admin", "moderator", "agent"])
def test_staff_without_second_factor_is_sent_to_enrolment_from_every_staff_page(
    staff_app, tenant, role
):
    app = staff_app
    person = create_person(app, tenant, role, totp=False, services=("Voirie",))
    client = client_on(app, tenant)
    response = _log_in(client, person)
    assert response.status_code == 302  # password only: a session that must enrol first

    urls = _staff_urls(app)
    assert {endpoint for endpoint, _path, _methods in urls} >= {"staff.home", "staff.settings"}
    before = fingerprint(app, tenant)
    for endpoint, path, methods in urls:
        response = client.get(path) if "GET" in methods else post(client, path, {"name": "X"})
        assert response.status_code == 302, endpoint
        assert path_of(response.location).startswith(f"{ENROL}?next="), endpoint
    assert fingerprint(app, tenant) == before
    assert client.get(ENROL).status_code == 200


def test_an_enrolled_session_without_the_code_is_asked_for_it(staff_app, tenant):
    app = staff_app
    agent = create_person(app, tenant, "agent", services=("Voirie",))
    client = client_on(app, tenant)
    forge_session(client, tenant, agent, verified=False)

    response = client.get("/gestion/")
    assert response.status_code == 302
    assert path_of(response.location) == f"{VERIFY}?next=/gestion/"
    # Enrolment is not offered twice: it sends to the code too.
    enrol = client.get(ENROL)
    assert enrol.status_code == 302 and path_of(enrol.location).startswith(VERIFY)

    done = post(client, f"{VERIFY}?next=%2Fgestion%2F", {"code": totp_now(agent.secret)})
    assert done.status_code == 302 and path_of(done.location) == "/gestion/"
    assert client.get("/gestion/").status_code == 200


def test_next_after_the_code_never_leaves_the_site(staff_app, tenant):
    app = staff_app
    admin = create_person(app, tenant, "admin")
    client = client_on(app, tenant)
    with client.session_transaction(base_url=client.base_url) as sess:
        sess["pending_2fa_user_id"] = admin.id
        sess["pending_2fa_next"] = "//evil.example/gestion/"
    done = _code(client, totp_now(admin.secret))
    assert done.status_code == 302 and path_of(done.location) == "/gestion/"
    assert "evil" not in done.location


def test_verification_without_a_pending_log_in_goes_back_to_the_log_in(staff_app, tenant):
    client = client_on(staff_app, tenant)
    response = client.get(VERIFY)
    assert response.status_code == 302
    assert path_of(response.location).startswith(login_path(staff_app, tenant))
    with client.session_transaction(base_url=client.base_url) as sess:
        sess["pending_2fa_user_id"] = 987654  # no such user
    assert client.get(VERIFY).status_code == 302


def test_enrolment_is_for_staff_only(staff_app, tenant):
    citizen_client, _citizen = logged_in(staff_app, tenant, None)
    assert citizen_client.get(ENROL).status_code == 403
    assert "réservée à l'équipe" in text(citizen_client.get(ENROL))
    anonymous = client_on(staff_app, tenant).get(ENROL)
    assert anonymous.status_code == 302
    assert path_of(anonymous.location).startswith(login_path(staff_app, tenant))


def test_regenerating_recovery_codes_needs_a_current_code(staff_app, tenant):
    app = staff_app
    client, admin = logged_in(app, tenant, "admin")
    _set_recovery_codes(app, tenant, admin)
    old = read_user(app, tenant, admin.id)["recovery_codes"]

    page = client.get(ENROL)
    assert page.status_code == 200 and "Il vous reste 10 codes de secours" in text(page)

    refused = post(client, "/gestion/securite/codes-de-secours", {"code": "123456"})
    assert refused.status_code == 302
    assert read_user(app, tenant, admin.id)["recovery_codes"] == old
    assert "Vos codes de secours n'ont pas changé." in text(client.get(ENROL))

    done = post(
        client, "/gestion/securite/codes-de-secours", {"code": fresh_code(admin.secret, None)}
    )
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert "Vos anciens codes de secours ne fonctionnent plus." in text(done)
    new = read_user(app, tenant, admin.id)["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    rows = audit_rows(app, tenant, "staff.recovery_codes_regenerated")
    assert [r["actor_id"] for r in rows if r["actor_id"] == admin.id] == [admin.id]


def test_the_code_page_is_rate_limited(staff_app, tenant):
    app = staff_app
    agent = create_person(app, tenant, "agent", services=("Voirie",))
    client = client_on(app, tenant)
    _log_in(client, agent)
    statuses = [_code(client, "000000").status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert "Trop de tentatives" in text(_code(client, totp_now(agent.secret)))
    # The counter follows the account: another address gets no fresh budget for it.
    other = client_on(app, tenant)
    _log_in(other, agent)
    assert _code(other, "000000").status_code == 429


def test_enrolment_refuses_a_wrong_code_and_keeps_the_secret(staff_app, tenant):
    app = staff_app
    person = create_person(app, tenant, "moderator", totp=False)
    client = client_on(app, tenant)
    forge_session(client, tenant, person, verified=False)
    page = text(client.get(ENROL))
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    wrong = post(client, ENROL, {"code": "999999"})
    assert wrong.status_code == 200 and secret in text(wrong)
    assert not read_user(app, tenant, person.id)["totp_enabled"]
    ok = post(client, ENROL, {"code": totp_now(secret)})
    assert ok.status_code == 200
    user = read_user(app, tenant, person.id)
    assert user["totp_enabled"] and user["totp_last_step"] is not None
    # The step used to enrol cannot open a session afterwards (no replay).
    post(client, "/deconnexion")
    _log_in(client, person)
    assert BAD_CODE in text(_code(client, totp_now(secret)))
    rows = audit_rows(app, tenant, "staff.two_factor_enrolled")
    assert [r["target_id"] for r in rows if r["actor_id"] == person.id] == [str(person.id)]
