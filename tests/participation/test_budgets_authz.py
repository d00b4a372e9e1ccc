"""Authorisation matrix of every participatory budget route (public and staff): each route
of ``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused
POST writes nothing.

Visitors (tenant A): anonymous, a citizen, a voter (approved for the budget in its vote), an
agent, a moderator, an admin; and the admin of tenant B with their session cookie replayed
on A's host.
"""

from __future__ import annotations

import secrets

import pytest

pytest.register_assert_rewrite("tests.participation.authz_matrix")

from core.db import db  # noqa: E402
from tests.participation.authz_matrix import (  # noqa: E402
    STRANGERS,
    Matrix,
    assert_every_route_covered,
    build_matrix,
    check_gets,
    check_refused_posts,
    expected_get,
    expected_post_refusal,
)
from tests.support import client_on, create_person, csrf_for, ensure_legal_documents, forge_session  # noqa: E402
from tests.support.budgets import approve_voter, make_budget  # noqa: E402
from tests.support.participation import TODAY  # noqa: E402

COLUMNS = ["anonymous", "citizen", "voter", "agent", "moderator", "admin", "other_tenant_admin"]
EVERYONE = frozenset(COLUMNS)
LOGGED_IN = EVERYONE - STRANGERS
STAFF = frozenset({"agent", "moderator", "admin"})
WORKERS = frozenset({"agent", "admin"})
ADMIN = frozenset({"admin"})

#: GET: who gets 200; strangers get 302 to the log-in page on pages that need an account,
#: everyone else 403 — except the cells of GET_SPECIAL.
GET_ALLOWED = {
    "budgets.index": EVERYONE,
    "budgets.show": EVERYONE,
    "budgets.project": EVERYONE,
    "budgets.photo": EVERYONE,
    "budgets.static": EVERYONE,
    "budgets.results": EVERYONE,
    "budgets.new_project": LOGGED_IN,
    "budgets.eligibility": LOGGED_IN,
    "budgets.vote": LOGGED_IN,
    "budgets.voted": LOGGED_IN,
    "staff_budgets.index": STAFF,
    "staff_budgets.show": STAFF,
    "staff_budgets.new": ADMIN,
    "staff_budgets.edit": ADMIN,
    "staff_budgets.census": ADMIN,
    "staff_budgets.review": ADMIN,
    "staff_budgets.register": ADMIN,
    "staff_budgets.analyse": WORKERS,
    "staff_budgets.paper": WORKERS,
    "staff_budgets.follow_up": WORKERS,
}
#: Logged-in visitors sent elsewhere by the voting steps (their state, not a refusal).
GET_SPECIAL = {
    ("budgets.eligibility", "voter"): 303,  # already approved: to the ballot
    **{("budgets.vote", c): 303 for c in LOGGED_IN - {"voter"}},  # not approved: to eligibility
    **{("budgets.voted", c): 303 for c in LOGGED_IN},  # not voted yet: to the ballot
}
POST_ALLOWED = {
    "budgets.new_project": LOGGED_IN,
    "budgets.follow": LOGGED_IN,
    "budgets.eligibility": LOGGED_IN,
    "budgets.vote": LOGGED_IN,
    "staff_budgets.new": ADMIN,
    "staff_budgets.edit": ADMIN,
    "staff_budgets.publish": ADMIN,
    "staff_budgets.census": ADMIN,
    "staff_budgets.decide": ADMIN,
    "staff_budgets.analyse": WORKERS,
    "staff_budgets.paper": WORKERS,
    "staff_budgets.follow_up": WORKERS,
}
POST_DATA = {
    "budgets.new_project": {
        "title": "Projet pirate",
        "description": "Une description pirate.",
        "proposed_cost": "10",
    },
    "budgets.eligibility": {"full_name": "Pirate", "birth_date": "1990-01-01", "resident": "y"},
    "budgets.vote": {"project": "{project_id}"},
    "staff_budgets.new": {"title": "Pirate"},
    "staff_budgets.edit": {"title": "Pirate"},
    "staff_budgets.decide": {"decision": "approve"},
    "staff_budgets.analyse": {"feasible": "no", "reason": "Piraté"},
    "staff_budgets.paper": {
        "polling_point": "Pirate",
        "voter_name": "Pirate",
        "project": "{project_id}",
    },
    "staff_budgets.follow_up": {"action": "progress", "progress-progress": "99"},
}
FINGERPRINT_TABLES = (
    "budgets",
    "budget_envelopes",
    "budget_projects",
    "budget_census_entries",
    "budget_eligibilities",
    "budget_voters",
    "budget_ballots",
    "budget_ballot_choices",
    "budget_milestones",
    "budget_updates",
    "budget_project_follows",
    "audit_log",
    "notifications",
)


