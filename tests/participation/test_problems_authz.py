"""Authorisation matrix of every signalement route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, the report's reporter, an agent of the service
the report is sent to, an agent of another service, a moderator, an admin; and the admin
of tenant B with their session cookie replayed on A's host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

pytest.register_assert_rewrite(
    "tests.participation.staff_fixtures", "tests.participation.proposal_fixtures"
)

from core.db import db  # noqa: E402
from tests.participation.proposal_fixtures import (  # noqa: E402
    PNG_1PX,
    citizen,
    read,
    service_id,
    signed_in,
    staff,
)
from tests.participation.staff_fixtures import (  # noqa: E402
    client_on,
    create_person,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    session_cookie,
)

pytest_plugins = ["tests.participation.staff_fixtures", "tests.participation.proposal_fixtures"]

COLUMNS = [
    "anonymous",
    "citizen",
    "reporter",
    "agent",
    "other_agent",
    "moderator",
    "admin",
    "other_tenant_admin",
]
STRANGERS = {"anonymous", "other_tenant_admin"}
EVERYONE = frozenset(COLUMNS)
LOGGED_IN = EVERYONE - STRANGERS
STAFF = frozenset({"agent", "other_agent", "moderator", "admin"})
HANDLERS = frozenset({"agent", "moderator", "admin"})  # the report is the agent's service's
MANAGERS = frozenset({"moderator", "admin"})
ADMIN = frozenset({"admin"})

GET_ALLOWED = {
    "problems.index": EVERYONE,
    "problems.show": EVERYONE,
    "problems.photo": EVERYONE,
    "problems.static": EVERYONE,
    "problems.new": LOGGED_IN,
    "staff_problems.index": STAFF,
    "staff_problems.show": HANDLERS,
    "staff_problems.categories": ADMIN,
    "staff_problems.new_category": ADMIN,
    "staff_problems.edit_category": ADMIN,
}
POST_ALLOWED = {
    "problems.new": LOGGED_IN,
    "staff_problems.change_status": HANDLERS,
    "staff_problems.assign": HANDLERS,
    "staff_problems.hide": MANAGERS,
    "staff_problems.restore": MANAGERS,
    "staff_problems.new_category": ADMIN,
    "staff_problems.edit_category": ADMIN,
}
POST_DATA = {
    "problems.new": {
        "category_id": "{category_id}",
        "description": "Un signalement pirate assez long.",
        "address": "Rue pirate",
    },
    "staff_problems.change_status": {"status": "resolved", "comment": "Piraté"},
    "staff_problems.assign": {"service_id": ""},
    "staff_problems.hide": {"reason": "Piraté"},
    "staff_problems.restore": {"reason": "Piraté"},
    "staff_problems.new_category": {"name": "Catégorie pirate", "service_id": ""},
    "staff_problems.edit_category": {"name": "Nom piraté", "service_id": ""},
}
FINGERPRINT_TABLES = (
    "problem_categories",
    "problem_reports",
    "problem_report_events",
    "audit_log",
    "notifications",
)


@dataclass
class Matrix:
    app: object
    tenant: object
    urls: dict[str, str]
    methods: dict[str, set[str]]
    ids: dict[str, int]
    clients: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    login_path: str = ""


def fingerprint(app, tenant) -> dict[str, str]:
    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in FINGERPRINT_TABLES:
            out[table] = conn.scalar(
                sa.text(
                    "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f'FROM "{tenant.schema}"."{table}" t'
                )
            )
    return out


@pytest.fixture(scope="module")
def matrix(proposals_app, make_tenant, tmp_path_factory):
    from flask import url_for

    from core import uploads
    from participation.accounts.models import User
    from participation.problems import services
    from participation.problems.models import ProblemCategory

    app = proposals_app
    previous_folder = app.config.get("UPLOAD_FOLDER")
    app.config["UPLOAD_FOLDER"] = str(tmp_path_factory.mktemp("uploads"))
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)
    voirie = service_id(app, tenant_a, "Voirie")
    reporter = citizen(app, tenant_a)

    def prepare():
        category = ProblemCategory(name="Nid-de-poule", service_id=voirie)
        db.session.add(category)
        db.session.flush()
        image = uploads.store_image(tenant_a.id, PNG_1PX)
        report = services.create_report(
            db.session.get(User, reporter.id),
            category_id=category.id,
            description="Nid-de-poule rue de la Sinne.",
            address="Rue de la Sinne",
            image_name=image,
        )
        db.session.commit()
        return {"category_id": category.id, "report_id": report.id}

    ids = read(app, tenant_a, prepare)
    clients = {
        "anonymous": client_on(app, tenant_a),
        "citizen": signed_in(app, tenant_a, citizen(app, tenant_a)),
        "reporter": signed_in(app, tenant_a, reporter),
        "agent": staff(app, tenant_a, "agent", services=("Voirie",))[0],
        "other_agent": staff(app, tenant_a, "agent", services=("Culture",))[0],
        "moderator": staff(app, tenant_a, "moderator")[0],
        "admin": staff(app, tenant_a, "admin")[0],
    }
    admin_b = create_person(app, tenant_b, "admin")
    client_b = client_on(app, tenant_b)
    forge_session(client_b, tenant_b, admin_b, verified=True)
    assert client_b.get("/gestion/signalements/").status_code == 200  # at home on B
    replayed = client_on(app, tenant_a)
    replayed.set_cookie("session", session_cookie(client_b), domain=tenant_a.primary_host)
    clients["other_tenant_admin"] = replayed
    tokens = {"other_tenant_admin": csrf_for(client_b)}

    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(("problems.", "staff_problems.")):
                continue
            values = {name: ids[name] for name in rule.arguments if name in ids}
            if rule.endpoint == "problems.static":
                values = {"filename": "problems.css"}
            urls[rule.endpoint] = url_for(rule.endpoint, **values)
            methods[rule.endpoint] = set(rule.methods)
        login = url_for("accounts.login")
    yield Matrix(app, tenant_a, urls, methods, ids, clients, tokens, login)
    app.config["UPLOAD_FOLDER"] = previous_folder


def test_every_problem_route_is_in_the_matrix(matrix):
    get_routes = {e for e, m in matrix.methods.items() if "GET" in m}
    post_routes = {e for e, m in matrix.methods.items() if "POST" in m}
    assert get_routes == set(GET_ALLOWED), "list who may GET each new route in GET_ALLOWED"
    assert post_routes == set(POST_ALLOWED), "list who may POST each new route in POST_ALLOWED"
    staff_urls = [u for e, u in matrix.urls.items() if e.startswith("staff_problems.")]
    assert all(url.startswith("/gestion/signalements/") for url in staff_urls)


def expected_get(column: str, endpoint: str) -> int:
    if column in GET_ALLOWED[endpoint]:
        return 200
    if column in STRANGERS:
        return 302
    return 403


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    client = matrix.clients[column]
    wrong = []
    for endpoint, url in sorted(matrix.urls.items()):
        if "GET" not in matrix.methods[endpoint]:
            continue
        response = client.get(url)
        expected = expected_get(column, endpoint)
        if response.status_code != expected:
            wrong.append(f"{endpoint} {url}: {response.status_code}, expected {expected}")
        elif expected == 302 and urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"{endpoint}: redirected to {response.location}, not the log-in page")
        elif expected == 403 and not any(
            word in response.get_data(as_text=True) for word in ("réservée", "vos services")
        ):
            wrong.append(f"{endpoint}: 403 without a French explanation")
        response.close()
    assert not wrong, "\n".join(wrong)


def expected_post_refusal(column: str) -> set[int]:
    if column == "anonymous":
        return {302}
    if column == "other_tenant_admin":
        return {400}  # A cannot read their cookie: the CSRF token matches nothing
    return {403}


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    client = matrix.clients[column]
    before = fingerprint(matrix.app, matrix.tenant)
    wrong, tried = [], 0
    for endpoint, url in sorted(matrix.urls.items()):
        if "POST" not in matrix.methods[endpoint] or column in POST_ALLOWED[endpoint]:
            continue
        tried += 1
        token = matrix.tokens.get(column) or csrf_for(client)
        data = {k: v.format(**matrix.ids) for k, v in POST_DATA.get(endpoint, {}).items()}
        response = client.post(url, data={"csrf_token": token, **data})
        expected = expected_post_refusal(column)
        if response.status_code not in expected:
            wrong.append(f"POST {endpoint}: {response.status_code}, expected {expected}")
        elif response.status_code == 302 and urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"POST {endpoint}: redirected to {response.location}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint(matrix.app, matrix.tenant) == before
    if column != "admin":
        assert tried > 0


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same POST with the right role reaches the view (a refused rule, 200)."""
    agent = matrix.clients["agent"]
    url = matrix.urls["staff_problems.change_status"]
    response = agent.post(url, data={"csrf_token": csrf_for(agent), "status": "rejected"})
    assert response.status_code == 200
    assert "publique et obligatoire" in response.get_data(as_text=True)


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    path = "/gestion/signalements/987654"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["moderator"].get(path).status_code == 404
    assert matrix.clients["anonymous"].get("/signalements/987654").status_code == 404
    assert matrix.clients["anonymous"].get("/signalements/987654/photo").status_code == 404
