"""Authorisation matrix of every consultation route (public and staff): each route of
``app.url_map`` × each kind of visitor gets exactly the expected answer, and a refused POST
writes nothing.

Visitors (tenant A): anonymous, a citizen, an agent, a moderator, an admin; and the admin of
tenant B with their session cookie replayed on A's host.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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
)
from tests.participation.test_surveys import (  # noqa: E402
    CHOICES,
    Spec,
    make_survey,
)
from tests.support import (  # noqa: E402
    client_on,
    csrf_for,
    ensure_legal_documents,
    signed_in,  # noqa: E402
)
from tests.support.participation import citizen, read, staff  # noqa: E402

COLUMNS = ["anonymous", "citizen", "agent", "moderator", "admin", "other_tenant_admin"]
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


@pytest.fixture(scope="module")
def matrix(surveys_app, make_tenant) -> Matrix:
    from participation.surveys.models import Survey, SurveySection

    app = surveys_app
    patcher = pytest.MonkeyPatch()
    from tests.support.participation import TODAY

    patcher.setattr("core.clock.paris_today", lambda: TODAY)
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
    ids = {
        "survey_id": made.id,
        "section_id": section_id,
        "question_id": made.q(0),
        "option_id": made.o(0, "Vélo"),
        "draft_id": draft.id,
    }
    yield build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=clients,
        ids=ids,
        prefixes=("surveys.", "staff_surveys."),
        home_on_b="/gestion/consultations/",
        tables=FINGERPRINT_TABLES,
        special={"surveys.static": {"filename": "surveys.css"}},
        every_argument=True,
    )
    patcher.undo()


def test_every_survey_route_is_in_the_matrix(matrix):
    assert_every_route_covered(
        matrix, GET_ALLOWED, POST_ALLOWED, "staff_surveys.", "/gestion/consultations/"
    )
    assert matrix.urls["surveys.index"] == "/consultations"
    assert matrix.urls["staff_surveys.index"] == "/gestion/consultations/"


def expected_survey_get(column: str, endpoint: str) -> int:
    return expected_get(column, endpoint, GET_ALLOWED)


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    check_gets(matrix, column, expected_survey_get)


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    check_refused_posts(
        matrix, column, POST_ALLOWED, POST_DATA, may_post_everywhere={"admin", "moderator"}
    )


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
