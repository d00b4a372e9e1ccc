"""Authorisation matrix of every signalement route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, the report's reporter, an agent of the service
the report is sent to, an agent of another service, a moderator, an admin; and the admin
of tenant B with their session cookie replayed on A's host.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.participation.authz_matrix")

from core.db import db  # noqa: E402
from tests.participation.authz_matrix import (  # noqa: E402
    STRANGERS,
    assert_every_route_covered,
    build_matrix,
    check_gets,
    check_refused_posts,
    expected_get,
)
from tests.support import (  # noqa: E402
    client_on,
    csrf_for,
    ensure_legal_documents,
    signed_in,  # noqa: E402
)
from tests.support.participation import PNG_1PX, citizen, read, service_id, staff  # noqa: E402

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


@pytest.fixture(scope="module")
def matrix(proposals_app, make_tenant, tmp_path_factory):
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
    yield build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=clients,
        ids=ids,
        prefixes=("problems.", "staff_problems."),
        home_on_b="/gestion/signalements/",
        tables=FINGERPRINT_TABLES,
        special={"problems.static": {"filename": "problems.css"}},
    )
    app.config["UPLOAD_FOLDER"] = previous_folder


def test_every_problem_route_is_in_the_matrix(matrix):
    assert_every_route_covered(
        matrix, GET_ALLOWED, POST_ALLOWED, "staff_problems.", "/gestion/signalements/"
    )


def expected_problem_get(column: str, endpoint: str) -> int:
    return expected_get(column, endpoint, GET_ALLOWED)


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    check_gets(matrix, column, expected_problem_get, explanations=("réservée", "vos services"))


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    check_refused_posts(matrix, column, POST_ALLOWED, POST_DATA, may_post_everywhere={"admin"})


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
