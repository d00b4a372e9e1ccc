"""Practice library: contribution rules, French full-text search, attachments checked by
content, comments, and the adoption of a template copied into the adopting tenant only."""

from __future__ import annotations

import io

import sqlalchemy as sa

from core.db import db
from tests.network.test_commitments import real_pdf
from tests.support import platform_client, platform_user, text
from tests.support import post as post_platform
from tests.support.network import make_network

TEMPLATE_FORM = {
    "category": "experience",
    "title": "Budget participatif des collégiens",
    "summary": "Un budget décidé par les collégiens.",
    "body": "Les **ateliers** en classe.",
    "outcome": "success",
    "lessons": "Aller dans les classes change tout.",
    "tags": "Budget participatif, jeunes",
    "template_title": "Budget des collégiens",
    "template_summary": "Dépôt, étude, vote.",
    "template_phases-0-title": "Dépôt des projets",
    "template_phases-0-kind": "contributions",
    "template_phases-0-weeks": "6",
    "template_phases-0-actions": ["propose", "comment"],
    "template_phases-1-title": "Vote",
    "template_phases-1-kind": "vote",
    "template_phases-1-weeks": "2",
    "template_phases-1-actions": ["support"],
}


def _practice_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_member_shares_an_experience_and_search_finds_it(net_app, member_tenant):
    network = make_network(net_app, members=[member_tenant], public_sections=())
    member_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    member = platform_client(net_app, member_id)
    base = f"/reseaux/{network['slug']}/pratiques"
    practice_id = _practice_id(post_platform(member, f"{base}/nouvelle", TEMPLATE_FORM))
    with net_app.app_context():
        row = db.session.execute(
            sa.text(
                "SELECT author_tenant_id, tags, outcome, process_template "
                "FROM public.network_practices WHERE id = :i"
            ),
            {"i": practice_id},
        ).one()
    assert row.author_tenant_id == member_tenant.id
    assert row.tags == ["budget participatif", "jeunes"]
    assert row.outcome == "success"
    assert [p["weeks"] for p in row.process_template["phases"]] == [6, 2]
    assert row.process_template["phases"][0]["actions"] == ["propose", "comment"]

    # French stemming: "collégien" finds "collégiens"; another word does not.
    found = text(member.get(f"{base}?q=collégien"))
    assert "Budget participatif des collégiens" in found
    assert "Budget participatif des collégiens" not in text(member.get(f"{base}?q=tramway"))
    assert "Budget participatif des collégiens" in text(member.get(f"{base}?tag=jeunes"))
    assert "Budget participatif des collégiens" not in text(member.get(f"{base}?outcome=failure"))
    page = text(member.get(f"{base}/{practice_id}"))
    assert "<strong>ateliers</strong>" in page and "Adopter cette pratique" in page


def test_an_experience_needs_an_outcome_and_lessons(net_app, member_tenant):
    network = make_network(net_app, members=[member_tenant])
    member_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    member = platform_client(net_app, member_id)
    data = {**TEMPLATE_FORM, "outcome": "", "lessons": ""}
    response = post_platform(member, f"/reseaux/{network['slug']}/pratiques/nouvelle", data)
    assert response.status_code == 200
    assert "Indiquez le résultat de l'expérience" in text(response)


def test_library_is_members_only_unless_public(net_app, member_tenant, make_tenant):
    network = make_network(net_app, members=[member_tenant], public_sections=())
    base = f"/reseaux/{network['slug']}/pratiques"
    assert platform_client(net_app).get(base).status_code == 403
    outsider_tenant = make_tenant()
    outsider_id, _ = platform_user(net_app, "member", tenant_id=outsider_tenant.id)
    outsider = platform_client(net_app, outsider_id)
    assert outsider.get(base).status_code == 403
    member_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    assert platform_client(net_app, member_id).get(base).status_code == 200
    # A member whose second factor is not given this session is an outsider.
    assert platform_client(net_app, member_id, verified=False).get(base).status_code == 403

    public = make_network(net_app, members=[member_tenant], public_sections=("library",))
    anonymous = platform_client(net_app)
    assert anonymous.get(f"/reseaux/{public['slug']}/pratiques").status_code == 200
    # Public reading, but writing stays with members.
    response = outsider.get(f"/reseaux/{public['slug']}/pratiques/nouvelle")
    assert response.status_code == 403


