"""Authorisation matrix of every meeting route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, an agent, a moderator, an admin; and the admin
of tenant B with their session cookie replayed on A's host. Meetings are managed by
moderators and admins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

pytest.register_assert_rewrite(
    "tests.participation.staff_fixtures", "tests.participation.proposal_fixtures"
)

from core.db import db  # noqa: E402
from tests.participation.proposal_fixtures import (  # noqa: E402
    citizen,
    make_process,
    read,
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

COLUMNS = ["anonymous", "citizen", "agent", "moderator", "admin", "other_tenant_admin"]
STRANGERS = {"anonymous", "other_tenant_admin"}
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
def matrix(proposals_app, make_tenant):
    from flask import url_for

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
    admin_b = create_person(app, tenant_b, "admin")
    client_b = client_on(app, tenant_b)
    forge_session(client_b, tenant_b, admin_b, verified=True)
    assert client_b.get("/gestion/reunions/").status_code == 200  # at home on B
    replayed = client_on(app, tenant_a)
    replayed.set_cookie("session", session_cookie(client_b), domain=tenant_a.primary_host)
    clients["other_tenant_admin"] = replayed
    tokens = {"other_tenant_admin": csrf_for(client_b)}

    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(("meetings.", "staff_meetings.")):
                continue
            values = {name: ids[name] for name in rule.arguments if name in ids}
            if rule.endpoint == "meetings.static":
                values = {"filename": "meetings.css"}
            urls[rule.endpoint] = url_for(rule.endpoint, **values)
            methods[rule.endpoint] = set(rule.methods)
        login = url_for("accounts.login")
    return Matrix(app, tenant_a, urls, methods, ids, clients, tokens, login)


def test_every_meeting_route_is_in_the_matrix(matrix):
    get_routes = {e for e, m in matrix.methods.items() if "GET" in m}
    post_routes = {e for e, m in matrix.methods.items() if "POST" in m}
    assert get_routes == set(GET_ALLOWED), "list who may GET each new route in GET_ALLOWED"
    assert post_routes == set(POST_ALLOWED), "list who may POST each new route in POST_ALLOWED"
    staff_urls = [u for e, u in matrix.urls.items() if e.startswith("staff_meetings.")]
    assert all(url.startswith("/gestion/reunions/") for url in staff_urls)


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
        elif expected == 403 and "réservée" not in response.get_data(as_text=True):
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
    if column not in MANAGERS:
        assert tried > 0


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same POST with the right role reaches the view."""
    moderator = matrix.clients["moderator"]
    url = matrix.urls["staff_meetings.cancel"]
    response = moderator.post(url, data={"csrf_token": csrf_for(moderator), "reason": ""})
    assert response.status_code == 303  # refused by the form (empty reason), nothing cancelled
    assert fingerprint(matrix.app, matrix.tenant)["meetings"]


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
