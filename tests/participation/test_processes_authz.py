"""Authorisation matrix of the process staff pages (``staff_processes.*``): every route ×
every kind of visitor gets exactly the expected answer, and a refused POST writes nothing.

Admins and moderators manage processes, phases and themes; agents only read (the lists
and a process's staff page). Visitors and expectations are those of
tests/participation/test_authz_matrix.py, whose helpers are reused.
"""

from __future__ import annotations

import sys
from datetime import date
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

if "tests.participation.staff_fixtures" not in sys.modules:  # already imported by a sibling
    pytest.register_assert_rewrite("tests.participation.staff_fixtures")

from core.db import db  # noqa: E402 - after the rewrite registration
from tests.participation.staff_fixtures import (  # noqa: E402
    client_on,
    create_person,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    session_cookie,
)
from tests.participation.test_authz_matrix import (  # noqa: E402
    COLUMNS,
    STRANGERS,
    Matrix,
    _platform_operator,
    _replay_cookie,
    expected_post_refusal,
)
from tests.participation.test_processes import app_with_process_pages  # noqa: E402

# The fixtures staff_app and staff_smtp.
pytest_plugins = ["tests.participation.staff_fixtures"]

ALL_STAFF = frozenset({"admin", "moderator", "agent"})
EDITORS = frozenset({"admin", "moderator"})

#: Who may use each process staff route (admins pass every check).
ALLOWED = {
    "staff_processes.index": ALL_STAFF,
    "staff_processes.show": ALL_STAFF,
    "staff_processes.themes": ALL_STAFF,
    "staff_processes.create": EDITORS,
    "staff_processes.edit": EDITORS,
    "staff_processes.publish": EDITORS,
    "staff_processes.archive": EDITORS,
    "staff_processes.delete": EDITORS,
    "staff_processes.phases": EDITORS,
    "staff_processes.edit_phase": EDITORS,
    "staff_processes.delete_phase": EDITORS,
    "staff_processes.move_phase": EDITORS,
    "staff_processes.create_theme": EDITORS,
    "staff_processes.edit_theme": EDITORS,
    "staff_processes.delete_theme": EDITORS,
}

POST_DATA = {
    "staff_processes.create": {"title": "Démarche pirate", "summary": "Pirate"},
    "staff_processes.edit": {"title": "Titre piraté", "summary": "Pirate"},
    "staff_processes.phases": {
        "kind": "vote",
        "title": "Phase pirate",
        "starts_on": "2030-01-01",
        "ends_on": "2030-01-31",
    },
    "staff_processes.edit_phase": {
        "kind": "vote",
        "title": "Phase piratée",
        "starts_on": "2030-01-01",
        "ends_on": "2030-01-31",
    },
    "staff_processes.move_phase": {"direction": "down"},
    "staff_processes.create_theme": {"name": "Thème pirate"},
    "staff_processes.edit_theme": {"name": "Thème piraté"},
}

FINGERPRINT_TABLES = ("processes", "phases", "themes", "audit_log")


def fingerprint(app, tenant) -> dict[str, str]:
    """A digest of every row of the tables these pages write: equal means untouched."""
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


@pytest.fixture(scope="session")
def processes_app(staff_app, database_url, redis_url, staff_smtp):
    return app_with_process_pages(staff_app, database_url, redis_url, staff_smtp)


def expected_get(column: str, endpoint: str) -> int:
    if column in STRANGERS:
        return 302  # to the log-in page
    if column == "citizen":
        return 403
    return 200 if column in ALLOWED[endpoint] else 403


@pytest.fixture(scope="module")
def matrix(processes_app, make_tenant) -> Matrix:
    from flask import url_for

    from participation.processes.models import Phase, PhaseKind, Process, ProcessState, Theme
    from tenants.context import tenant_context

    app = processes_app
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)
    people = {
        "citizen": create_person(app, tenant_a, None),
        "agent": create_person(app, tenant_a, "agent", services=("Voirie",)),
        "moderator": create_person(app, tenant_a, "moderator"),
        "admin": create_person(app, tenant_a, "admin"),
    }
    with app.app_context(), tenant_context(tenant_a):
        theme = Theme(name="Mobilités", position=1)
        process = Process(title="Plan vélo", summary="Un plan", state=ProcessState.DRAFT)
        process.phases = [
            Phase(
                kind=PhaseKind.INFORMATION,
                title="Information",
                position=1,
                starts_on=date(2030, 2, 1),
                ends_on=date(2030, 2, 10),
            ),
            Phase(
                kind=PhaseKind.CONTRIBUTIONS,
                title="Idées",
                position=2,
                starts_on=date(2030, 2, 11),
                ends_on=date(2030, 3, 10),
                allows_propose=True,
            ),
        ]
        db.session.add_all([theme, process])
        db.session.commit()
        ids = {
            "process_id": process.id,
            "phase_id": process.phases[0].id,
            "theme_id": theme.id,
        }

    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("staff_processes."):
                continue
            urls[rule.endpoint] = url_for(rule.endpoint, **{n: ids[n] for n in rule.arguments})
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
    assert client_b.get("/gestion/demarches").status_code == 200  # an admin, at home on B
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


def _client(matrix: Matrix, column: str):
    if column == "operator" and matrix.operator_skip:
        pytest.skip(matrix.operator_skip)
    return matrix.clients[column]


def test_every_process_staff_route_is_in_the_matrix(matrix):
    assert set(matrix.urls) == set(ALLOWED), (
        "a process staff route was added or removed: list who may use it in ALLOWED"
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
        if expected == 302 and urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"{endpoint}: redirected to {response.location}, not the log-in")
        if expected == 403 and "réservée" not in response.get_data(as_text=True):
            wrong.append(f"{endpoint}: 403 without the French explanation")
    assert not wrong, "\n".join(wrong)


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
        response = client.post(url, data={"csrf_token": token, **POST_DATA.get(endpoint, {})})
        expected = expected_post_refusal(column)
        if response.status_code != expected:
            wrong.append(f"POST {endpoint}: {response.status_code}, expected {expected}")
        elif expected == 302 and urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"POST {endpoint}: redirected to {response.location}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint(matrix.app, matrix.tenant) == before
    if column not in EDITORS:
        assert tried > 0


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same POSTs with an editor's role reach the view."""
    moderator = matrix.clients["moderator"]
    response = moderator.post(
        matrix.urls["staff_processes.create_theme"],
        data={"csrf_token": csrf_for(moderator), "name": ""},
    )
    assert response.status_code == 200
    assert "Indiquez le nom du thème." in response.get_data(as_text=True)
    agent = matrix.clients["agent"]
    response = agent.post(
        matrix.urls["staff_processes.create_theme"],
        data={"csrf_token": csrf_for(agent), "name": "Thème d'agent"},
    )
    assert response.status_code == 403


def test_agents_read_without_edit_links(matrix):
    page = matrix.clients["agent"].get(matrix.urls["staff_processes.show"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Plan vélo" in html
    assert "Modifier la démarche" not in html and "Publier la démarche" not in html
    html = matrix.clients["moderator"].get(matrix.urls["staff_processes.show"]).text
    assert "Modifier la démarche" in html and "Publier la démarche" in html


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    path = "/gestion/demarches/987654/modifier"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["agent"].get(path).status_code == 403
    assert matrix.clients["moderator"].get(path).status_code == 404
    assert matrix.clients["agent"].get("/gestion/demarches/987654").status_code == 404
    assert matrix.clients["agent"].get("/gestion/demarches/98765432109876").status_code == 404
    assert matrix.clients["admin"].get("/gestion/themes/98765432109876").status_code == 404