def test_adoption_copies_the_template_into_the_adopting_tenant_only(
    net_app, member_tenant, make_tenant
):
    from tests.support import ensure_legal_documents

    other_tenant = make_tenant()
    ensure_legal_documents(net_app, other_tenant)
    network = make_network(net_app, members=[member_tenant, other_tenant])
    author_id, _ = platform_user(net_app, "member", tenant_id=other_tenant.id)
    base = f"/reseaux/{network['slug']}/pratiques"
    practice_id = _practice_id(
        post_platform(platform_client(net_app, author_id), f"{base}/nouvelle", TEMPLATE_FORM)
    )

    def processes(tenant):
        with net_app.app_context():
            return db.session.execute(
                sa.text(f'SELECT id, title, state FROM "{tenant.schema}".processes ORDER BY id')
            ).all()

    before_member, before_other = processes(member_tenant), processes(other_tenant)
    adopter_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    adopter = platform_client(net_app, adopter_id)
    response = post_platform(adopter, f"{base}/{practice_id}/adopter")
    assert response.status_code == 302
    # RQ_ASYNC is off in tests: the job ran at commit, inside the adopter's tenant.
    after_member, after_other = processes(member_tenant), processes(other_tenant)
    assert after_other == before_other
    new = [row for row in after_member if row not in before_member]
    assert len(new) == 1 and new[0].title == "Budget des collégiens" and new[0].state == "draft"
    with net_app.app_context():
        phases = db.session.execute(
            sa.text(
                f"SELECT kind, title, starts_on, ends_on, allows_propose, allows_support "
                f'FROM "{member_tenant.schema}".phases WHERE process_id = :p ORDER BY position'
            ),
            {"p": new[0].id},
        ).all()
        adoption = db.session.execute(
            sa.text(
                "SELECT tenant_id, status, process_id FROM public.network_practice_adoptions "
                "WHERE practice_id = :p"
            ),
            {"p": practice_id},
        ).one()
        audit = db.session.execute(
            sa.text(
                f'SELECT actor_label, target_id FROM "{member_tenant.schema}".audit_log '
                "WHERE action = 'network.practice_adopted'"
            )
        ).all()
    assert [(p.kind, p.title) for p in phases] == [
        ("contributions", "Dépôt des projets"),
        ("vote", "Vote"),
    ]
    assert (phases[0].ends_on - phases[0].starts_on).days == 6 * 7 - 1
    assert (phases[1].starts_on - phases[0].ends_on).days == 1
    assert phases[0].allows_propose and not phases[0].allows_support and phases[1].allows_support
    assert tuple(adoption) == (member_tenant.id, "done", new[0].id)
    assert audit and audit[0].target_id == str(new[0].id)
    page = text(adopter.get(f"{base}/{practice_id}"))
    assert "Copiée en brouillon" in page
    assert f"http://{member_tenant.primary_host}/gestion/demarches/{new[0].id}" in page

    # Running the job again (a retry) creates nothing new.
    from network.library.tasks import copy_practice_template

    with net_app.app_context():
        adoption_id = db.session.scalar(
            sa.text("SELECT id FROM public.network_practice_adoptions WHERE practice_id = :p"),
            {"p": practice_id},
        )
    with net_app.app_context():
        assert copy_practice_template(member_tenant.id, adoption_id) == new[0].id
    # And a job enqueued for the wrong tenant does nothing.
    with net_app.app_context():
        assert copy_practice_template(other_tenant.id, adoption_id) is None
    assert processes(member_tenant) == after_member and processes(other_tenant) == before_other


def test_coordinators_and_outsiders_cannot_adopt(net_app, member_tenant):
    coordinator_id, _ = platform_user(net_app, "coordinator")
    network = make_network(
        net_app,
        members=[member_tenant],
        coordinator_id=coordinator_id,
        public_sections=("library",),
    )
    author_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    base = f"/reseaux/{network['slug']}/pratiques"
    practice_id = _practice_id(
        post_platform(platform_client(net_app, author_id), f"{base}/nouvelle", TEMPLATE_FORM)
    )
    coordinator = platform_client(net_app, coordinator_id)
    assert post_platform(coordinator, f"{base}/{practice_id}/adopter").status_code == 403
    with net_app.app_context():
        assert not db.session.scalar(
            sa.text(
                "SELECT count(*) FROM public.network_practice_adoptions WHERE practice_id = :p"
            ),
            {"p": practice_id},
        )


