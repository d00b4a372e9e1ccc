"""Debates: staff create, edit, close and reopen them (audited); citizens add arguments pour
and contre while the phase allows it, and reply to an argument (one level, same side)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from core.db import db
from tests.participation.test_comments import (  # noqa: F401 - fixtures
    World,
    flashes,
    post,
    world_fixture,
)
from tests.support import text
from tests.support.staff import audit_rows


def argue(client, debate_id: int, body: str, side: str | None = "pour", parent_id=None, **extra):
    data = {"body": body, "website": "", **extra}
    if side is not None:
        data["side"] = side
    if parent_id is not None:
        data["parent_id"] = str(parent_id)
    return post(client, f"/debats/{debate_id}/arguments", data)


def argument_rows(world: World, **where) -> list:
    from participation.debates.models import Argument

    with world.context():
        query = sa.select(Argument).order_by(Argument.id)
        for name, value in where.items():
            query = query.where(getattr(Argument, name) == value)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def new_argument_id(response) -> int:
    match = re.search(r"#argument-(\d+)$", response.location or "")
    assert match, f"no argument anchor in {response.status_code} {response.location}"
    return int(match.group(1))


# --------------------------------------------------------------------------- public page


def test_debate_page_shows_two_columns(world):
    client, _ = world.logged_in()
    pour = new_argument_id(argue(client, world.debate_id, "Plus de place pour les piétons"))
    contre = new_argument_id(
        argue(client, world.debate_id, "Les commerces vont souffrir", side="contre")
    )
    response = world.client().get(f"/debats/{world.debate_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Faut-il piétonniser la rue ?" in html
    column_pour = html[html.index('id="colonne-pour"') : html.index('id="colonne-contre"')]
    column_contre = html[html.index('id="colonne-contre"') : html.index('id="ajouter-argument"')]
    assert f'id="argument-{pour}"' in column_pour and f'id="argument-{contre}"' in column_contre
    assert "Plus de place pour les piétons" in column_pour
    assert "Les commerces vont souffrir" in column_contre
    assert "debate-columns" in html and "/engagement.css" in html


def test_stylesheet_is_served_and_the_page_has_no_inline_style(world):
    response = world.client().get("/engagement.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert b".debate-columns" in response.data and b".pnyx-hp" in response.data
    html = world.client().get(f"/debats/{world.debate_id}").get_data(as_text=True)
    assert "style=" not in html and "<script" not in html


def test_a_reply_takes_its_parent_side_and_only_one_level(world):
    client, _ = world.logged_in()
    parent = new_argument_id(argue(client, world.debate_id, "Moins de bruit", side="pour"))
    other, _ = world.logged_in()
    reply = new_argument_id(
        argue(other, world.debate_id, "Mais plus de livraisons", side="contre", parent_id=parent)
    )
    row = argument_rows(world, id=reply)[0]
    assert row.parent_id == parent and row.side.value == "pour"

    # No reply to a reply.
    response = argue(client, world.debate_id, "Trop loin", parent_id=reply)
    assert response.status_code == 303
    assert any("On ne peut pas répondre à une réponse" in m for m in flashes(client))
    assert not argument_rows(world, body="Trop loin")

    html = text(world.client().get(f"/debats/{world.debate_id}"))
    parent_block = html[html.index(f'id="argument-{parent}"') :]
    assert f'id="argument-{reply}"' in parent_block.split('class="argument"', 1)[0]


def test_a_reply_to_an_argument_of_another_debate_is_refused(world):
    from participation.debates.models import Debate

    with world.context():
        other = Debate(process_id=world.process_id, question="Une autre question ?")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    client, _ = world.logged_in()
    parent = new_argument_id(argue(client, other_id, "Ailleurs"))
    argue(client, world.debate_id, "Égaré", parent_id=parent)
    assert not argument_rows(world, body="Égaré")


def test_side_is_required_for_a_new_argument(world):
    client, _ = world.logged_in()
    response = argue(client, world.debate_id, "Sans position", side=None)
    assert response.status_code == 400
    assert "Choisissez si votre argument est pour ou contre." in text(response)
    assert not argument_rows(world, body="Sans position")
    # Re-rendered under the POST route, the page's comment forms still come back to it.
    html = response.get_data(as_text=True)
    assert f'name="next" value="/debats/{world.debate_id}"' in html


def test_no_argument_when_the_phase_does_not_allow_debates(world):
    client, _ = world.logged_in()
    response = argue(client, world.closed_debate_id, "Trop tard")
    assert response.status_code == 303
    assert any("ne permet pas d'ajouter d'arguments" in m for m in flashes(client))
    assert not argument_rows(world, body="Trop tard")
    page = text(client.get(f"/debats/{world.closed_debate_id}"))
    assert "ne permet pas d'ajouter d'arguments" in page
    assert f'action="/debats/{world.closed_debate_id}/arguments"' not in page


def test_a_honeypot_argument_is_refused(world):
    client, _ = world.logged_in()
    response = argue(client, world.debate_id, "Spam", website="http://spam.example")
    assert response.status_code == 400
    assert "Votre envoi n'a pas pu être enregistré." in text(response)
    assert not argument_rows(world, body="Spam")


def test_anonymous_must_log_in_to_argue(world):
    client = world.client()
    response = argue(client, world.debate_id, "Anonyme")
    assert response.status_code == 302 and "/connexion" in response.location
    assert "Connectez-vous pour ajouter un argument" in text(
        client.get(f"/debats/{world.debate_id}")
    )


def test_the_author_deletes_an_argument_and_replies_stay(world):
    client, _ = world.logged_in()
    parent = new_argument_id(argue(client, world.debate_id, "À retirer"))
    other, _ = world.logged_in()
    reply = new_argument_id(argue(other, world.debate_id, "Réponse conservée", parent_id=parent))
    assert post(other, f"/arguments/{parent}/supprimer").status_code == 403
    assert post(client, f"/arguments/{parent}/supprimer").status_code == 303
    html = text(world.client().get(f"/debats/{world.debate_id}"))
    assert "À retirer" not in html and "Argument supprimé par son auteur" in html
    assert f'id="argument-{reply}"' in html and "Réponse conservée" in html


def test_draft_process_debates_are_for_staff_only(world):
    from participation.debates.models import Debate

    with world.context():
        debate = Debate(process_id=world.draft_process_id, question="Question en préparation ?")
        db.session.add(debate)
        db.session.commit()
        debate_id = debate.id
    assert world.client().get(f"/debats/{debate_id}").status_code == 404
    citizen, _ = world.logged_in()
    assert citizen.get(f"/debats/{debate_id}").status_code == 404
    moderator, _ = world.logged_in("moderator")
    page = moderator.get(f"/debats/{debate_id}")
    assert page.status_code == 200 and "brouillon" in text(page)
    assert debate_id not in [
        int(i) for i in re.findall(r"/debats/(\d+)", text(world.client().get("/debats")))
    ]


def test_debates_index_and_process_section(world):
    from flask import render_template_string

    html = text(world.client().get("/debats"))
    assert "Faut-il piétonniser la rue ?" in html
    with world.app.test_request_context("/", base_url=f"http://{world.tenant.primary_host}"):
        from participation.processes.models import Process
        from tenants.context import enter_tenant, leave_tenant

        enter_tenant(world.tenant)
        try:
            process = db.session.get(Process, world.process_id)
            section = render_template_string(
                '{% include "debates/_process_section.html" %}', process=process
            )
        finally:
            leave_tenant()
    assert "Débats" in section and "Faut-il piétonniser la rue ?" in section
    assert "arguments pour" in section or "argument pour" in section


# --------------------------------------------------------------------------- staff


def test_staff_create_edit_close_and_reopen_a_debate(world):
    from participation.engagement.models import Follow, Notification

    follower_client, follower = world.logged_in()
    post(follower_client, "/suivre", {"target_type": "process", "target_id": world.process_id})

    staff, moderator = world.logged_in("moderator")
    form = staff.get(f"/gestion/debats/nouveau?process_id={world.process_id}")
    assert form.status_code == 200 and "Rues apaisées" in text(form)
    response = post(
        staff,
        "/gestion/debats/nouveau",
        {
            "process_id": world.process_id,
            "question": "Faut-il des terrasses l'hiver ?",
            "description": "Le **contexte**.",
        },
    )
    assert response.status_code == 303
    debate_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    page = text(world.client().get(f"/debats/{debate_id}"))
    assert "Faut-il des terrasses l'hiver ?" in page and "<strong>contexte</strong>" in page

    with world.context():
        # The author follows their debate; the process's followers are told.
        assert db.session.get(Follow, (moderator.id, "debate", debate_id)) is not None
        notes = list(
            db.session.scalars(sa.select(Notification).where(Notification.user_id == follower.id))
        )
        assert [n.url for n in notes] == [f"/debats/{debate_id}"]

    response = post(
        staff,
        f"/gestion/debats/{debate_id}",
        {"process_id": world.process_id, "question": "Des terrasses l'hiver ?", "description": ""},
    )
    assert response.status_code == 303
    assert post(staff, f"/gestion/debats/{debate_id}/cloturer").status_code == 303
    citizen, _ = world.logged_in()
    argue(citizen, debate_id, "Après la clôture")
    assert not argument_rows(world, body="Après la clôture")
    assert "Ce débat est clos" in text(citizen.get(f"/debats/{debate_id}"))
    assert post(staff, f"/gestion/debats/{debate_id}/rouvrir").status_code == 303
    assert argue(citizen, debate_id, "Après la réouverture").status_code == 303
    assert argument_rows(world, body="Après la réouverture")

    actions = [
        row["action"]
        for row in audit_rows(world.app, world.tenant)
        if row["target_type"] == "debate" and row["target_id"] == str(debate_id)
    ]
    assert actions == ["debate.created", "debate.updated", "debate.closed", "debate.reopened"]
    listing = text(staff.get("/gestion/debats/"))
    assert "Des terrasses l'hiver ?" in listing


def test_staff_form_errors_are_shown(world):
    staff, _ = world.logged_in("admin")
    response = post(
        staff, "/gestion/debats/nouveau", {"process_id": world.process_id, "question": ""}
    )
    assert response.status_code == 200
    assert "Indiquez la question du débat." in text(response)


# --------------------------------------------------------------------------- demo


def test_demo_seeders_are_idempotent(eng_app, make_tenant, monkeypatch):
    from participation.accounts import demo as accounts_demo
    from participation.debates import demo as debates_demo
    from participation.debates import engagement_demo
    from participation.debates.models import Argument, Debate
    from participation.engagement.comments import Comment
    from participation.engagement.models import Notification, Report
    from participation.processes import demo as processes_demo
    from participation.staff import demo as staff_demo
    from tenants.context import tenant_context

    # A tenant of its own, seeded with Angers' demo data: the real "angers" slug is left to
    # the other demo tests.
    source = "angers"
    app = eng_app
    tenant = make_tenant()
    slug = tenant.slug
    patches = (
        (accounts_demo, "DEMO_CITIZENS", accounts_demo.DEMO_CITIZENS),
        (accounts_demo, "DEMO_NEIGHBOURHOODS", accounts_demo.DEMO_NEIGHBOURHOODS),
        (staff_demo, "NEIGHBOURHOODS", staff_demo.NEIGHBOURHOODS),
        (processes_demo, "PROCESSES", processes_demo.PROCESSES),
        (debates_demo, "DEBATES", debates_demo.DEBATES),
        (debates_demo, "DEMO_CITIZENS", accounts_demo.DEMO_CITIZENS),
        (engagement_demo, "DEBATES", debates_demo.DEBATES),
    )
    for module, name, data in patches:
        monkeypatch.setattr(module, name, {slug: data[source]})

    def seed() -> list[str]:
        lines = []
        with app.app_context():
            for seeder in (
                accounts_demo.seed_citizens,
                staff_demo.seed_staff,
                processes_demo.seed_processes,
                debates_demo.seed_debates,
                engagement_demo.seed_engagement,
            ):
                lines += list(seeder())
        return lines

    def snapshot():
        with app.app_context(), tenant_context(tenant):
            return tuple(
                db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Debate, Argument, Comment, Report, Notification)
            )

    lines = seed()
    first = snapshot()
    assert any(line.startswith(f"{tenant.name} débats: ") for line in lines), lines
    assert any(line.startswith(f"{tenant.name} engagement: ") for line in lines), lines
    debates, arguments, _comments, reports, notifications = first
    assert debates >= 1 and arguments >= 4 and reports >= 1 and notifications >= 3
    with app.app_context(), tenant_context(tenant):
        questions = set(db.session.scalars(sa.select(Debate.question)))
        replies = db.session.scalar(
            sa.select(sa.func.count()).where(Argument.parent_id.is_not(None))
        )
        assert all(n.emailed_at for n in db.session.scalars(sa.select(Notification)))
    assert debates_demo.DEBATES[slug][0].question in questions and replies >= 1
    seed()
    assert snapshot() == first
