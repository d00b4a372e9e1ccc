"""Authorisation matrix of every consultation route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, an agent, a moderator, an admin; and the admin of
tenant B with their session cookie replayed on A's host.
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
from tests.participation.proposal_fixtures import citizen, read, signed_in, staff  # noqa: E402
from tests.participation.staff_fixtures import (  # noqa: E402
    client_on,
    create_person,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    session_cookie,
)
from tests.participation.test_surveys import (  # noqa: E402
    CHOICES,
    Spec,
    make_survey,
    surveys_app,  # noqa: F401 - the fixture
)

pytest_plugins = ["tests.participation.staff_fixtures", "tests.participation.proposal_fixtures"]

COLUMNS = ["anonymous", "citizen", "agent", "moderator", "admin", "other_tenant_admin"]
STRANGERS = {"anonymous", "other_tenant_admin"}
EVERYONE = frozenset(COLUMNS)
LOGGED_IN = EVERYONE - STRANGERS
STAFF = frozenset({"agent", "moderator", "admin"})
MANAGERS = frozenset({"moderator", "admin"})

GET_ALLOWED = {
    "surveys.index": EVERYONE,
    "surveys.show": EVERYONE,
    "surveys.static": EVERYONE,
    "surveys.results": EVERYONE,
    "surveys.outcome": EVERYONE,
    "surveys.answer": LOGGED_IN,
    "staff_surveys.index": STAFF,
    "staff_surveys.show": STAFF,
    "staff_surveys.results": STAFF,
    "staff_surveys.new": MANAGERS,
    "staff_surveys.edit": MANAGERS,
    "staff_surveys.new_section": MANAGERS,
    "staff_surveys.edit_section": MANAGERS,
    "staff_surveys.new_question": MANAGERS,
    "staff_surveys.edit_question": MANAGERS,
    "staff_surveys.export_csv": MANAGERS,
    "staff_surveys.outcome": MANAGERS,
}
POST_ALLOWED = {
    "surveys.answer": LOGGED_IN,
    "staff_surveys.new": MANAGERS,
    "staff_surveys.edit": MANAGERS,
    "staff_surveys.publish": MANAGERS,
    "staff_surveys.delete": MANAGERS,
    "staff_surveys.results_publication": MANAGERS,
    "staff_surveys.new_section": MANAGERS,
    "staff_surveys.edit_section": MANAGERS,
    "staff_surveys.delete_section": MANAGERS,
    "staff_surveys.new_question": MANAGERS,
    "staff_surveys.edit_question": MANAGERS,
    "staff_surveys.delete_question": MANAGERS,
    "staff_surveys.move_question": MANAGERS,
    "staff_surveys.outcome": MANAGERS,
}
POST_DATA = {
    "surveys.answer": {"q{question_id}": "{option_id}"},
    "staff_surveys.new": {
        "title": "Consultation pirate",
        "opens_on": "2027-01-01",
        "closes_on": "2027-02-01",
    },
    "staff_surveys.edit": {
        "title": "Titre piraté",
        "opens_on": "2027-01-01",
        "closes_on": "2027-02-01",
    },
    "staff_surveys.results_publication": {"publish": "0"},
    "staff_surveys.new_section": {"title": "Section pirate"},
    "staff_surveys.edit_section": {"title": "Section piratée"},
    "staff_surveys.new_question": {"kind": "short_text", "text": "Question pirate"},
    "staff_surveys.edit_question": {"kind": "short_text", "text": "Question piratée"},
    "staff_surveys.move_question": {"direction": "down"},
    "staff_surveys.outcome": {"outcome": "Piraté", "publish": "y"},
}
FINGERPRINT_TABLES = (
    "surveys",
    "survey_sections",
    "survey_questions",
    "survey_options",
    "survey_responses",
    "survey_participations",
    "survey_answers",
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
def matrix(surveys_app, make_tenant) -> Matrix:  # noqa: F811 - the imported fixture
    from flask import url_for

    from participation.surveys.models import Survey, SurveySection

    app = surveys_app
    patcher = pytest.MonkeyPatch()
    from tests.participation.proposal_fixtures import TODAY

    patcher.setattr("participation.processes.services.today", lambda: TODAY)
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)
    made = make_survey(
        app, tenant_a, [CHOICES, Spec("short_text", "Remarque ?")], results_published=True
    )
    draft = make_survey(app, tenant_a, [CHOICES], state="draft")

    def prepare():
        survey = db.session.get(Survey, made.id)
        survey.outcome = "Nous avons décidé."
        survey.outcome_published_at = sa.func.now()
        section = SurveySection(survey_id=made.id, title="Section", position=1)
        db.session.add(section)
        db.session.commit()
        return section.id

    section_id = read(app, tenant_a, prepare)
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
    assert client_b.get("/gestion/consultations/").status_code == 200
    replayed = client_on(app, tenant_a)
    replayed.set_cookie("session", session_cookie(client_b), domain=tenant_a.primary_host)
    clients["other_tenant_admin"] = replayed
    tokens = {"other_tenant_admin": csrf_for(client_b)}

    ids = {
        "survey_id": made.id,
        "section_id": section_id,
        "question_id": made.q(0),
        "option_id": made.o(0, "Vélo"),
        "draft_id": draft.id,
    }
    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(("surveys.", "staff_surveys.")):
                continue
            if rule.endpoint == "surveys.static":
                values = {"filename": "surveys.css"}
            else:
                values = {name: ids[name] for name in rule.arguments}
            urls[rule.endpoint] = url_for(rule.endpoint, **values)
            methods[rule.endpoint] = set(rule.methods)
        login = url_for("accounts.login")
    yield Matrix(app, tenant_a, urls, methods, ids, clients, tokens, login)
    patcher.undo()


def test_every_survey_route_is_in_the_matrix(matrix):
    get_routes = {e for e, m in matrix.methods.items() if "GET" in m}
    post_routes = {e for e, m in matrix.methods.items() if "POST" in m}
    assert get_routes == set(GET_ALLOWED), "list who may GET each new route in GET_ALLOWED"
    assert post_routes == set(POST_ALLOWED), "list who may POST each new route in POST_ALLOWED"
    staff_urls = [u for e, u in matrix.urls.items() if e.startswith("staff_surveys.")]
    assert all(url.startswith("/gestion/consultations/") for url in staff_urls)
    assert matrix.urls["surveys.index"] == "/consultations"
    assert matrix.urls["staff_surveys.index"] == "/gestion/consultations/"


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
        data = {
            key.format(**matrix.ids): value.format(**matrix.ids)
            for key, value in POST_DATA.get(endpoint, {}).items()
        }
        response = client.post(url, data={"csrf_token": token, **data})
        expected = expected_post_refusal(column)
        if response.status_code not in expected:
            wrong.append(f"POST {endpoint}: {response.status_code}, expected {expected}")
        elif response.status_code == 302 and (
            urlsplit(response.location).path != matrix.login_path
        ):
            wrong.append(f"POST {endpoint}: redirected to {response.location}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint(matrix.app, matrix.tenant) == before
    if column not in ("admin", "moderator"):
        assert tried > 0


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same kind of POST with the right role reaches the view."""
    moderator = matrix.clients["moderator"]
    response = moderator.post(
        matrix.urls["staff_surveys.new_question"],
        data={"csrf_token": csrf_for(moderator), "kind": "single", "text": "Q ?", "options": ""},
    )
    assert response.status_code == 200 and "au moins deux choix" in response.get_data(as_text=True)


def test_drafts_and_unknown_ids_are_not_found_after_the_permissions(matrix):
    draft = matrix.ids["draft_id"]
    assert matrix.clients["anonymous"].get(f"/consultations/{draft}").status_code == 404
    assert matrix.clients["citizen"].get(f"/consultations/{draft}").status_code == 404
    assert matrix.clients["agent"].get(f"/consultations/{draft}").status_code == 200
    path = "/gestion/consultations/987654"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["agent"].get(path).status_code == 404
    assert matrix.clients["anonymous"].get("/consultations/987654").status_code == 404
    assert matrix.clients["anonymous"].get("/consultations/99999999999").status_code == 404
