"""Authorisation matrix of every route of network.core, network.library and network.forum
(platform domain) and of ``staff_network`` (tenant host): each route × each kind of visitor
gets exactly the expected answer, and a refused POST writes nothing in the public tables.

The network is members-only (no public section): the strictest case. Public sections are
covered in test_visibility.py.
"""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    client_on,
    create_person,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    platform_client,
    platform_user,
)
from tests.support.network import make_network

VISITORS = [
    "anonymous",
    "unverified_member",  # password given, not the second factor
    "outsider",  # member account of a tenant outside the network
    "other_coordinator",  # coordinator account not named in this network
    "member",
    "author",  # member of the tenant that wrote the practice
    "evaluator",
    "coordinator",
    "operator",
]
EVERYONE = frozenset(VISITORS)
INSIDERS = frozenset({"member", "author", "evaluator", "coordinator", "operator"})
MANAGERS = frozenset({"coordinator", "operator"})
CONTRIBUTORS = frozenset({"member", "author", "coordinator"})
POSTERS = frozenset({"member", "author", "coordinator", "evaluator"})
EDITORS = frozenset({"author", "coordinator"})
ADOPTERS = frozenset({"member", "author"})
OPERATOR = frozenset({"operator"})

#: (method, endpoint) -> who is allowed; the others get 403, or a redirect to the log-in
#: (anonymous) / second-factor page (unverified) on routes that need a verified session.
PLATFORM_MATRIX = {
    ("GET", "network.index"): EVERYONE,
    ("GET", "network.static"): EVERYONE,
    ("GET", "network.show"): EVERYONE,
    ("GET", "network.members"): INSIDERS,
    ("GET", "network.manage"): MANAGERS,
    ("POST", "network.manage_sections"): MANAGERS,
    ("POST", "network.invite"): MANAGERS,
    ("POST", "network.cancel_invitation"): MANAGERS,
    ("GET", "network.operator_index"): OPERATOR,
    ("GET", "network.operator_new"): OPERATOR,
    ("POST", "network.operator_new"): OPERATOR,
    ("GET", "network.operator_edit"): OPERATOR,
    ("POST", "network.operator_edit"): OPERATOR,
    ("POST", "network.operator_grant"): OPERATOR,
    ("POST", "network.operator_revoke"): OPERATOR,
    ("GET", "network_library.index"): INSIDERS,
    ("GET", "network_library.new"): CONTRIBUTORS,
    ("POST", "network_library.new"): CONTRIBUTORS,
    ("GET", "network_library.show"): INSIDERS,
    ("GET", "network_library.edit"): EDITORS,
    ("POST", "network_library.edit"): EDITORS,
    ("POST", "network_library.comment"): POSTERS,
    ("POST", "network_library.upload"): EDITORS,
    ("GET", "network_library.download"): INSIDERS,
    ("POST", "network_library.delete_attachment"): EDITORS,
    ("POST", "network_library.adopt"): ADOPTERS,
    ("POST", "network_library.delete"): EDITORS | OPERATOR,
    # The comment, question and answer of these routes are written by "member".
    ("POST", "network_library.delete_comment"): frozenset({"member"}) | MANAGERS,
    ("POST", "network_forum.delete_question"): frozenset({"member"}) | MANAGERS,
    ("POST", "network_forum.delete_answer"): frozenset({"member"}) | MANAGERS,
    ("GET", "network_forum.index"): INSIDERS,
    ("GET", "network_forum.ask"): POSTERS,
    ("POST", "network_forum.ask"): POSTERS,
    ("GET", "network_forum.show"): INSIDERS,
    ("POST", "network_forum.answer"): POSTERS,
}
#: Pages readable without an account (refused visitors get 403, never a log-in redirect).
NO_LOGIN = {
    "network.index",
    "network.static",
    "network.show",
    "network.members",
    "network_library.index",
    "network_library.show",
    "network_library.download",
    "network_forum.index",
    "network_forum.show",
}
PUBLIC_TABLES = (
    "networks",
    "network_roles",
    "network_memberships",
    "network_practices",
    "network_practice_attachments",
    "network_practice_comments",
    "network_practice_adoptions",
    "network_forum_questions",
    "network_forum_answers",
)


