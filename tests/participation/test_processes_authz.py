"""Authorisation matrix of the process staff pages (``staff_processes.*``): every route ×
every kind of visitor gets exactly the expected answer, and a refused POST writes nothing.

Admins and moderators manage processes, phases and themes; agents only read (the lists
and a process's staff page). Visitors and expectations are those of
tests/participation/test_authz_matrix.py; the machinery is tests/participation/authz_matrix.py.
"""

from __future__ import annotations

import sys
from datetime import date

import pytest

if "tests.participation.authz_matrix" not in sys.modules:
    pytest.register_assert_rewrite("tests.participation.authz_matrix")

from core.db import db  # noqa: E402 - after the rewrite registration
from tests.participation.authz_matrix import (  # noqa: E402
    OPERATOR_COLUMNS,
    OPERATOR_STRANGERS,
    Matrix,
    assert_routes_listed,
    build_matrix,
    check_gets,
    check_refused_posts,
    expected_get,
    operator_post_refusal,
    signed_in_clients,
)
from tests.support import create_person, csrf_for, ensure_legal_documents  # noqa: E402

COLUMNS = OPERATOR_COLUMNS
STRANGERS = OPERATOR_STRANGERS  # not logged in on A
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


def expected_process_get(column: str, endpoint: str) -> int:
    # Strangers: 302 to the log-in page; citizens and the wrong roles: 403.
    return expected_get(column, endpoint, ALLOWED, strangers=STRANGERS)


@pytest.fixture(scope="module")
def matrix(processes_app, make_tenant) -> Matrix:
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

    return build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=signed_in_clients(app, tenant_a, people),
        ids=ids,
        prefixes=("staff_processes.",),
        home_on_b="/gestion/demarches",
        tables=FINGERPRINT_TABLES,
        every_argument=True,
        token_first=True,
        operator=True,
    )


def test_every_process_staff_route_is_in_the_matrix(matrix):
    assert_routes_listed(
        matrix.urls,
        ALLOWED,
        "a process staff route was added or removed: list who may use it in ALLOWED",
    )


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    check_gets(matrix, column, expected_process_get)


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    check_refused_posts(
        matrix,
        column,
        ALLOWED,
        POST_DATA,
        may_post_everywhere=EDITORS,
        refusal=operator_post_refusal,
    )


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
