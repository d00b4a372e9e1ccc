"""Authorisation matrix of every proposal route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, the proposal's author, an agent of the service
the proposal is assigned to, an agent of another service, a moderator, an admin; and the
admin of tenant B with their session cookie replayed on A's host (a stranger on A: cookies
are signed per site).
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.participation.authz_matrix")

from core.db import db  # noqa: E402 - after the rewrite registration
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
from tests.support import (  # noqa: E402
    client_on,
    csrf_for,
    ensure_legal_documents,
    signed_in,  # noqa: E402
)
from tests.support.participation import (  # noqa: E402
    PNG_1PX,
    citizen,
    make_process,
    make_proposal,
    read,
    service_id,
    staff,
)

COLUMNS = [
    "anonymous",
    "citizen",
    "author",
    "agent",
    "other_agent",
    "moderator",
    "admin",
    "other_tenant_admin",
]
EVERYONE = frozenset(COLUMNS)
LOGGED_IN = EVERYONE - STRANGERS
STAFF = frozenset({"agent", "other_agent", "moderator", "admin"})
ANSWERERS = frozenset({"agent", "moderator", "admin"})  # the proposal is the agent's service's

#: GET: who gets 200; strangers get 302 to the log-in page on pages that need an account,
#: everyone else 403.
GET_ALLOWED = {
    "proposals.index": EVERYONE,
    "proposals.show": EVERYONE,
    "proposals.image": EVERYONE,
    "proposals.static": EVERYONE,
    "proposals.new": LOGGED_IN,
    "proposals.edit": frozenset({"author"}),
    "staff_proposals.dashboard": STAFF,
    "staff_proposals.index": STAFF,
    "staff_proposals.export_csv": STAFF,
    "staff_proposals.answer": ANSWERERS,
    "staff_proposals.settings": frozenset({"admin"}),
}
#: POST: who may; the others are refused (302 to the log-in page for strangers, else 403).
POST_ALLOWED = {
    "proposals.new": LOGGED_IN,
    "proposals.edit": frozenset({"author"}),
    "proposals.withdraw": frozenset({"author"}),
    "proposals.support": LOGGED_IN - {"author"},
    "staff_proposals.bulk_status": STAFF,
    "staff_proposals.answer": ANSWERERS,
    "staff_proposals.assign": ANSWERERS,
    "staff_proposals.settings": frozenset({"admin"}),
}
PUBLIC_PAGES = {"proposals.index", "proposals.show", "proposals.image", "proposals.static"}

POST_DATA = {
    "proposals.new": {
        "title": "Proposition pirate",
        "body": "Une description pirate assez longue.",
    },
    "proposals.edit": {"title": "Titre piraté", "body": "Une description piratée assez longue."},
    "proposals.support": {"intent": "support"},
    "staff_proposals.bulk_status": {"status": "done", "proposal_ids": "{proposal_id}"},
    "staff_proposals.answer": {"status": "done", "reason": "", "answer": "Piraté"},
    "staff_proposals.assign": {"service_id": ""},
    "staff_proposals.settings": {
        "label_received": "A",
        "label_studying": "B",
        "label_accepted": "C",
        "label_rejected": "D",
        "label_done": "E",
        "edit_window": "5",
    },
}
FINGERPRINT_TABLES = (
    "proposals",
    "supports",
    "proposal_events",
    "audit_log",
    "settings",
    "follows",
    "notifications",
)


@pytest.fixture(scope="module")
def matrix(proposals_app, make_tenant, today_module) -> Matrix:
    from core import uploads
    from participation.proposals.models import Proposal

    app = proposals_app
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)
    process_id = make_process(app, tenant_a)
    author = citizen(app, tenant_a)
    proposal_id = make_proposal(app, tenant_a, process_id, author)
    voirie = service_id(app, tenant_a, "Voirie")
    image = f"{'a' * 32}.png"

    def prepare():
        proposal = db.session.get(Proposal, proposal_id)
        proposal.service_id = voirie
        proposal.image_path = image  # served only as the picture of a visible proposal
        folder = uploads.image_folder(tenant_a.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / image).write_bytes(PNG_1PX)
        db.session.commit()

    read(app, tenant_a, prepare)

    clients = {
        "anonymous": client_on(app, tenant_a),
        "citizen": signed_in(app, tenant_a, citizen(app, tenant_a)),
        "author": signed_in(app, tenant_a, author),
        "agent": staff(app, tenant_a, "agent", services=("Voirie",))[0],
        "other_agent": staff(app, tenant_a, "agent", services=("Culture",))[0],
        "moderator": staff(app, tenant_a, "moderator")[0],
        "admin": staff(app, tenant_a, "admin")[0],
    }
    return build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=clients,
        ids={"process_id": process_id, "proposal_id": proposal_id, "filename": image},
        prefixes=("proposals.", "staff_proposals."),
        home_on_b="/gestion/propositions/",
        tables=FINGERPRINT_TABLES,
        special={"proposals.static": {"filename": "proposals.css"}},
        every_argument=True,
    )


@pytest.fixture(scope="module")
def today_module():
    """The processes' clock frozen for the whole module (the matrix is module-scoped)."""
    from tests.support.participation import TODAY

    patcher = pytest.MonkeyPatch()
    patcher.setattr("core.clock.paris_today", lambda: TODAY)
    yield TODAY
    patcher.undo()


def test_every_proposal_route_is_in_the_matrix(matrix):
    assert_every_route_covered(
        matrix, GET_ALLOWED, POST_ALLOWED, "staff_proposals.", "/gestion/propositions/"
    )


def expected_proposal_get(column: str, endpoint: str) -> int:
    return expected_get(column, endpoint, GET_ALLOWED)


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    check_gets(
        matrix, column, expected_proposal_get, explanations=("réservée", "Seul l", "vos services")
    )


def expected_proposal_post_refusal(column: str, endpoint: str) -> set[int]:
    if column == "anonymous" and endpoint == "proposals.support":
        return {303}  # sent to log in; the support button says so with a 303
    return expected_post_refusal(column, endpoint)


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    check_refused_posts(
        matrix,
        column,
        POST_ALLOWED,
        POST_DATA,
        may_post_everywhere={"admin"},
        refusal=expected_proposal_post_refusal,
    )


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same kind of POST with the right role reaches the view."""
    admin = matrix.clients["admin"]
    response = admin.post(
        matrix.urls["staff_proposals.answer"],
        data={"csrf_token": csrf_for(admin), "status": "rejected", "reason": ""},
    )
    assert response.status_code == 200
    assert "publique et obligatoire" in response.get_data(as_text=True)
    agent = matrix.clients["agent"]
    response = agent.post(
        matrix.urls["staff_proposals.answer"],
        data={"csrf_token": csrf_for(agent), "status": "rejected", "reason": ""},
    )
    assert response.status_code == 200
    author = matrix.clients["author"]
    response = author.post(
        matrix.urls["proposals.edit"],
        data={"csrf_token": csrf_for(author), "title": "", "body": ""},
    )
    assert response.status_code == 200 and "Donnez un titre" in response.get_data(as_text=True)


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    """Strangers and citizens cannot probe which ids exist on the staff side."""
    path = "/gestion/propositions/987654"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["moderator"].get(path).status_code == 404
    assert matrix.clients["anonymous"].get("/propositions/987654").status_code == 404
    assert matrix.clients["anonymous"].get("/medias/propositions/../../etc").status_code == 404
