"""Authorisation matrix of the debate and moderation staff pages (``staff_debates.*``,
``staff_moderation.*``) and of the citizen pages that need a log-in, built like
tests/participation/test_authz_matrix.py (machinery: tests/participation/authz_matrix.py):
every route × every kind of visitor gets exactly the expected answer, and a refused POST
writes nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

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
from tests.participation.test_comments import build_world  # noqa: E402
from tests.support import create_person, csrf_for, ensure_legal_documents  # noqa: E402

COLUMNS = OPERATOR_COLUMNS
STRANGERS = OPERATOR_STRANGERS  # not logged in on A
MANAGERS = frozenset({"admin", "moderator"})
MODERATORS = frozenset({"admin", "moderator"})

ALLOWED = {
    "staff_debates.manage": MANAGERS,
    "staff_debates.create": MANAGERS,
    "staff_debates.edit": MANAGERS,
    "staff_debates.close": MANAGERS,
    "staff_debates.reopen": MANAGERS,
    "staff_moderation.queue": MODERATORS,
    "staff_moderation.target": MODERATORS,
    "staff_moderation.hide": MODERATORS,
    "staff_moderation.restore": MODERATORS,
    "staff_moderation.dismiss": MODERATORS,
    "staff_moderation.blocked_users": MODERATORS,
    "staff_moderation.user": MODERATORS,
    "staff_moderation.block": MODERATORS,
    "staff_moderation.unblock": MODERATORS,
}
STAFF_PREFIXES = ("staff_debates.", "staff_moderation.")

POST_DATA = {
    "staff_debates.create": {"process_id": "{process_id}", "question": "Question pirate ?"},
    "staff_debates.edit": {"process_id": "{process_id}", "question": "Question piratée ?"},
    "staff_moderation.hide": {"reason": "Piratage"},
    "staff_moderation.restore": {"reason": "Piratage"},
    "staff_moderation.dismiss": {"note": "Piratage"},
    "staff_moderation.block": {"block-reason": "Piratage"},
    "staff_moderation.unblock": {"block-reason": "Piratage"},
}

#: Citizen pages that need a log-in (anonymous visitors are sent to it).
LOGIN_REQUIRED = {
    "engagement.notifications": "GET",
    "engagement.report": "GET",
    "engagement.follow": "POST",
    "engagement.unfollow": "POST",
    "engagement.mark_all_read": "POST",
    "debates.create_comment": "POST",
    "debates.add_argument": "POST",
    "debates.edit_comment": "GET",
    "debates.delete_comment": "GET",
    "debates.delete_argument": "GET",
}

TABLES = ("debates", "arguments", "comments", "reports", "users", "audit_log", "notifications")


@pytest.fixture(scope="module")
def matrix(eng_app, make_tenant) -> Matrix:
    from participation.debates.models import Argument
    from participation.engagement.comments import Comment
    from participation.engagement.models import Report, ReportReason
    from tenants.context import tenant_context

    app = eng_app
    world = build_world(app, make_tenant)
    tenant_a = world.tenant
    people = {
        "citizen": create_person(app, tenant_a, None),
        "agent": create_person(app, tenant_a, "agent", services=("Voirie",)),
        "moderator": create_person(app, tenant_a, "moderator"),
        "admin": create_person(app, tenant_a, "admin"),
    }
    author = create_person(app, tenant_a, None)
    with app.app_context(), tenant_context(tenant_a):
        comment = Comment(debate_id=world.debate_id, author_id=author.id, body="Un commentaire")
        argument = Argument(
            debate_id=world.debate_id, author_id=people["citizen"].id, side="pour", body="Oui"
        )
        db.session.add_all([comment, argument])
        db.session.flush()
        db.session.add(
            Report(
                reporter_id=people["citizen"].id,
                target_type="comment",
                target_id=comment.id,
                reason=ReportReason.ABUSE,
            )
        )
        db.session.commit()
        ids = {
            "debate_id": world.debate_id,
            "target_type": "comment",
            "target_id": comment.id,
            "user_id": author.id,
            "comment_id": comment.id,
            "argument_id": argument.id,
            "notification_id": 1,
        }

    tenant_b = make_tenant()
    ensure_legal_documents(app, tenant_b)
    result = build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=signed_in_clients(app, tenant_a, people),
        ids=ids,
        prefixes=STAFF_PREFIXES,
        home_on_b="/gestion/moderation/",  # a real admin on B
        tables=TABLES,
        every_argument=True,
        endpoints=LOGIN_REQUIRED,
        token_first=True,
        operator=True,
    )
    result.ids = {**ids, "process_id": world.process_id}
    return result


def _staff_urls(matrix: Matrix) -> dict[str, str]:
    return {e: u for e, u in matrix.urls.items() if e.startswith(STAFF_PREFIXES)}


def expected_staff_get(column: str, endpoint: str) -> int:
    # Strangers: 302 to the log-in page; citizens and the wrong roles: 403.
    return expected_get(column, endpoint, ALLOWED, strangers=STRANGERS)


def test_every_staff_route_is_in_the_matrix(matrix):
    assert_routes_listed(
        _staff_urls(matrix),
        ALLOWED,
        "a debate or moderation staff route was added or removed: list who may use it",
    )


@pytest.mark.parametrize("column", COLUMNS)
def test_staff_get_answers_exactly_as_expected(matrix, column):
    check_gets(matrix, column, expected_staff_get, urls=_staff_urls(matrix))


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_staff_post_writes_nothing(matrix, column):
    check_refused_posts(
        matrix,
        column,
        ALLOWED,
        POST_DATA,
        may_post_everywhere=MANAGERS,
        refusal=operator_post_refusal,
        urls=_staff_urls(matrix),
    )


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same POST with the right role reaches the view (form re-shown)."""
    moderator = matrix.clients["moderator"]
    response = moderator.post(
        matrix.urls["staff_moderation.hide"],
        data={"csrf_token": csrf_for(moderator), "reason": ""},
    )
    assert response.status_code == 400 and "Indiquez la raison." in response.get_data(as_text=True)


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    for path in ("/gestion/debats/987654", "/gestion/moderation/comment/987654"):
        assert matrix.clients["anonymous"].get(path).status_code == 302
        assert matrix.clients["citizen"].get(path).status_code == 403
        assert matrix.clients["agent"].get(path).status_code == 403
        assert matrix.clients["moderator"].get(path).status_code == 404


def test_citizen_pages_need_a_log_in(matrix):
    anonymous = matrix.clients["anonymous"]
    wrong = []
    for endpoint, method in sorted(LOGIN_REQUIRED.items()):
        url = matrix.urls[endpoint]
        if method == "GET":
            response = anonymous.get(url)
        else:
            response = anonymous.post(url, data={"csrf_token": csrf_for(anonymous)})
        if response.status_code != 302 or urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"{method} {endpoint}: {response.status_code} {response.location}")
    assert not wrong, "\n".join(wrong)


def test_only_authors_edit_or_delete_their_contributions(matrix):
    """The moderator (or anyone else) cannot edit or delete someone's comment or argument."""
    for column in ("citizen", "moderator", "admin"):
        client = matrix.clients[column]
        comment_id, argument_id = matrix.ids["comment_id"], matrix.ids["argument_id"]
        assert client.get(f"/commentaires/{comment_id}/modifier").status_code == 403
        assert client.get(f"/commentaires/{comment_id}/supprimer").status_code == 403
        if column != "citizen":  # the citizen wrote the argument
            assert client.get(f"/arguments/{argument_id}/supprimer").status_code == 403
