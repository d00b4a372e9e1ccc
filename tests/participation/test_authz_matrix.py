"""Authorisation matrix of the staff pages: every staff route of ``app.url_map`` × every
kind of visitor gets exactly the expected answer, and a refused POST writes nothing.

Visitors: anonymous, a citizen, an agent, a moderator, an admin (all of tenant A), the
admin of tenant B with their own session cookie replayed on A's host, and a platform
operator with their platform cookie replayed on A's host. Cookies are signed per site, so
the last two are strangers on A: sent to the log-in page, never let in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

pytest.register_assert_rewrite("tests.participation.staff_fixtures")

from core.db import db  # noqa: E402 - after the rewrite registration
from tests.conftest import PLATFORM  # noqa: E402
from tests.helpers import host_client  # noqa: E402
from tests.participation.staff_fixtures import (  # noqa: E402
    client_on,
    create_person,
    csrf_for,
    ensure_legal_documents,
    fingerprint,
    forge_session,
    session_cookie,
    unique_email,
)

# The fixtures staff_app and staff_smtp.
pytest_plugins = ["tests.participation.staff_fixtures"]

# Reached without a staff session by design: the invitation link and the second factor.
PUBLIC_ENDPOINTS = {"staff.accept_invitation", "staff.two_factor", "staff.two_factor_enrol"}

ALL_STAFF = frozenset({"admin", "moderator", "agent"})
ADMIN_ONLY = frozenset({"admin"})

#: Who may use each staff route (admins pass every check).
ALLOWED = {
    "staff.home": ALL_STAFF,
    "staff.regenerate_recovery_codes": ALL_STAFF,
    "staff.team": ADMIN_ONLY,
    "staff.invite": ADMIN_ONLY,
    "staff.revoke_invitation": ADMIN_ONLY,
    "staff.edit_member": ADMIN_ONLY,
    "staff.remove_member": ADMIN_ONLY,
    "staff.services_list": ADMIN_ONLY,
    "staff.edit_service": ADMIN_ONLY,
    "staff.delete_service": ADMIN_ONLY,
    "staff.neighbourhoods": ADMIN_ONLY,
    "staff.edit_neighbourhood": ADMIN_ONLY,
    "staff.delete_neighbourhood": ADMIN_ONLY,
    "staff.audit_log": ADMIN_ONLY,
    "staff.settings": ADMIN_ONLY,
}

COLUMNS = ["anonymous", "citizen", "agent", "moderator", "admin", "other_tenant_admin", "operator"]
STRANGERS = {"anonymous", "other_tenant_admin", "operator"}  # not logged in on A


def expected_get(column: str, endpoint: str) -> int:
    if column in STRANGERS:
        return 302  # to A's log-in page
    if column == "citizen":
        return 403
    return 200 if column in ALLOWED[endpoint] else 403


def expected_post_refusal(column: str) -> int:
    if column == "anonymous":
        return 302  # to the log-in page (its CSRF token is valid: a fresh session of A)
    if column in {"other_tenant_admin", "operator"}:
        # A cannot even read their cookie, so the CSRF token it carries matches nothing.
        return 400
    return 403


@dataclass
class Matrix:
    app: object
    tenant: object
    urls: dict[str, str]
    methods: dict[str, set[str]]
    clients: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    login_path: str = ""
    operator_skip: str | None = None


def _platform_operator(app) -> tuple[object | None, str | None]:
    """A platform operator's session cookie, made on the platform host."""
    try:
        from core.platform.models import PlatformRole, PlatformUser
    except ImportError as exc:  # pragma: no cover - depends on the platform package
        return None, f"core.platform is not available ({exc}): no operator account to try"
    with app.app_context():
        operator = PlatformUser(
            email=unique_email("operateur"),
            display_name="Opératrice de la plateforme",
            role=PlatformRole.OPERATOR,
            totp_enabled=True,
            totp_secret="JBSWY3DPEHPK3PXP",
        )
        db.session.add(operator)
        db.session.commit()
        operator_id, version = operator.id, operator.session_version
    client = host_client(app, PLATFORM)
    with client.session_transaction(base_url=client.base_url) as sess:
        sess["_user_id"] = f"p:{operator_id}:{version}"
        sess["_fresh"] = True
        sess["pnyx_2fa"] = True
    token = csrf_for(client)
    return (session_cookie(client), token), None


def _replay_cookie(app, tenant, cookie_value: str):
    client = client_on(app, tenant)
    client.set_cookie("session", cookie_value, domain=tenant.primary_host)
    return client


