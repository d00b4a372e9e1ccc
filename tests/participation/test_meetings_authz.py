"""Authorisation matrix of every meeting route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, an agent, a moderator, an admin; and the admin
of tenant B with their session cookie replayed on A's host. Meetings are managed by
moderators and admins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
from tests.support.participation import citizen, make_process, read, staff  # noqa: E402

COLUMNS = ["anonymous", "citizen", "agent", "moderator", "admin", "other_tenant_admin"]
EVERYONE = frozenset(COLUMNS)
LOGGED_IN = EVERYONE - STRANGERS
MANAGERS = frozenset({"moderator", "admin"})

GET_ALLOWED = {
    "meetings.index": EVERYONE,
    "meetings.show": EVERYONE,
    "meetings.ics": EVERYONE,
    "meetings.static": EVERYONE,
    "staff_meetings.index": MANAGERS,
    "staff_meetings.new": MANAGERS,
    "staff_meetings.edit": MANAGERS,
    "staff_meetings.attendees": MANAGERS,
    "staff_meetings.minutes": MANAGERS,
}
POST_ALLOWED = {
    "meetings.register": LOGGED_IN,
    "meetings.unregister": LOGGED_IN,
    "staff_meetings.new": MANAGERS,
    "staff_meetings.edit": MANAGERS,
    "staff_meetings.publish": MANAGERS,
    "staff_meetings.cancel": MANAGERS,
    "staff_meetings.minutes": MANAGERS,
    "staff_meetings.add_proposal": MANAGERS,
}
POST_DATA = {
    "staff_meetings.new": {
        "title": "Réunion pirate",
        "starts_at": "2030-01-01T18:00",
        "ends_at": "2030-01-01T20:00",
        "address": "Ailleurs",
    },
    "staff_meetings.edit": {
        "title": "Titre piraté",
        "starts_at": "2030-01-01T18:00",
        "ends_at": "2030-01-01T20:00",
        "address": "Ailleurs",
    },
    "staff_meetings.cancel": {"reason": "Piraté"},
    "staff_meetings.minutes": {"minutes": "Piraté", "publish": "y"},
    "staff_meetings.add_proposal": {
        "process_id": "{process_id}",
        "title": "Piraté",
        "body": "Piraté",
    },
}
FINGERPRINT_TABLES = (
    "meetings",
    "meeting_registrations",
    "meeting_proposals",
    "proposals",
    "audit_log",
)


@pytest.fixture(scope="module")
def matrix(proposals_app, make_tenant):
    from participation.meetings.models import Meeting

    app = proposals_app
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)
    process_id = make_process(app, tenant_a)

    def prepare():
        start = datetime.now(UTC) - timedelta(days=1)  # past: minutes and proposals allowed
        meeting = Meeting(
            title="Réunion de quartier",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            address="Salle polyvalente",
            capacity=10,
            process_id=process_id,
            published_at=datetime.now(UTC),
        )
        db.session.add(meeting)
        db.session.commit()
        return {"meeting_id": meeting.id, "process_id": process_id}

    ids = read(app, tenant_a, prepare)
    clients = {
        "anonymous": client_on(app, tenant_a),
        "citizen": signed_in(app, tenant_a, citizen(app, tenant_a)),
        "agent": staff(app, tenant_a, "agent", services=("Voirie",))[0],
        "moderator": staff(app, tenant_a, "moderator")[0],
        "admin": staff(app, tenant_a, "admin")[0],
    }
    return build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=clients,
        ids=ids,
        prefixes=("meetings.", "staff_meetings."),
        home_on_b="/gestion/reunions/",
        tables=FINGERPRINT_TABLES,
        special={"meetings.static": {"filename": "meetings.css"}},
    )


def test_every_meeting_route_is_in_the_matrix(matrix):
    assert_every_route_covered(
        matrix, GET_ALLOWED, POST_ALLOWED, "staff_meetings.", "/gestion/reunions/"
    )


def expected_meeting_get(column: str, endpoint: str) -> int:
    return expected_get(column, endpoint, GET_ALLOWED)


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    check_gets(matrix, column, expected_meeting_get)


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    check_refused_posts(matrix, column, POST_ALLOWED, POST_DATA, may_post_everywhere=MANAGERS)


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same POST with the right role reaches the view."""
    moderator = matrix.clients["moderator"]
    url = matrix.urls["staff_meetings.cancel"]
    response = moderator.post(url, data={"csrf_token": csrf_for(moderator), "reason": ""})
    assert response.status_code == 303  # refused by the form (empty reason), nothing cancelled
    assert matrix.fingerprint()["meetings"]


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    path = "/gestion/reunions/987654"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["moderator"].get(path).status_code == 404
    assert matrix.clients["anonymous"].get("/reunions/987654").status_code == 404
    assert matrix.clients["anonymous"].get("/reunions/987654.ics").status_code == 404


def test_a_draft_meeting_is_hidden_from_the_public(matrix):
    from participation.meetings.models import Meeting

    def draft():
        start = datetime.now(UTC) + timedelta(days=3)
        meeting = Meeting(
            title="Brouillon", starts_at=start, ends_at=start + timedelta(hours=1), address="x"
        )
        db.session.add(meeting)
        db.session.commit()
        return meeting.id

    meeting_id = read(matrix.app, matrix.tenant, draft)
    for column in ("anonymous", "citizen", "other_tenant_admin"):
        client = matrix.clients[column]
        assert client.get(f"/reunions/{meeting_id}").status_code == 404, column
        assert client.get(f"/reunions/{meeting_id}.ics").status_code == 404, column
    assert matrix.clients["moderator"].get(f"/reunions/{meeting_id}").status_code == 200
