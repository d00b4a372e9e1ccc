"""Authorisation matrix of every proposal route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, the proposal's author, an agent of the service
the proposal is assigned to, an agent of another service, a moderator, an admin; and the
admin of tenant B with their session cookie replayed on A's host (a stranger on A: cookies
are signed per site).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

pytest.register_assert_rewrite(
    "tests.participation.staff_fixtures", "tests.participation.proposal_fixtures"
)

from core.db import db  # noqa: E402 - after the rewrite registration
from tests.participation.proposal_fixtures import (  # noqa: E402
    PNG_1PX,
    citizen,
    make_process,
    make_proposal,
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
    "author",
    "agent",
    "other_agent",
    "moderator",
    "admin",
    "other_tenant_admin",
]
STRANGERS = {"anonymous", "other_tenant_admin"}  # not logged in on A
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


@dataclass
class Matrix:
    app: object
    tenant: object
    urls: dict[str, str]
    methods: dict[str, set[str]]
    proposal_id: int
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
def matrix(proposals_app, make_tenant, today_module) -> Matrix:
    from flask import url_for

    from participation.proposals import services
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
        db.session.get(Proposal, proposal_id).service_id = voirie
        folder = services.image_folder(tenant_a.id)
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
    admin_b = create_person(app, tenant_b, "admin")
    client_b = client_on(app, tenant_b)
    forge_session(client_b, tenant_b, admin_b, verified=True)
    assert client_b.get("/gestion/propositions/").status_code == 200  # at home on B
    replayed = client_on(app, tenant_a)
    replayed.set_cookie("session", session_cookie(client_b), domain=tenant_a.primary_host)
    clients["other_tenant_admin"] = replayed
    tokens = {"other_tenant_admin": csrf_for(client_b)}

    ids = {"process_id": process_id, "proposal_id": proposal_id, "filename": image}
    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(("proposals.", "staff_proposals.")):
                continue
            values = {name: ids[name] for name in rule.arguments}
            if rule.endpoint == "proposals.static":
                values = {"filename": "proposals.css"}
            urls[rule.endpoint] = url_for(rule.endpoint, **values)
            methods[rule.endpoint] = set(rule.methods)
        login = url_for("accounts.login")
    return Matrix(app, tenant_a, urls, methods, proposal_id, clients, tokens, login)


@pytest.fixture(scope="module")
def today_module():
    """The processes' clock frozen for the whole module (the matrix is module-scoped)."""
    from tests.participation.proposal_fixtures import TODAY

    patcher = pytest.MonkeyPatch()
    patcher.setattr("participation.processes.services.today", lambda: TODAY)
    yield TODAY
    patcher.undo()


def test_every_proposal_route_is_in_the_matrix(matrix):
    get_routes = {e for e, m in matrix.methods.items() if "GET" in m}
    post_routes = {e for e, m in matrix.methods.items() if "POST" in m}
    assert get_routes == set(GET_ALLOWED), "list who may GET each new route in GET_ALLOWED"
    assert post_routes == set(POST_ALLOWED), "list who may POST each new route in POST_ALLOWED"
    staff_urls = [u for e, u in matrix.urls.items() if e.startswith("staff_proposals.")]
    assert all(url.startswith("/gestion/propositions/") for url in staff_urls)


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
            word in response.get_data(as_text=True)
            for word in ("réservée", "Seul l", "vos services")
        ):
            wrong.append(f"{endpoint}: 403 without a French explanation")
    assert not wrong, "\n".join(wrong)


def expected_post_refusal(column: str, endpoint: str) -> set[int]:
    if column == "anonymous":
        # Sent to log in; the support button says so with a 303.
        return {303} if endpoint == "proposals.support" else {302}
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
        data = {
            key: value.format(proposal_id=matrix.proposal_id)
            for key, value in POST_DATA.get(endpoint, {}).items()
        }
        response = client.post(url, data={"csrf_token": token, **data})
        expected = expected_post_refusal(column, endpoint)
        if response.status_code not in expected:
            wrong.append(f"POST {endpoint}: {response.status_code}, expected {expected}")
        elif response.status_code in (302, 303) and (
            urlsplit(response.location).path != matrix.login_path
        ):
            wrong.append(f"POST {endpoint}: redirected to {response.location}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint(matrix.app, matrix.tenant) == before
    if column != "admin":
        assert tried > 0


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