@pytest.fixture(scope="module")
def matrix(staff_app, make_tenant) -> Matrix:
    from flask import url_for

    from core.security.totp import new_recovery_codes
    from participation.accounts.models import Invitation, Neighbourhood, Service, StaffRole, User
    from tenants.context import tenant_context

    app = staff_app
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)

    people = {
        "citizen": create_person(app, tenant_a, None),
        "agent": create_person(app, tenant_a, "agent", services=("Voirie",)),
        "moderator": create_person(app, tenant_a, "moderator"),
        "admin": create_person(app, tenant_a, "admin"),
    }
    target = create_person(app, tenant_a, "agent", services=("Voirie",))
    with app.app_context(), tenant_context(tenant_a):
        service = Service(name="Culture")
        neighbourhood = Neighbourhood(name="Dornach", position=1)
        invitation = Invitation(
            email=unique_email("invite"),
            role=StaffRole.MODERATOR,
            service_ids=[],
            token_digest="0" * 64,
            expires_at=sa_now_plus_days(7),
        )
        db.session.add_all([service, neighbourhood, invitation])
        for person in people.values():
            if person.role:
                db.session.get(User, person.id).recovery_codes = new_recovery_codes()[1]
        db.session.commit()
        ids = {
            "user_id": target.id,
            "service_id": service.id,
            "neighbourhood_id": neighbourhood.id,
            "invitation_id": invitation.id,
        }

    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("staff.") or rule.endpoint in PUBLIC_ENDPOINTS:
                continue
            values = {name: ids[name] for name in rule.arguments}
            urls[rule.endpoint] = url_for(rule.endpoint, **values)
            methods[rule.endpoint] = set(rule.methods)
        login = url_for("accounts.login")

    result = Matrix(app, tenant_a, urls, methods, login_path=login)
    result.clients["anonymous"] = client_on(app, tenant_a)
    for column, person in people.items():
        client = client_on(app, tenant_a)
        forge_session(client, tenant_a, person, verified=True)
        result.clients[column] = client

    admin_b = create_person(app, tenant_b, "admin")
    client_b = client_on(app, tenant_b)
    forge_session(client_b, tenant_b, admin_b, verified=True)
    assert client_b.get("/gestion/equipe").status_code == 200  # a real admin, at home on B
    result.tokens["other_tenant_admin"] = csrf_for(client_b)
    result.clients["other_tenant_admin"] = _replay_cookie(app, tenant_a, session_cookie(client_b))

    operator, reason = _platform_operator(app)
    if operator is None:
        result.operator_skip = reason
    else:
        cookie, token = operator
        result.clients["operator"] = _replay_cookie(app, tenant_a, cookie)
        result.tokens["operator"] = token
    return result


def sa_now_plus_days(days: int):
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=days)


def _client(matrix: Matrix, column: str):
    if column == "operator" and matrix.operator_skip:
        pytest.skip(matrix.operator_skip)
    return matrix.clients[column]


def test_every_staff_route_is_in_the_matrix(matrix):
    assert set(matrix.urls) == set(ALLOWED), (
        "a staff route was added or removed: list who may use it in ALLOWED"
    )
    assert all(url.startswith("/gestion/") for url in matrix.urls.values())


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    client = _client(matrix, column)
    wrong = []
    for endpoint, url in sorted(matrix.urls.items()):
        if "GET" not in matrix.methods[endpoint]:
            continue
        response = client.get(url)
        expected = expected_get(column, endpoint)
        if response.status_code != expected:
            wrong.append(f"{endpoint} {url}: {response.status_code}, expected {expected}")
            continue
        if expected == 302:
            location = urlsplit(response.location)
            if location.path != matrix.login_path or location.netloc not in (
                "",
                matrix.tenant.primary_host,
            ):
                wrong.append(f"{endpoint}: redirected to {response.location}, not the log-in")
        if expected == 403 and "réservée" not in response.get_data(as_text=True):
            wrong.append(f"{endpoint}: 403 without the French explanation")
    assert not wrong, "\n".join(wrong)


POST_DATA = {
    "staff.invite": {"email": "pirate@exemple.fr", "role": "admin"},
    "staff.edit_member": {"role": "admin"},
    "staff.services_list": {"name": "Service pirate"},
    "staff.edit_service": {"name": "Culture piratée"},
    "staff.neighbourhoods": {"name": "Quartier pirate"},
    "staff.edit_neighbourhood": {"name": "Dornach piraté", "position": "7"},
    "staff.settings": {
        "site_name": "Espace piraté",
        "primary_colour": "#000000",
        "logo_url": "https://pirate.example/logo.png",
        "dpo_contact": "pirate@exemple.fr",
    },
    "staff.regenerate_recovery_codes": {"code": "123456"},
}


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    client = _client(matrix, column)
    before = fingerprint(matrix.app, matrix.tenant)
    wrong, tried = [], 0
    for endpoint, url in sorted(matrix.urls.items()):
        if "POST" not in matrix.methods[endpoint] or column in ALLOWED[endpoint]:
            continue
        tried += 1
        token = matrix.tokens.get(column) or csrf_for(client)
        data = {"csrf_token": token, **POST_DATA.get(endpoint, {})}
        response = client.post(url, data=data)
        expected = expected_post_refusal(column)
        if response.status_code != expected:
            wrong.append(f"POST {endpoint}: {response.status_code}, expected {expected}")
        elif expected == 302 and urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"POST {endpoint}: redirected to {response.location}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint(matrix.app, matrix.tenant) == before
    if column != "admin":
        assert tried > 0


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same POSTs with the right role reach the view (forms re-shown)."""
    admin = matrix.clients["admin"]
    response = admin.post(
        matrix.urls["staff.services_list"],
        data={"csrf_token": csrf_for(admin), "name": ""},
    )
    assert response.status_code == 200 and "Indiquez le nom du service." in response.get_data(
        as_text=True
    )
    agent = matrix.clients["agent"]
    response = agent.post(
        matrix.urls["staff.regenerate_recovery_codes"],
        data={"csrf_token": csrf_for(agent), "code": "000000"},
    )
    assert response.status_code == 302 and urlsplit(response.location).path == (
        "/gestion/securite/double-authentification"
    )


def test_the_login_redirect_keeps_the_page_asked_for(matrix):
    response = matrix.clients["anonymous"].get(matrix.urls["staff.settings"])
    assert response.status_code == 302
    assert urlsplit(response.location).query == "next=/gestion/parametres"


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    """A stranger or a wrong role cannot probe which ids exist: 404 is for admins only."""
    path = "/gestion/equipe/987654"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["moderator"].get(path).status_code == 403
    assert matrix.clients["admin"].get(path).status_code == 404