def fingerprint(app) -> dict[str, str]:
    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in PUBLIC_TABLES:
            out[table] = conn.scalar(
                sa.text(
                    "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f"FROM public.{table} t"
                )
            )
    return out


@pytest.fixture(scope="module")
def world(net_app, make_tenant, tmp_path_factory):
    from network.forum.models import ForumQuestion
    from network.library.models import (
        Practice,
        PracticeAttachment,
        PracticeCategory,
        PracticeOutcome,
    )

    net_app.config["UPLOAD_FOLDER"] = str(tmp_path_factory.mktemp("uploads"))
    member_tenant, author_tenant, outsider_tenant = make_tenant(), make_tenant(), make_tenant()
    for tenant in (member_tenant, author_tenant, outsider_tenant):
        ensure_legal_documents(net_app, tenant)
    coordinator_id, _ = platform_user(net_app, "coordinator")
    evaluator_id, _ = platform_user(net_app, "coordinator")
    network = make_network(
        net_app,
        members=[member_tenant, author_tenant],
        public_sections=(),
        coordinator_id=coordinator_id,
        evaluator_id=evaluator_id,
    )
    ids = {
        "coordinator": coordinator_id,
        "evaluator": evaluator_id,
        "member": platform_user(net_app, "member", member_tenant.id)[0],
        "unverified_member": platform_user(net_app, "member", member_tenant.id)[0],
        "author": platform_user(net_app, "member", author_tenant.id)[0],
        "outsider": platform_user(net_app, "member", outsider_tenant.id)[0],
        "other_coordinator": platform_user(net_app, "coordinator")[0],
        "operator": platform_user(net_app, "operator")[0],
    }
    with net_app.app_context():
        practice = Practice(
            network_id=network["id"],
            category=PracticeCategory.EXPERIENCE,
            outcome=PracticeOutcome.SUCCESS,
            title="Pratique de la matrice",
            summary="Résumé.",
            body="Corps.",
            lessons="Leçons.",
            tags=["matrice"],
            tags_text="matrice",
            author_id=ids["author"],
            author_tenant_id=author_tenant.id,
            process_template={
                "title": "Modèle",
                "summary": "",
                "phases": [
                    {
                        "kind": "information",
                        "title": "Infos",
                        "description": "",
                        "weeks": 1,
                        "actions": [],
                    }
                ],
            },
        )
        db.session.add(practice)
        question = ForumQuestion(
            network_id=network["id"], author_id=ids["member"], title="Question ?", body="Corps"
        )
        db.session.add(question)
        db.session.commit()
        practice_id, question_id = practice.id, question.id

    def new_attachment() -> int:
        from network.library.services import attachment_folder

        with net_app.app_context():
            stored = f"{uuid.uuid4().hex}.pdf"
            folder = attachment_folder(network["id"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / stored).write_bytes(b"%PDF-1.4 matrice")
            row = PracticeAttachment(
                practice_id=practice_id,
                filename="matrice.pdf",
                stored_name=stored,
                content_type="application/pdf",
                size=16,
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def new_practice() -> int:
        with net_app.app_context():
            row = Practice(
                network_id=network["id"],
                category=PracticeCategory.TOOL,
                title="Pratique à supprimer",
                summary="Résumé.",
                author_id=ids["author"],
                author_tenant_id=author_tenant.id,
                tags=[],
                tags_text="",
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def new_comment(practice: int) -> int:
        from network.library.models import PracticeComment

        with net_app.app_context():
            row = PracticeComment(practice_id=practice, author_id=ids["member"], body="À ôter")
            db.session.add(row)
            db.session.commit()
            return row.id

    def new_question() -> int:
        with net_app.app_context():
            row = ForumQuestion(
                network_id=network["id"], author_id=ids["member"], title="À ôter", body="x"
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def new_answer(question: int) -> int:
        from network.forum.models import ForumAnswer

        with net_app.app_context():
            row = ForumAnswer(question_id=question, author_id=ids["member"], body="À ôter")
            db.session.add(row)
            db.session.commit()
            return row.id

    def new_invitation() -> int:
        tenant = make_tenant(provision=False)  # an invitation only needs the row
        with net_app.app_context():
            db.session.execute(
                sa.text(
                    "INSERT INTO public.network_memberships (network_id, tenant_id, status) "
                    "VALUES (:n, :t, 'invited')"
                ),
                {"n": network["id"], "t": tenant.id},
            )
            db.session.commit()
        return tenant.id

    return {
        "network": network,
        "ids": ids,
        "practice_id": practice_id,
        "question_id": question_id,
        "attachment_id": new_attachment(),
        "new_attachment": new_attachment,
        "new_invitation": new_invitation,
        "new_practice": new_practice,
        "new_comment": new_comment,
        "new_question": new_question,
        "new_answer": new_answer,
        "invited_tenant": new_invitation(),
        "member_tenant": member_tenant,
        "outsider_tenant": outsider_tenant,
    }


def _client(app, world, visitor):
    if visitor == "anonymous":
        return platform_client(app)
    return platform_client(app, world["ids"][visitor], verified=visitor != "unverified_member")


def _values(world, endpoint, fresh: bool) -> dict:
    """URL values; destructive routes get objects of their own (a fresh one per allowed
    call, so that the next visitor still finds something to act on)."""
    practice_id, question_id = world["practice_id"], world["question_id"]
    if endpoint == "network_library.delete":
        practice_id = world["new_practice"]()
    if endpoint == "network_forum.delete_question":
        question_id = world["new_question"]()
    values = {
        "slug": world["network"]["slug"],
        "practice_id": practice_id,
        "question_id": question_id,
        "attachment_id": world["new_attachment"]() if fresh else world["attachment_id"],
        "tenant_id": world["new_invitation"]() if fresh else world["invited_tenant"],
        "comment_id": world["new_comment"](practice_id),
        "answer_id": world["new_answer"](question_id),
        "user_id": world["ids"]["evaluator"],
        "role": "evaluator",
        "filename": "network.css",
    }
    return values


def _data(world, endpoint) -> dict:
    return {
        "network.manage_sections": {"sections": []},
        "network.invite": {"tenant_id": str(world["outsider_tenant"].id)},
        "network.operator_new": {"name": f"Réseau matrice {uuid.uuid4().hex[:6]}"},
        "network.operator_edit": {"name": world["network"]["name"], "description": "Matrice"},
        "network.operator_grant": {
            "user_id": world["ids"]["other_coordinator"],
            "role": "evaluator",
        },
        "network_library.new": {
            "category": "tool",
            "title": "Pratique matrice",
            "summary": "Résumé",
            "body": "",
            "tags": "",
        },
        "network_library.edit": {
            "category": "experience",
            "title": "Pratique de la matrice",
            "summary": "Résumé.",
            "body": "Corps modifié.",
            "outcome": "success",
            "lessons": "Leçons.",
            "tags": "matrice",
            "template_title": "Modèle",
            "template_phases-0-title": "Infos",
            "template_phases-0-kind": "information",
            "template_phases-0-weeks": "1",
        },
        "network_library.comment": {"body": "Commentaire de matrice"},
        "network_library.upload": {"file": (io.BytesIO(b"%PDF-1.4 up"), "up.pdf")},
        "network_forum.ask": {"title": "Question de matrice", "body": "Corps"},
        "network_forum.answer": {"body": "Réponse de matrice"},
    }.get(endpoint, {})


def _url(app, endpoint, values) -> str:
    from flask import url_for

    from tests.support import PLATFORM

    with app.test_request_context("/", base_url=f"http://{PLATFORM}"):
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        return url_for(endpoint, **{k: v for k, v in values.items() if k in rule.arguments})


def test_every_route_is_in_the_matrix(net_app):
    prefixes = ("network.", "network_library.", "network_forum.")
    routes = {
        (method, rule.endpoint)
        for rule in net_app.url_map.iter_rules()
        if rule.endpoint.startswith(prefixes)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(PLATFORM_MATRIX)


@pytest.mark.parametrize("visitor", VISITORS)
def test_platform_routes(net_app, world, visitor):
    client = _client(net_app, world, visitor)
    for (method, endpoint), allowed in PLATFORM_MATRIX.items():
        is_allowed = visitor in allowed
        url = _url(net_app, endpoint, _values(world, endpoint, fresh=is_allowed))
        label = f"{visitor} {method} {endpoint} ({url})"
        if method == "GET":
            response = client.get(url)
            if is_allowed:
                assert response.status_code == 200, label
                continue
        else:
            before = fingerprint(net_app)
            response = client.post(
                url,
                data={"csrf_token": csrf_for(client), **_data(world, endpoint)},
                content_type="multipart/form-data",
            )
            if is_allowed:
                assert response.status_code in (200, 302), label
                assert "/connexion" not in response.headers.get("Location", ""), label
                continue
            assert fingerprint(net_app) == before, f"{label} wrote something"
        if visitor in ("anonymous", "unverified_member") and endpoint not in NO_LOGIN:
            assert response.status_code == 302, label
            assert "/connexion" in response.headers["Location"], label
        else:
            assert response.status_code == 403, label


STAFF_VISITORS = ["anonymous", "citizen", "moderator", "admin", "other_tenant_admin"]
STAFF_MATRIX = {
    ("GET", "staff_network.index"): frozenset({"moderator", "admin"}),
    ("POST", "staff_network.respond"): frozenset({"admin"}),
}


def test_every_staff_route_is_in_the_matrix(net_app):
    routes = {
        (method, rule.endpoint)
        for rule in net_app.url_map.iter_rules()
        if rule.endpoint.startswith("staff_network.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(STAFF_MATRIX)


@pytest.mark.parametrize("visitor", STAFF_VISITORS)
def test_staff_routes(net_app, world, make_tenant, visitor):
    tenant = world["member_tenant"]
    network = make_network(net_app, invited=[tenant])
    with net_app.app_context():
        membership_id = db.session.scalar(
            sa.text(
                "SELECT id FROM public.network_memberships WHERE network_id = :n AND tenant_id = :t"
            ),
            {"n": network["id"], "t": tenant.id},
        )
    client = client_on(net_app, tenant)
    if visitor in ("citizen", "moderator", "admin"):
        person = create_person(net_app, tenant, None if visitor == "citizen" else visitor)
        forge_session(client, tenant, person, verified=True)
    elif visitor == "other_tenant_admin":
        other = make_tenant()
        ensure_legal_documents(net_app, other)
        person = create_person(net_app, other, "admin")
        forge_session(client, other, person, verified=True)
    index = client.get("/gestion/reseaux")
    before = fingerprint(net_app)
    respond = client.post(
        f"/gestion/reseaux/{membership_id}/accepter", data={"csrf_token": csrf_for(client)}
    )
    for (method, _endpoint), allowed in STAFF_MATRIX.items():
        response = index if method == "GET" else respond
        if visitor in allowed:
            assert response.status_code == (200 if method == "GET" else 302), (visitor, method)
        elif visitor in ("anonymous", "other_tenant_admin"):
            # Not logged in on this host (a session of another tenant is not a session here).
            assert response.status_code == 302 and "connexion" in response.headers["Location"]
        else:
            assert response.status_code == 403, (visitor, method)
    if visitor != "admin":
        assert fingerprint(net_app) == before
    else:
        assert fingerprint(net_app) != before
