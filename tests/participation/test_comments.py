"""Comments on processes, proposals and debates: threading to a fixed depth, Markdown
sanitised, edit window, soft delete, honeypot, posting limit.

This module also holds the fixtures of the engagement tests (debates, comments,
notifications, moderation): the other test modules import ``eng_app_fixture`` and
``world_fixture`` from here (registered under the names ``eng_app`` and ``world``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from tests.support import (
    client_on,
    create_person,
    ensure_legal_documents,
    forge_session,
    post,
    text,
)

# --------------------------------------------------------------------------- fixtures


@dataclass
class World:
    """A tenant with a published process whose current phase allows comments and debates,
    a proposal and a debate in it, and a closed process (phase over)."""

    app: object
    tenant: object
    process_id: int
    proposal_id: int
    debate_id: int
    closed_process_id: int
    closed_debate_id: int
    draft_process_id: int

    def person(self, role: str | None = None, **kwargs):
        return create_person(self.app, self.tenant, role, **kwargs)

    def client(self, person=None):
        client = client_on(self.app, self.tenant)
        if person is not None:
            forge_session(client, self.tenant, person, verified=True)
        return client

    def logged_in(self, role: str | None = None, **kwargs):
        person = self.person(role, **kwargs)
        return self.client(person), person

    def context(self):
        """``with world.context():`` inside the tenant (app context and tenant context)."""
        from contextlib import ExitStack

        from tenants.context import tenant_context

        stack = ExitStack()
        stack.enter_context(self.app.app_context())
        stack.enter_context(tenant_context(self.tenant))
        return stack


def _make_process(title: str, *, start: date, end: date, state: str = "published") -> int:
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState

    process = Process(title=title, summary="", description="", state=ProcessState(state))
    process.phases.append(
        Phase(
            position=0,
            kind=PhaseKind.CONTRIBUTIONS,
            title="Contributions",
            starts_on=start,
            ends_on=end,
            allows_propose=True,
            allows_support=True,
            allows_comment=True,
            allows_debate=True,
        )
    )
    db.session.add(process)
    db.session.flush()
    return process.id


def build_world(app, make_tenant) -> World:
    from participation.debates.models import Debate
    from participation.proposals.models import Proposal
    from tenants.context import tenant_context

    tenant = make_tenant()
    ensure_legal_documents(app, tenant)
    now = clock.paris_today()
    with app.app_context(), tenant_context(tenant):
        process_id = _make_process(
            "Rues apaisées", start=now - timedelta(days=10), end=now + timedelta(days=10)
        )
        closed_id = _make_process(
            "Budget 2025", start=now - timedelta(days=60), end=now - timedelta(days=30)
        )
        draft_id = _make_process(
            "Brouillon", start=now - timedelta(days=1), end=now + timedelta(days=1), state="draft"
        )
        proposal = Proposal(
            process_id=process_id, title="Des bancs place de la Réunion", body="Oui."
        )
        debate = Debate(process_id=process_id, question="Faut-il piétonniser la rue ?")
        closed_debate = Debate(process_id=closed_id, question="Faut-il un budget vert ?")
        db.session.add_all([proposal, debate, closed_debate])
        db.session.commit()
        return World(
            app,
            tenant,
            process_id,
            proposal.id,
            debate.id,
            closed_id,
            closed_debate.id,
            draft_id,
        )


@pytest.fixture(scope="module", name="world")
def world_fixture(eng_app, make_tenant) -> World:
    return build_world(eng_app, make_tenant)


def comment_on(client, target_type: str, target_id: int, body: str, parent_id=None, **extra):
    data = {
        "target_type": target_type,
        "target_id": str(target_id),
        "body": body,
        "next": f"/debats/{target_id}" if target_type == "debate" else "/",
        "website": "",
        **extra,
    }
    if parent_id is not None:
        data["parent_id"] = str(parent_id)
    return post(client, "/commentaires", data)


def comment_rows(world: World, **where) -> list:
    from participation.engagement.comments import Comment

    with world.context():
        query = sa.select(Comment).order_by(Comment.id)
        for name, value in where.items():
            query = query.where(getattr(Comment, name) == value)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def new_comment_id(response) -> int:
    match = re.search(r"#commentaire-(\d+)$", response.location or "")
    assert match, f"no comment anchor in {response.status_code} {response.location}"
    return int(match.group(1))


def flashes(client) -> list[str]:
    with client.session_transaction(base_url=client.base_url) as sess:
        return [message for _category, message in sess.get("_flashes", [])]


# --------------------------------------------------------------------------- threading


def test_comment_reply_and_depth_limit(world):
    from participation.engagement.comments import COMMENT_MAX_DEPTH

    client, author = world.logged_in()
    response = comment_on(client, "debate", world.debate_id, "Premier niveau")
    assert response.status_code == 303
    parent = new_comment_id(response)
    for level in range(1, COMMENT_MAX_DEPTH):
        response = comment_on(client, "debate", world.debate_id, f"Niveau {level}", parent)
        assert response.status_code == 303
        parent = new_comment_id(response)
    deepest = comment_rows(world, id=parent)[0]
    assert deepest.depth == COMMENT_MAX_DEPTH - 1

    before = len(comment_rows(world, debate_id=world.debate_id))
    response = comment_on(client, "debate", world.debate_id, "Trop profond", parent)
    assert response.status_code == 303
    assert "#commentaire-" not in response.location
    assert any("On ne peut pas répondre à ce niveau" in m for m in flashes(client))
    assert len(comment_rows(world, debate_id=world.debate_id)) == before


def test_the_parent_must_belong_to_the_same_target(world):
    client, _ = world.logged_in()
    parent = new_comment_id(comment_on(client, "proposal", world.proposal_id, "Sur la proposition"))
    response = comment_on(client, "debate", world.debate_id, "Réponse égarée", parent)
    assert response.status_code == 303
    assert any("n'est pas sur cette page" in m for m in flashes(client))
    assert not comment_rows(world, body="Réponse égarée")


def test_comments_on_each_kind_of_target_and_closed_ones(world):
    client, _ = world.logged_in()
    for target_type, target_id in (
        ("process", world.process_id),
        ("proposal", world.proposal_id),
        ("debate", world.debate_id),
    ):
        response = comment_on(client, target_type, target_id, f"Sur {target_type}")
        assert response.status_code == 303 and "#commentaire-" in response.location
    # Phase over, draft process, unknown target: refused, nothing saved.
    for target_type, target_id in (
        ("process", world.closed_process_id),
        ("debate", world.closed_debate_id),
        ("process", world.draft_process_id),
        ("proposal", 987654),
        ("user", 1),
    ):
        response = comment_on(client, target_type, target_id, "Refusé")
        assert response.status_code == 303 and "#commentaire-" not in response.location
    assert not comment_rows(world, body="Refusé")


def test_anonymous_cannot_comment(world):
    client = world.client()
    response = comment_on(client, "debate", world.debate_id, "Anonyme")
    assert response.status_code == 302 and "/connexion" in response.location
    assert not comment_rows(world, body="Anonyme")
    page = text(client.get(f"/debats/{world.debate_id}"))
    assert "Connectez-vous pour commenter" in page


def test_markdown_is_rendered_and_sanitised(world):
    client, _ = world.logged_in()
    body = (
        "**Important** [lien](https://exemple.fr) <script>alert(1)</script> "
        "[piège](javascript:alert(2)) <img src=x onerror=alert(3)>"
    )
    comment_id = new_comment_id(comment_on(client, "debate", world.debate_id, body))
    html = client.get(f"/debats/{world.debate_id}").get_data(as_text=True)
    block = html[html.index(f'id="commentaire-{comment_id}"') :]
    block = block[: block.index("</li>")]
    assert "<strong>Important</strong>" in block
    assert 'href="https://exemple.fr"' in block and 'rel="nofollow noopener noreferrer"' in block
    assert "<script" not in block and "<img" not in block
    assert 'href="javascript:' not in block


def test_comment_too_long_or_empty_is_refused(world):
    client, _ = world.logged_in()
    for body in ("   ", "x" * 5001):
        response = comment_on(client, "debate", world.debate_id, body)
        # Refused, back on the debate with the text typed and the reason (issue 13 §5).
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert body.strip() in page and 'class="flash flash-error"' in page
    assert not comment_rows(world, body="x" * 5001)
    assert flashes(client) == []  # shown on the page itself


# --------------------------------------------------------------------------- edit window


def _age_comment(world, comment_id: int, minutes: int) -> None:
    from participation.engagement.comments import Comment

    with world.context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == comment_id)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_the_author_can_edit_within_the_window_only(world):
    client, author = world.logged_in()
    comment_id = new_comment_id(comment_on(client, "debate", world.debate_id, "Version 1"))
    page = client.get(f"/commentaires/{comment_id}/modifier")
    assert page.status_code == 200 and "Version 1" in text(page)
    response = post(client, f"/commentaires/{comment_id}/modifier", {"body": "Version 2"})
    assert response.status_code == 303
    row = comment_rows(world, id=comment_id)[0]
    assert row.body == "Version 2" and row.edited_at is not None

    # Someone else may not, even within the window.
    other, _ = world.logged_in()
    response = post(other, f"/commentaires/{comment_id}/modifier", {"body": "Piraté"})
    assert response.status_code == 403
    assert comment_rows(world, id=comment_id)[0].body == "Version 2"

    # 16 minutes later: too late (the default window is 15 minutes).
    _age_comment(world, comment_id, 16)
    response = post(client, f"/commentaires/{comment_id}/modifier", {"body": "Version 3"})
    assert response.status_code == 303
    assert any("ne peut plus être modifié" in m for m in flashes(client))
    assert comment_rows(world, id=comment_id)[0].body == "Version 2"
    html = client.get(f"/debats/{world.debate_id}").get_data(as_text=True)
    assert f"/commentaires/{comment_id}/modifier" not in html


def test_the_edit_window_is_a_tenant_setting(world):
    from participation.debates import services
    from tenants.models import TenantSetting

    client, _ = world.logged_in()
    comment_id = new_comment_id(comment_on(client, "debate", world.debate_id, "Réglage"))
    _age_comment(world, comment_id, 20)
    with world.context():
        db.session.merge(TenantSetting(key=services.EDIT_WINDOW_SETTING, value=30))
        db.session.commit()
    try:
        response = post(client, f"/commentaires/{comment_id}/modifier", {"body": "Réglage 2"})
        assert response.status_code == 303
        assert comment_rows(world, id=comment_id)[0].body == "Réglage 2"
    finally:
        with world.context():
            db.session.execute(
                sa.delete(TenantSetting).where(TenantSetting.key == services.EDIT_WINDOW_SETTING)
            )
            db.session.commit()


# --------------------------------------------------------------------------- soft delete


def test_soft_delete_keeps_the_replies(world):
    client, author = world.logged_in()
    parent = new_comment_id(comment_on(client, "debate", world.debate_id, "Je vais partir"))
    replier, _ = world.logged_in()
    reply = new_comment_id(comment_on(replier, "debate", world.debate_id, "Je reste", parent))

    # Only the author may delete it.
    assert post(replier, f"/commentaires/{parent}/supprimer").status_code == 403
    confirm = client.get(f"/commentaires/{parent}/supprimer")
    assert confirm.status_code == 200 and "Supprimer votre commentaire" in text(confirm)
    response = post(client, f"/commentaires/{parent}/supprimer")
    assert response.status_code == 303

    row = comment_rows(world, id=parent)[0]
    assert row.deleted_at is not None and row.body == ""
    page = text(world.client().get(f"/debats/{world.debate_id}"))
    block = page[page.index(f'id="commentaire-{parent}"') :]
    assert "Commentaire supprimé" in block[:300]
    assert "Je vais partir" not in page
    assert f'id="commentaire-{reply}"' in page and "Je reste" in page
    # A deleted comment takes no more replies.
    comment_on(replier, "debate", world.debate_id, "Trop tard", parent)
    assert not comment_rows(world, body="Trop tard")


# --------------------------------------------------------------------------- antispam


def test_a_filled_honeypot_refuses_the_comment(world):
    client, _ = world.logged_in()
    response = comment_on(
        client, "debate", world.debate_id, "Achetez mes montres", website="https://spam.example"
    )
    assert response.status_code == 303
    assert flashes(client) == [
        "Votre envoi n'a pas pu être enregistré. Vérifiez votre message et réessayez."
    ]
    assert not comment_rows(world, body="Achetez mes montres")


def test_the_honeypot_is_rendered_with_a_label(world):
    client, _ = world.logged_in()
    html = client.get(f"/debats/{world.debate_id}").get_data(as_text=True)
    assert 'name="website"' in html and 'tabindex="-1"' in html
    assert "Ne remplissez pas ce champ" in text(client.get(f"/debats/{world.debate_id}"))


def test_posting_is_rate_limited_per_user(world):
    client, _ = world.logged_in()
    for number in range(10):
        response = comment_on(client, "debate", world.debate_id, f"Message {number}")
        assert response.status_code == 303, number
    response = comment_on(client, "debate", world.debate_id, "Le onzième")
    assert response.status_code == 429
    assert "Trop de tentatives" in text(response)
    assert not comment_rows(world, body="Le onzième")
    # Someone else, from the same address, still has their own budget.
    other, _ = world.logged_in()
    other.environ_base["REMOTE_ADDR"] = client.environ_base["REMOTE_ADDR"]
    assert comment_on(other, "debate", world.debate_id, "Autre personne").status_code == 303


def test_thread_queries_are_bounded(world):
    """Thirty comments by thirty people cost the same few queries as one."""
    from sqlalchemy import event

    from participation.debates.services import comment_thread
    from participation.engagement.comments import Comment

    people = [world.person() for _ in range(3)]
    with world.context():
        for index in range(30):
            db.session.add(
                Comment(
                    proposal_id=world.proposal_id,
                    author_id=people[index % 3].id,
                    body=f"Commentaire {index}",
                )
            )
        db.session.commit()
        statements = []

        def count(*args, **kwargs):
            statements.append(1)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            thread = comment_thread("proposal", world.proposal_id)
            names = [node.comment.author.public_name for node in thread.roots]
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(names) >= 30
        assert len(statements) <= 6, len(statements)


# --------------------------------------------------------------------------- pages


def _busy_proposal(world, roots: int) -> tuple[int, list[int], object]:
    """A new proposal of the world with ``roots`` top-level comments, a second apart, by
    one person; returns its id, the comment ids (oldest first) and that person."""
    from participation.engagement.comments import Comment
    from participation.proposals.models import Proposal

    author = world.person()
    with world.context():
        proposal = Proposal(process_id=world.process_id, title="Un kiosque", body="Au parc.")
        db.session.add(proposal)
        db.session.flush()
        start = datetime.now(UTC) - timedelta(hours=2)
        ids = db.session.scalars(
            sa.insert(Comment).returning(Comment.id),
            [
                {
                    "proposal_id": proposal.id,
                    "author_id": author.id,
                    "body": f"Avis n°{i:02d}",
                    "created_at": start + timedelta(seconds=i),
                    "updated_at": start + timedelta(seconds=i),
                }
                for i in range(roots)
            ],
        ).all()
        db.session.commit()
        return proposal.id, list(ids), author


def test_the_thread_shows_30_top_level_comments_per_page(world):
    proposal_id, ids, _author = _busy_proposal(world, 35)
    client, _ = world.logged_in()
    # A reply to a comment of the second page, and one to a reply, come with their root.
    reply = new_comment_id(comment_on(client, "proposal", proposal_id, "Réponse A", ids[31]))
    deeper = new_comment_id(comment_on(client, "proposal", proposal_id, "Réponse B", reply))

    first = client.get(f"/propositions/{proposal_id}")
    html = first.get_data(as_text=True)
    assert "Avis n°00" in html and "Avis n°29" in html and "Avis n°30" not in html
    assert "Réponse A" not in html
    assert "37 commentaires" in text(first)
    assert f'href="/propositions/{proposal_id}?commentaires=2#commentaires"' in html
    assert "Commentaires suivants" in html and "Commentaires plus anciens" not in html
    assert "Page 1 sur 2 des commentaires" in text(first)

    second = client.get(f"/propositions/{proposal_id}?commentaires=2")
    html = second.get_data(as_text=True)
    assert "Avis n°29" not in html and "Avis n°30" in html and "Avis n°34" in html
    # Threaded: the reply under its root, the reply to the reply under it.
    root_block = html[
        html.index(f'id="commentaire-{ids[31]}"') : html.index(f'id="commentaire-{ids[32]}"')
    ]
    assert f'id="commentaire-{reply}"' in root_block and f'id="commentaire-{deeper}"' in root_block
    assert f'href="/propositions/{proposal_id}#commentaires"' in html
    assert "Commentaires plus anciens" in html and "Commentaires suivants" not in html

    # Out of range or not a number: the nearest page, never an error.
    assert "Avis n°34" in client.get(f"/propositions/{proposal_id}?commentaires=99").get_data(
        as_text=True
    )
    assert "Avis n°00" in client.get(f"/propositions/{proposal_id}?commentaires=abc").get_data(
        as_text=True
    )
    # A short thread has no page links.
    assert "Commentaires suivants" not in client.get(f"/debats/{world.debate_id}").get_data(
        as_text=True
    )


def test_links_to_a_comment_open_the_page_that_shows_it(world):
    """After posting, editing or deleting, and in the notification, the link opens the
    thread's page of the comment's top-level comment, scrolled to it."""
    proposal_id, ids, author = _busy_proposal(world, 31)
    client, _ = world.logged_in()
    page = f"/propositions/{proposal_id}"
    response = comment_on(client, "proposal", proposal_id, "Sur la page 2", ids[30], next=page)
    reply = new_comment_id(response)
    assert response.location.endswith(f"{page}?commentaires=2#commentaire-{reply}")
    # The author of the comment answered is told, with the same link.
    from participation.engagement.models import Notification

    with world.context():
        urls = db.session.scalars(
            sa.select(Notification.url).where(Notification.user_id == author.id)
        ).all()
    assert any(url.endswith(f"{page}?commentaires=2#commentaire-{reply}") for url in urls), urls

    edit = client.get(f"/commentaires/{reply}/modifier?next={page}")
    assert f'href="{page}?commentaires=2#commentaire-{reply}"' in edit.get_data(as_text=True)
    saved = post(client, f"/commentaires/{reply}/modifier", {"body": "Corrigé", "next": page})
    assert saved.location.endswith(f"{page}?commentaires=2#commentaire-{reply}")
    # A comment on the first page has no page argument.
    first = new_comment_id(comment_on(client, "proposal", proposal_id, "Page 1", ids[0], next=page))
    deleted = post(client, f"/commentaires/{first}/supprimer", {"next": page})
    assert deleted.location.endswith(f"{page}#commentaire-{first}")
