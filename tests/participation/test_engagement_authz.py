"""Authorisation matrix of the debate and moderation staff pages (``staff_debates.*``,
``staff_moderation.*``) and of the citizen pages that need a log-in, built like
tests/participation/test_authz_matrix.py and with its helpers: every route × every kind of
visitor gets exactly the expected answer, and a refused POST writes nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytest.register_assert_rewrite("tests.participation.staff_fixtures")

import sqlalchemy as sa  # noqa: E402

from core.db import db  # noqa: E402 - after the rewrite registration
from tests.participation.staff_fixtures import (  # noqa: E402
    client_on,
    create_person,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    session_cookie,
)
from tests.participation.test_authz_matrix import (  # noqa: E402
    COLUMNS,
    STRANGERS,
    Matrix,
    _platform_operator,
    _replay_cookie,
    expected_post_refusal,
)
from tests.participation.test_comments import (  # noqa: E402, F401 - fixtures
    build_world,
    eng_app_fixture,
)

pytest_plugins = ["tests.participation.staff_fixtures"]

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


def fingerprint(app, tenant) -> dict[str, str]:
    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in TABLES:
            out[table] = conn.scalar(
                sa.text(
                    "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f'FROM "{tenant.schema}"."{table}" t'
                )
            )
    return out


@pytest.fixture(scope="module")
def matrix(eng_app, make_tenant) -> Matrix:
    from flask import url_for

    from participation.debates.models import Argument, Comment
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

    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant_a.primary_host}"):
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith(STAFF_PREFIXES) or rule.endpoint in LOGIN_REQUIRED:
                values = {name: ids[name] for name in rule.arguments}
                urls[rule.endpoint] = url_for(rule.endpoint, **values)
                methods[rule.endpoint] = set(rule.methods)
        login = url_for("accounts.login")

    result = Matrix(app, tenant_a, urls, methods, login_path=login)
    result.ids = {**ids, "process_id": world.process_id}
    result.clients["anonymous"] = client_on(app, tenant_a)
    for column, person in people.items():
        client = client_on(app, tenant_a)
        forge_session(client, tenant_a, person, verified=True)
        result.clients[column] = client

    tenant_b = make_tenant()
    ensure_legal_documents(app, tenant_b)
    admin_b = create_person(app, tenant_b, "admin")
    client_b = client_on(app, tenant_b)
    forge_session(client_b, tenant_b, admin_b, verified=True)
    assert client_b.get("/gestion/moderation/").status_code == 200  # a real admin on B
    result.tokens["other_tenant_admin"] = csrf_for(client_b)
    result.clients["other_tenant_admin"] = _replay_cookie(app, tenant_a, session_cookie(client_b))

    operator, reason = _platform_operator(app)
    if operator is None:
        result.operator_skip = reason
    else:
        cookie, token = operator
        result.clients["operator"] = _replay_cookie(app, tenant_a, cookie)
        result.tokens["operator"] = token
    return result


def _client(matrix: Matrix, column: str):
    if column == "operator" and matrix.operator_skip:
        pytest.skip(matrix.operator_skip)
    return matrix.clients[column]


def _staff_urls(matrix: Matrix) -> dict[str, str]:
    return {e: u for e, u in matrix.urls.items() if e.startswith(STAFF_PREFIXES)}


def expected_get(column: str, endpoint: str) -> int:
    if column in STRANGERS:
        return 302
    if column == "citizen":
        return 403
    return 200 if column in ALLOWED[endpoint] else 403


def test_every_staff_route_is_in_the_matrix(matrix):
    assert set(_staff_urls(matrix)) == set(ALLOWED), (
        "a debate or moderation staff route was added or removed: list who may use it"
    )
    assert all(url.startswith("/gestion/") for url in _staff_urls(matrix).values())


@pytest.mark.parametrize("column", COLUMNS)
def test_staff_get_answers_exactly_as_expected(matrix, column):
    client = _client(matrix, column)
    wrong = []
    for endpoint, url in sorted(_staff_urls(matrix).items()):
        if "GET" not in matrix.methods[endpoint]:
            continue
        response = client.get(url)
        expected = expected_get(column, endpoint)
        if response.status_code != expected:
            wrong.append(f"{endpoint} {url}: {response.status_code}, expected {expected}")
        elif expected == 302 and urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"{endpoint}: redirected to {response.location}, not the log-in")
        elif expected == 403 and "réservée" not in response.get_data(as_text=True):
            wrong.append(f"{endpoint}: 403 without the French explanation")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_staff_post_writes_nothing(matrix, column):
    client = _client(matrix, column)
    before = fingerprint(matrix.app, matrix.tenant)
    wrong, tried = [], 0
    for endpoint, url in sorted(_staff_urls(matrix).items()):
        if "POST" not in matrix.methods[endpoint] or column in ALLOWED[endpoint]:
            continue
        tried += 1
        token = matrix.tokens.get(column) or csrf_for(client)
        extra = {
            key: value.format(**matrix.ids) for key, value in POST_DATA.get(endpoint, {}).items()
        }
        response = client.post(url, data={"csrf_token": token, **extra})
        expected = expected_post_refusal(column)
        if response.status_code != expected:
            wrong.append(f"POST {endpoint}: {response.status_code}, expected {expected}")
        elif expected == 302 and urlsplit(response.location).path != matrix.login_path:
            wrong.append(f"POST {endpoint}: redirected to {response.location}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint(matrix.app, matrix.tenant) == before
    if column not in MANAGERS:
        assert tried > 0


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