@pytest.fixture(scope="module")
def frozen_day():
    patcher = pytest.MonkeyPatch()
    patcher.setattr("core.clock.paris_today", lambda: TODAY)
    yield TODAY
    patcher.undo()


def staff_client(app, tenant, role):
    person = create_person(app, tenant, role)
    client = client_on(app, tenant)
    forge_session(client, tenant, person, verified=True)
    return client, person


@pytest.fixture(scope="module")
def matrix(staff_app, make_tenant, frozen_day) -> Matrix:

    from core import uploads
    from participation.budgets.models import BudgetUpdate, Eligibility, EligibilityStatus
    from tenants.context import tenant_context

    app = staff_app
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)
    voting = make_budget(app, tenant_a, phase="vote", projects=[("Bancs", 1_000)])
    submission = make_budget(app, tenant_a, phase="submission")
    finished = make_budget(app, tenant_a, phase="results", projects=[("Fontaine", 1_000)])
    clients = {"anonymous": client_on(app, tenant_a)}
    for column in ("citizen", "voter"):
        client, person = staff_client(app, tenant_a, None)
        clients[column] = client
        if column == "voter":
            approve_voter(app, tenant_a, voting.id, person.id)
    for role in ("agent", "moderator", "admin"):
        clients[role] = staff_client(app, tenant_a, role)[0]
    pending_person = create_person(app, tenant_a, None)
    photo = f"{secrets.token_hex(16)}.png"
    with app.app_context(), tenant_context(tenant_a):
        pending = Eligibility(
            budget_id=voting.id,
            user_id=pending_person.id,
            full_name="Helene Chabert",
            birth_date=TODAY.replace(year=1969),
            resident=True,
            status=EligibilityStatus.PENDING,
        )
        db.session.add(pending)
        db.session.commit()
        pending_id = pending.id
        folder = uploads.image_folder(tenant_a.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / photo).write_bytes(b"\x89PNG\r\n\x1a\n")
        # The media route serves only the photos of follow-up updates.
        db.session.add(
            BudgetUpdate(
                project_id=finished.projects["Fontaine"], body="Travaux lancés", photo_path=photo
            )
        )
        db.session.commit()

    ids = {
        "budget_id": voting.id,
        "project_id": voting.projects["Bancs"],
        "eligibility_id": pending_id,
        "filename": photo,
    }
    special = {
        "budgets.new_project": {"budget_id": submission.id},
        "budgets.results": {"budget_id": finished.id},
        "staff_budgets.follow_up": {"project_id": finished.projects["Fontaine"]},
        "budgets.static": {"filename": "budgets.css"},
    }
    return build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=clients,
        ids=ids,
        prefixes=("budgets.", "staff_budgets."),
        home_on_b="/gestion/budgets/",
        tables=FINGERPRINT_TABLES,
        special=special,
        every_argument=True,
    )


def test_every_budget_route_is_in_the_matrix(matrix):
    assert_every_route_covered(
        matrix, GET_ALLOWED, POST_ALLOWED, "staff_budgets.", "/gestion/budgets/"
    )
    assert matrix.urls["budgets.index"] == "/budgets-participatifs/"


def expected_budget_get(column: str, endpoint: str) -> int:
    return expected_get(column, endpoint, GET_ALLOWED, GET_SPECIAL)


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    check_gets(matrix, column, expected_budget_get)


def expected_budget_post_refusal(column: str, endpoint: str) -> set[int]:
    if column == "anonymous" and endpoint == "budgets.follow":
        return {303}
    return expected_post_refusal(column, endpoint)


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    check_refused_posts(
        matrix,
        column,
        POST_ALLOWED,
        POST_DATA,
        may_post_everywhere={"admin"},
        refusal=expected_budget_post_refusal,
    )


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same kind of POST with the right role reaches the view."""
    agent = matrix.clients["agent"]
    response = agent.post(
        matrix.urls["staff_budgets.analyse"],
        data={"csrf_token": csrf_for(agent), "feasible": "no", "reason": ""},
    )
    assert response.status_code == 200
    # The budget is in its vote: the view answers with the rule, not a refusal.
    assert "Le vote a commencé" in response.get_data(as_text=True)
    admin = matrix.clients["admin"]
    response = admin.post(
        matrix.urls["staff_budgets.edit"], data={"csrf_token": csrf_for(admin), "title": ""}
    )
    assert response.status_code == 200 and "Donnez un titre" in response.get_data(as_text=True)


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    path = "/gestion/budgets/987654"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["moderator"].get(path).status_code == 404
    assert matrix.clients["anonymous"].get("/budgets-participatifs/987654").status_code == 404
    assert (
        matrix.clients["anonymous"].get("/budgets-participatifs/medias/..%2F..%2Fetc").status_code
        == 404
    )