def test_attachments_are_checked_by_content(net_app, member_tenant, tmp_path):
    net_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    network = make_network(net_app, members=[member_tenant], public_sections=())
    member_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    member = platform_client(net_app, member_id)
    base = f"/reseaux/{network['slug']}/pratiques"
    practice_id = _practice_id(post_platform(member, f"{base}/nouvelle", TEMPLATE_FORM))

    def upload(name: str, data: bytes):
        return post_platform(
            member,
            f"{base}/{practice_id}/pieces-jointes",
            {"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
            follow_redirects=True,
        )

    refused = upload("rapport.pdf", b"<html><script>alert(1)</script></html>")
    assert "ne correspond pas à son extension" in text(refused)
    assert "Formats acceptés" in text(upload("page.html", b"<html></html>"))
    accepted = upload("Bilan 2025.pdf", real_pdf("Bilan"))
    assert "Bilan 2025.pdf" in text(accepted)
    with net_app.app_context():
        attachment_id, stored = db.session.execute(
            sa.text(
                "SELECT id, stored_name FROM public.network_practice_attachments "
                "WHERE practice_id = :p"
            ),
            {"p": practice_id},
        ).one()
    assert "Bilan" not in stored and stored.endswith(".pdf")
    response = member.get(f"{base}/{practice_id}/pieces-jointes/{attachment_id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    # Anonymous visitors of a members-only library cannot download it.
    anonymous = platform_client(net_app)
    assert anonymous.get(f"{base}/{practice_id}/pieces-jointes/{attachment_id}").status_code == 403
    assert (
        post_platform(
            member, f"{base}/{practice_id}/pieces-jointes/{attachment_id}/supprimer"
        ).status_code
        == 302
    )
    assert not list(tmp_path.rglob(stored))


def test_members_comment_and_text_is_sanitised(net_app, member_tenant):
    evaluator_id, _ = platform_user(net_app, "coordinator")
    network = make_network(net_app, members=[member_tenant], evaluator_id=evaluator_id)
    member_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    member = platform_client(net_app, member_id)
    base = f"/reseaux/{network['slug']}/pratiques"
    practice_id = _practice_id(post_platform(member, f"{base}/nouvelle", TEMPLATE_FORM))
    evaluator = platform_client(net_app, evaluator_id)
    post_platform(
        evaluator,
        f"{base}/{practice_id}/commentaires",
        {"body": "Très utile <script>alert('x')</script> **merci**"},
    )
    page = member.get(f"{base}/{practice_id}").get_data(as_text=True)
    assert "<strong>merci</strong>" in page and "<script>alert" not in page


def test_coordinator_deletes_a_practice_with_its_files(net_app, member_tenant, tmp_path):
    from tests.support.network import platform_audit

    net_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    coordinator_id, _ = platform_user(net_app, "coordinator")
    network = make_network(net_app, members=[member_tenant], coordinator_id=coordinator_id)
    member_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    member = platform_client(net_app, member_id)
    base = f"/reseaux/{network['slug']}/pratiques"
    practice_id = _practice_id(post_platform(member, f"{base}/nouvelle", TEMPLATE_FORM))
    post_platform(
        member,
        f"{base}/{practice_id}/pieces-jointes",
        {"file": (io.BytesIO(real_pdf("bilan")), "bilan.pdf")},
        content_type="multipart/form-data",
    )
    post_platform(member, f"{base}/{practice_id}/commentaires", {"body": "Mon commentaire"})
    assert len(list(tmp_path.rglob("*.pdf"))) == 1
    coordinator = platform_client(net_app, coordinator_id)
    response = post_platform(coordinator, f"{base}/{practice_id}/supprimer")
    assert response.status_code == 302
    assert member.get(f"{base}/{practice_id}").status_code == 404
    assert not list(tmp_path.rglob("*.pdf"))
    with net_app.app_context():
        left = db.session.scalar(
            sa.text("SELECT count(*) FROM public.network_practice_comments WHERE practice_id = :p"),
            {"p": practice_id},
        )
    assert left == 0
    assert any(
        r["target_id"] == str(practice_id) and r["actor_id"] == coordinator_id
        for r in platform_audit(net_app, "network.practice_deleted")
    )
