"""Moderation: reports by logged-in people, the staff queue, hide / restore with a reason,
dismissing reports, blocking and unblocking an account; every action audited."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from tests.participation.test_comments import (  # noqa: F401 - fixtures
    World,
    comment_on,
    flashes,
    new_comment_id,
    post,
    world_fixture,
)
from tests.participation.test_debates import argue, new_argument_id
from tests.support import PASSWORD, text
from tests.support.staff import audit_rows


def reports(world: World, target_type: str, target_id: int) -> list:
    from participation.engagement.models import Report

    with world.context():
        rows = list(
            db.session.scalars(
                sa.select(Report)
                .where(Report.target_type == target_type, Report.target_id == target_id)
                .order_by(Report.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def row(world: World, model_name: str, row_id: int):
    from participation.accounts.models import User
    from participation.debates.models import Argument
    from participation.engagement.comments import Comment
    from participation.proposals.models import Proposal

    model = {"comment": Comment, "argument": Argument, "proposal": Proposal, "user": User}[
        model_name
    ]
    with world.context():
        found = db.session.get(model, row_id)
        db.session.expunge(found)
        return found


def report(client, target_type: str, target_id: int, reason: str = "abuse", **extra):
    data = {"reason": reason, "details": "", "website": "", **extra}
    return post(client, f"/signaler/{target_type}/{target_id}", data)


def a_comment(world: World, body: str, author=None):
    client, person = (world.client(author), author) if author else world.logged_in()
    comment_id = new_comment_id(comment_on(client, "debate", world.debate_id, body))
    return client, person, comment_id


# --------------------------------------------------------------------------- reports


def test_report_a_comment(world):
    _, author, comment_id = a_comment(world, "Propos limite")
    client, reporter = world.logged_in()
    page = client.get(f"/signaler/comment/{comment_id}?next=/debats/{world.debate_id}")
    assert page.status_code == 200
    html = text(page)
    assert "Propos limite" in html and "Insultes ou harcèlement" in html
    response = report(client, "comment", comment_id, details="Agressif", next="/debats/1")
    assert response.status_code == 303 and response.location.endswith("/debats/1")
    rows = reports(world, "comment", comment_id)
    assert [(r.reporter_id, r.reason.value, r.details, r.status.value) for r in rows] == [
        (reporter.id, "abuse", "Agressif", "open")
    ]
    # Twice: refused with a message.
    report(client, "comment", comment_id)
    assert len(reports(world, "comment", comment_id)) == 1
    assert any("déjà signalé" in m for m in flashes(client))


def test_report_rules(world):
    author_client, author, comment_id = a_comment(world, "À moi")
    # Not one's own content.
    report(author_client, "comment", comment_id)
    assert not reports(world, "comment", comment_id)
    client, _ = world.logged_in()
    # "Autre raison" needs details.
    response = report(client, "comment", comment_id, reason="other")
    assert response.status_code == 400 and "Précisez la raison" in text(response)
    # The honeypot.
    response = report(client, "comment", comment_id, website="http://spam.example")
    assert response.status_code == 400
    assert "Votre envoi n'a pas pu être enregistré." in text(response)
    assert not reports(world, "comment", comment_id)
    # Not reportable, or unknown.
    assert client.get(f"/signaler/debate/{world.debate_id}").status_code == 404
    assert client.get("/signaler/comment/987654").status_code == 404
    # Anonymous visitors log in first.
    response = world.client().get(f"/signaler/comment/{comment_id}")
    assert response.status_code == 302 and "/connexion" in response.location


def test_report_an_argument_and_a_proposal(world):
    client, _ = world.logged_in()
    argument_id = new_argument_id(argue(client, world.debate_id, "Argument douteux"))
    other, _ = world.logged_in()
    assert report(other, "argument", argument_id, reason="spam").status_code == 303
    assert report(other, "proposal", world.proposal_id, reason="off_topic").status_code == 303
    assert len(reports(world, "argument", argument_id)) == 1
    assert len(reports(world, "proposal", world.proposal_id)) >= 1


# --------------------------------------------------------------------------- queue


def test_the_queue_groups_reports_by_target(world):
    _, author, comment_id = a_comment(world, "Contenu très signalé")
    for reason in ("abuse", "hate"):
        client, _ = world.logged_in()
        report(client, "comment", comment_id, reason=reason)
    moderator, _ = world.logged_in("moderator")
    html = text(moderator.get("/gestion/moderation/"))
    assert html.count(f"Commentaire n° {comment_id}") == 1
    block = html[html.index(f"Commentaire n° {comment_id}") :]
    block = block[: block.index("</li>")]
    assert "2 signalements" in block
    assert "Insultes ou harcèlement" in block and "Propos haineux" in block
    assert "Contenu très signalé" in block and author.display_name in block


# --------------------------------------------------------------------------- hide / restore


def test_hide_and_restore_a_comment(world):
    _, author, comment_id = a_comment(world, "Texte insultant")
    reporter, _ = world.logged_in()
    report(reporter, "comment", comment_id)
    moderator, mod = world.logged_in("moderator")

    # The reason is required.
    response = post(moderator, f"/gestion/moderation/comment/{comment_id}/masquer", {"reason": ""})
    assert response.status_code == 400 and "Indiquez la raison." in text(response)
    assert row(world, "comment", comment_id).hidden_at is None

    response = post(
        moderator,
        f"/gestion/moderation/comment/{comment_id}/masquer",
        {"reason": "Insulte envers un autre participant"},
    )
    assert response.status_code == 303
    hidden = row(world, "comment", comment_id)
    assert hidden.hidden_at is not None
    assert hidden.hidden_reason == "Insulte envers un autre participant"
    assert [r.status.value for r in reports(world, "comment", comment_id)] == ["resolved"]

    public = text(world.client().get(f"/debats/{world.debate_id}"))
    block = public[public.index(f'id="commentaire-{comment_id}"') :][:600]
    assert "Masqué par la modération" in block
    assert "Insulte envers un autre participant" in block
    assert "Texte insultant" not in public
    # Staff see it, under a banner.
    staff_view = text(moderator.get(f"/debats/{world.debate_id}"))
    block = staff_view[staff_view.index(f'id="commentaire-{comment_id}"') :][:1200]
    assert "Texte insultant" in block and "visible par l'équipe seulement" in block

    # The author is told, in the notification centre.
    from participation.engagement.models import Notification

    with world.context():
        kinds = list(
            db.session.scalars(
                sa.select(Notification.kind).where(Notification.user_id == author.id)
            )
        )
    assert "moderation" in kinds

    response = post(
        moderator,
        f"/gestion/moderation/comment/{comment_id}/retablir",
        {"reason": "Erreur d'appréciation"},
    )
    assert response.status_code == 303
    assert row(world, "comment", comment_id).hidden_at is None
    assert "Texte insultant" in text(world.client().get(f"/debats/{world.debate_id}"))

    actions = [
        (r["action"], r["actor_id"], r["details"].get("reason"))
        for r in audit_rows(world.app, world.tenant)
        if r["target_type"] == "comment" and r["target_id"] == str(comment_id)
    ]
    assert actions == [
        ("moderation.hide", mod.id, "Insulte envers un autre participant"),
        ("moderation.restore", mod.id, "Erreur d'appréciation"),
    ]


def test_hidden_argument_shows_the_label_and_reason(world):
    client, _ = world.logged_in()
    argument_id = new_argument_id(argue(client, world.debate_id, "Argument hors charte"))
    admin, _ = world.logged_in("admin")
    post(
        admin,
        f"/gestion/moderation/argument/{argument_id}/masquer",
        {"reason": "Données personnelles"},
    )
    html = text(world.client().get(f"/debats/{world.debate_id}"))
    block = html[html.index(f'id="argument-{argument_id}"') :][:600]
    assert "Masqué par la modération" in block and "Données personnelles" in block
    assert "Argument hors charte" not in html


def test_dismiss_reports(world):
    _, _, comment_id = a_comment(world, "Rien de grave")
    client, _ = world.logged_in()
    report(client, "comment", comment_id, reason="spam")
    moderator, mod = world.logged_in("moderator")
    response = post(
        moderator, f"/gestion/moderation/comment/{comment_id}/classer", {"note": "Pas de spam"}
    )
    assert response.status_code == 303
    assert [r.status.value for r in reports(world, "comment", comment_id)] == ["dismissed"]
    assert row(world, "comment", comment_id).hidden_at is None
    assert f"Commentaire n° {comment_id}" not in text(moderator.get("/gestion/moderation/"))
    entries = [
        r
        for r in audit_rows(world.app, world.tenant, "moderation.dismiss")
        if r["target_id"] == str(comment_id)
    ]
    assert len(entries) == 1 and entries[0]["actor_id"] == mod.id


# --------------------------------------------------------------------------- block


def test_block_and_unblock_a_user(world, staff_smtp):
    from participation.engagement.comments import Comment
    from participation.proposals.models import Proposal

    client, troll = world.logged_in()
    comment_id = new_comment_id(comment_on(client, "debate", world.debate_id, "Troll 1"))
    separately_hidden = new_comment_id(comment_on(client, "debate", world.debate_id, "Troll 2"))
    argument_id = new_argument_id(argue(client, world.debate_id, "Troll 3"))
    with world.context():
        proposal = Proposal(process_id=world.process_id, author_id=troll.id, title="T", body="T")
        db.session.add(proposal)
        db.session.commit()
        proposal_id = proposal.id
    reporter, _ = world.logged_in()
    report(reporter, "comment", comment_id)
    moderator, mod = world.logged_in("moderator")
    post(
        moderator,
        f"/gestion/moderation/comment/{separately_hidden}/masquer",
        {"reason": "Hors sujet"},
    )

    page = moderator.get(f"/gestion/moderation/comptes/{troll.id}")
    assert page.status_code == 200 and "Bloquer le compte" in text(page)
    response = post(
        moderator,
        f"/gestion/moderation/comptes/{troll.id}/bloquer",
        {"block-reason": "Insultes répétées"},
    )
    assert response.status_code == 303
    blocked = row(world, "user", troll.id)
    assert blocked.blocked_at is not None and blocked.blocked_reason == "Insultes répétées"
    assert blocked.session_version == troll.session_version + 1

    # Every contribution is hidden; the open report on it is resolved.
    for kind, target_id in (
        ("comment", comment_id),
        ("argument", argument_id),
        ("proposal", proposal_id),
    ):
        assert row(world, kind, target_id).hidden_at is not None, kind
    assert [r.status.value for r in reports(world, "comment", comment_id)] == ["resolved"]
    html = text(world.client().get(f"/debats/{world.debate_id}"))
    assert "Troll 1" not in html and "Troll 3" not in html
    assert "Le compte de son auteur a été bloqué par la modération." in html

    # They are told why, by e-mail.
    notice = staff_smtp.wait_for(
        lambda _: [m for m in staff_smtp.messages_to(troll.email) if "bloqué" in m["Subject"]]
    )[0]
    assert "Insultes répétées" in staff_smtp.text_of(notice)

    # Their session is over, and log-in is refused.
    assert client.get("/notifications").status_code == 302
    login = world.client()
    response = post(login, "/connexion", {"email": troll.email, "password": PASSWORD})
    assert response.status_code == 200 and "Ce compte a été désactivé" in text(response)
    assert login.get("/notifications").status_code == 302
    assert "Insultes répétées" in text(moderator.get("/gestion/moderation/comptes"))

    # Unblocking shows again what the block hid, not what was hidden on its own.
    response = post(
        moderator,
        f"/gestion/moderation/comptes/{troll.id}/debloquer",
        {"block-reason": "Excuses présentées"},
    )
    assert response.status_code == 303
    assert row(world, "user", troll.id).blocked_at is None
    for kind, target_id in (
        ("comment", comment_id),
        ("argument", argument_id),
        ("proposal", proposal_id),
    ):
        assert row(world, kind, target_id).hidden_at is None, kind
    assert row(world, "comment", separately_hidden).hidden_reason == "Hors sujet"
    with world.context():
        assert db.session.get(Comment, comment_id).body == "Troll 1"

    actions = [
        (r["action"], r["details"].get("reason"))
        for r in audit_rows(world.app, world.tenant)
        if r["target_type"] == "user" and r["target_id"] == str(troll.id)
    ]
    assert actions == [
        ("moderation.block_user", "Insultes répétées"),
        ("moderation.unblock_user", "Excuses présentées"),
    ]
    assert all(
        r["actor_id"] == mod.id
        for r in audit_rows(world.app, world.tenant)
        if r["action"].startswith("moderation.") and r["target_id"] == str(troll.id)
    )


def test_staff_accounts_cannot_be_blocked(world):
    agent = world.person("agent")
    moderator, mod = world.logged_in("moderator")
    post(moderator, f"/gestion/moderation/comptes/{agent.id}/bloquer", {"block-reason": "Non"})
    assert row(world, "user", agent.id).blocked_at is None
    post(moderator, f"/gestion/moderation/comptes/{mod.id}/bloquer", {"block-reason": "Moi"})
    assert row(world, "user", mod.id).blocked_at is None
