"""The official answer workflow and the staff back-office of proposals: status changes
(public, on the timeline, notified to the author and followers, audited), the required
reason of "Non retenue", the public answer, assignment to a service and an agent, the
agents' scope, bulk changes, the dashboard, the CSV export and the status labels."""

from __future__ import annotations

import csv
import html
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    client_on,
    post,
    signed_in,
)
from tests.support.participation import (
    backdate,
    citizen,
    days,
    events_of,
    make_process,
    make_proposal,
    notifications_of,
    proposal_row,
    read,
    service_id,
    staff,
)
from tests.support.staff import audit_rows


@pytest.fixture
def papp(proposals_app):
    return proposals_app


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def follow_as(papp, tenant, person, proposal_id: int) -> None:
    from participation.engagement.services import follow

    read(papp, tenant, lambda: (follow(person.id, "proposal", proposal_id), db.session.commit()))


def answer(client, proposal_id: int, **data):
    data.setdefault("reason", "")
    data.setdefault("answer", "")
    return post(client, f"/gestion/propositions/{proposal_id}", data)


# --------------------------------------------------------------------------- statuses


def test_a_status_change_is_public_notified_and_audited(papp, tenant, today, smtp):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    follower = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author, title="Des bancs au parc")
    follow_as(papp, tenant, follower, proposal_id)
    moderator, person = staff(papp, tenant, "moderator")

    response = answer(
        moderator, proposal_id, status="studying", reason="Les services de la voirie regardent."
    )
    assert response.status_code == 303
    row = proposal_row(papp, tenant, proposal_id)
    assert row["status"] == "studying"
    event = events_of(papp, tenant, proposal_id)[-1]
    assert event == {
        "kind": "status",
        "from": "received",
        "to": "studying",
        "body": "Les services de la voirie regardent.",
        "public": True,
        "actor_id": person.id,
    }
    for someone in (author, follower):
        notes = notifications_of(papp, tenant, someone.id)
        assert [n["kind"] for n in notes] == ["status.proposal"]
        assert notes[0]["title"] == "« Des bancs au parc » : À l'étude"
        assert notes[0]["url"] == f"/propositions/{proposal_id}"
    assert notifications_of(papp, tenant, person.id) == []  # not the one who acted
    mail = smtp.wait_for_message_to(author.email)
    assert "Des bancs au parc" in mail["Subject"]
    rows = [r for r in audit_rows(papp, tenant, "proposals.status_changed")]
    assert rows[-1]["target_id"] == str(proposal_id)
    assert rows[-1]["details"]["before"] == "received"
    assert rows[-1]["details"]["after"] == "studying"
    assert rows[-1]["actor_id"] == person.id

    # Everyone sees it on the public timeline.
    public = page_text(client_on(papp, tenant).get(f"/propositions/{proposal_id}"))
    assert "Nouveau statut : « À l'étude »" in public
    assert "Les services de la voirie regardent." in public

    # Saving the same values again changes nothing and notifies nobody.
    answer(moderator, proposal_id, status="studying", reason="Les services de la voirie regardent.")
    assert len(events_of(papp, tenant, proposal_id)) == 2
    assert len(notifications_of(papp, tenant, author.id)) == 1


def test_rejection_needs_a_public_reason(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author)
    admin, _ = staff(papp, tenant, "admin")
    response = answer(admin, proposal_id, status="rejected", reason="  ")
    assert response.status_code == 200
    assert "cette raison est publique et obligatoire" in page_text(response)
    assert proposal_row(papp, tenant, proposal_id)["status"] == "received"
    assert len(events_of(papp, tenant, proposal_id)) == 1
    assert notifications_of(papp, tenant, author.id) == []

    response = answer(
        admin, proposal_id, status="rejected", reason="Le terrain appartient au Département."
    )
    assert response.status_code == 303
    row = proposal_row(papp, tenant, proposal_id)
    assert (row["status"], row["status_reason"]) == (
        "rejected",
        "Le terrain appartient au Département.",
    )
    public = page_text(client_on(papp, tenant).get(f"/propositions/{proposal_id}"))
    assert "Pourquoi cette proposition n'est pas retenue" in public
    assert "Le terrain appartient au Département." in public


def test_the_database_refuses_a_rejection_without_reason(papp, tenant, today):
    """Even code that skips the service cannot store "Non retenue" without its reason."""
    from sqlalchemy.exc import IntegrityError

    from participation.proposals.models import Proposal

    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))

    def reject():
        db.session.execute(
            sa.update(Proposal).where(Proposal.id == proposal_id).values(status="rejected")
        )
        db.session.flush()

    with pytest.raises(IntegrityError):
        read(papp, tenant, reject)


def test_the_service_refuses_a_rejection_without_reason(papp, tenant, today):
    from participation.accounts.models import User
    from participation.proposals import services
    from participation.proposals.models import Proposal

    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    _client, moderator = staff(papp, tenant, "moderator")

    def reject():
        proposal = db.session.get(Proposal, proposal_id)
        services.change_status(proposal, "rejected", db.session.get(User, moderator.id))

    with pytest.raises(services.ProposalError) as refused:
        read(papp, tenant, reject)
    assert refused.value.field == "reason"


def test_the_public_answer(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author, title="Un composteur")
    admin, person = staff(papp, tenant, "admin")
    response = answer(
        admin,
        proposal_id,
        status="accepted",
        answer="Nous installons **deux composteurs** au printemps.",
    )
    assert response.status_code == 303
    row = proposal_row(papp, tenant, proposal_id)
    assert row["status"] == "accepted"
    assert row["answer"] == "Nous installons **deux composteurs** au printemps."
    assert [e["kind"] for e in events_of(papp, tenant, proposal_id)] == [
        "created",
        "status",
        "answer",
    ]
    # One notification for both changes.
    notes = notifications_of(papp, tenant, author.id)
    assert len(notes) == 1
    assert "Retenue" in notes[0]["title"] and "deux composteurs" in notes[0]["body"]
    public = client_on(papp, tenant).get(f"/propositions/{proposal_id}").get_data(as_text=True)
    assert "<strong>deux composteurs</strong>" in public
    assert "Réponse de la collectivité" in html.unescape(public)
    assert [r["target_id"] for r in audit_rows(papp, tenant, "proposals.answered")][-1] == str(
        proposal_id
    )
    # An answer can be corrected, not erased.
    response = answer(admin, proposal_id, status="accepted", answer="")
    assert "ne peut pas être effacée" in page_text(response)


def test_the_author_is_told_even_after_unfollowing(papp, tenant, today):
    from participation.engagement.services import unfollow

    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author)
    read(papp, tenant, lambda: (unfollow(author.id, "proposal", proposal_id), db.session.commit()))
    moderator, _ = staff(papp, tenant, "moderator")
    answer(moderator, proposal_id, status="done")
    assert [n["kind"] for n in notifications_of(papp, tenant, author.id)] == ["status.proposal"]


# --------------------------------------------------------------------------- assignment


def test_assignment_to_a_service_and_one_of_its_agents(papp, tenant, today, smtp):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author, title="Un passage piéton")
    voirie = service_id(papp, tenant, "Voirie")
    culture = service_id(papp, tenant, "Culture")
    _agent_client, agent = staff(papp, tenant, "agent", services=("Voirie",))
    _other_client, stranger = staff(papp, tenant, "agent", services=("Culture",))
    moderator, person = staff(papp, tenant, "moderator")
    path = f"/gestion/propositions/{proposal_id}/affectation"

    page = page_text(moderator.get(f"/gestion/propositions/{proposal_id}"))
    assert agent.display_name in page and "Voirie" in page

    response = post(
        moderator, path, {"service_id": voirie, "assignee_id": stranger.id, "due_on": ""}
    )
    assert response.status_code == 200
    assert "ne fait pas partie du service Voirie" in page_text(response)
    response = post(
        moderator,
        path,
        {"service_id": voirie, "assignee_id": agent.id, "due_on": days(-1).isoformat()},
    )
    assert "dans le passé" in page_text(response)
    assert proposal_row(papp, tenant, proposal_id)["service_id"] is None

    response = post(
        moderator,
        path,
        {"service_id": voirie, "assignee_id": agent.id, "due_on": days(14).isoformat()},
    )
    assert response.status_code == 303
    row = proposal_row(papp, tenant, proposal_id)
    assert (row["service_id"], row["assignee_id"], row["due_on"]) == (
        voirie,
        agent.id,
        days(14),
    )
    event = events_of(papp, tenant, proposal_id)[-1]
    assert event["kind"] == "assignment" and event["public"] is False
    assert "Voirie" in event["body"] and agent.display_name in event["body"]
    audit = audit_rows(papp, tenant, "proposals.assigned")[-1]
    assert audit["details"]["service"] == "Voirie" and audit["actor_id"] == person.id
    mail = smtp.wait_for_message_to(agent.email)
    assert "Un passage piéton" in mail["Subject"]
    assert any(f"/gestion/propositions/{proposal_id}" in link for link in smtp.links_in(mail))
    # Internal: nobody outside the staff sees it, the author is not notified.
    public = page_text(client_on(papp, tenant).get(f"/propositions/{proposal_id}"))
    assert "Affectation" not in public and agent.display_name not in public
    assert notifications_of(papp, tenant, author.id) == []
    assert culture != voirie


def test_agents_answer_the_proposals_of_their_services_only(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    mine = make_proposal(papp, tenant, process_id, author, title="Pour la voirie")
    theirs = make_proposal(papp, tenant, process_id, author, title="Pour la culture")
    unassigned = make_proposal(papp, tenant, process_id, author, title="Sans service")
    voirie = service_id(papp, tenant, "Voirie")
    culture = service_id(papp, tenant, "Culture")
    moderator, _ = staff(papp, tenant, "moderator")
    post(moderator, f"/gestion/propositions/{mine}/affectation", {"service_id": voirie})
    post(moderator, f"/gestion/propositions/{theirs}/affectation", {"service_id": culture})
    agent, person = staff(papp, tenant, "agent", services=("Voirie",))

    assert agent.get(f"/gestion/propositions/{mine}").status_code == 200
    for other in (theirs, unassigned):
        response = agent.get(f"/gestion/propositions/{other}")
        assert response.status_code == 403
        assert "ne relève pas de vos services" in page_text(response)
        assert answer(agent, other, status="done").status_code == 403
        assert post(agent, f"/gestion/propositions/{other}/affectation", {}).status_code == 403
    listing = page_text(agent.get(f"/gestion/propositions/liste?process={process_id}"))
    assert "Pour la voirie" in listing
    assert "Pour la culture" not in listing and "Sans service" not in listing
    # An agent cannot hand a proposal over to another service.
    response = post(agent, f"/gestion/propositions/{mine}/affectation", {"service_id": culture})
    assert response.status_code == 200
    assert proposal_row(papp, tenant, mine)["service_id"] == voirie
    # But answers their own.
    assert answer(agent, mine, status="accepted").status_code == 303
    assert proposal_row(papp, tenant, mine)["status"] == "accepted"
    assert person.role == "agent"


# --------------------------------------------------------------------------- bulk


def test_bulk_status_change(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    ids = [make_proposal(papp, tenant, process_id, author) for _ in range(3)]
    moderator, _ = staff(papp, tenant, "moderator")
    path = "/gestion/propositions/liste/statut"

    response = post(moderator, path, {"status": "rejected", "proposal_ids": ids})
    assert response.status_code == 303
    assert all(proposal_row(papp, tenant, i)["status"] == "received" for i in ids)

    response = post(
        moderator,
        path,
        {
            "status": "studying",
            "proposal_ids": [str(i) for i in ids[:2]],
            "reason": "Étude groupée",
            "next": f"/gestion/propositions/liste?process={process_id}",
        },
    )
    assert response.status_code == 303
    assert response.location.endswith(f"/gestion/propositions/liste?process={process_id}")
    assert [proposal_row(papp, tenant, i)["status"] for i in ids] == [
        "studying",
        "studying",
        "received",
    ]
    assert events_of(papp, tenant, ids[0])[-1]["body"] == "Étude groupée"
    assert len(notifications_of(papp, tenant, author.id)) == 2
    audits = [
        r for r in audit_rows(papp, tenant, "proposals.status_changed") if r["details"]["bulk"]
    ]
    assert {r["target_id"] for r in audits} >= {str(ids[0]), str(ids[1])}

    # An agent's bulk change skips what is not theirs.
    agent, _person = staff(papp, tenant, "agent", services=("Voirie",))
    response = post(agent, path, {"status": "done", "proposal_ids": [str(i) for i in ids]})
    assert response.status_code == 303
    assert all(proposal_row(papp, tenant, i)["status"] != "done" for i in ids)
    # An open redirect through "next" is refused.
    response = post(
        moderator, path, {"status": "done", "proposal_ids": [ids[2]], "next": "//evil.example/"}
    )
    assert response.location.endswith("/gestion/propositions/liste")


# --------------------------------------------------------------------------- dashboard


def test_the_dashboard_shows_what_waits(papp, own_tenant, today):
    from participation.engagement.models import Report, ReportReason

    tenant = own_tenant
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    fresh = make_proposal(papp, tenant, process_id, author)
    old = make_proposal(papp, tenant, process_id, author, title="La plus ancienne")
    older = make_proposal(papp, tenant, process_id, author)
    answered = make_proposal(papp, tenant, process_id, author)
    backdate(papp, tenant, old, minutes=60 * 24 * 40)
    backdate(papp, tenant, older, minutes=60 * 24 * 100)
    voirie = service_id(papp, tenant, "Voirie")
    moderator, moderator_person = staff(papp, tenant, "moderator")
    answer(moderator, answered, status="accepted", answer="Oui, c'est fait bientôt.")

    from participation.proposals.models import Proposal

    def overdue():
        for pid in (old, older):
            proposal = db.session.get(Proposal, pid)
            proposal.service_id = voirie
            proposal.due_on = today - timedelta(days=3)
        db.session.add(
            Report(
                reporter_id=author.id,
                target_type="proposal",
                target_id=fresh,
                reason=ReportReason.SPAM,
            )
        )
        db.session.commit()

    read(papp, tenant, overdue)
    page = page_text(moderator.get("/gestion/propositions/"))
    assert "Sans réponse" in page
    from participation.accounts.models import User
    from participation.proposals import services

    def board():
        user = db.session.get(User, moderator_person.id)
        result = services.dashboard(user, today=today)
        return result, [p.id for p in result.oldest]

    result, oldest = read(papp, tenant, board)
    assert result.waiting_total == 3
    assert [count for _label, _low, _high, count in result.buckets] == [1, 0, 1, 1]
    assert result.overdue == [(voirie, "Voirie", 2)]
    assert result.open_reports == 1
    assert oldest == [older, old, fresh]
    assert "La plus ancienne" in page and "Signalements à traiter" in page

    # An agent of Voirie sees the overdue ones, and no report count.
    agent, person = staff(papp, tenant, "agent", services=("Voirie",))
    page = page_text(agent.get("/gestion/propositions/"))
    assert "Signalements à traiter" not in page

    def agent_board():
        return services.dashboard(db.session.get(User, person.id), today=today)

    result = read(papp, tenant, agent_board)
    assert result.waiting_total == 2 and result.open_reports is None


# --------------------------------------------------------------------------- export


def test_the_csv_export_opens_in_french_excel(papp, own_tenant, today):
    from participation.accounts.models import User

    tenant = own_tenant
    process_id = make_process(papp, tenant, title="Démarche exportée")
    author = citizen(papp, tenant, display_name="Camille Martin")
    gone = citizen(papp, tenant, display_name="Parti Ailleurs")
    first = make_proposal(papp, tenant, process_id, author, title="Des bancs ; et des arbres")
    second = make_proposal(papp, tenant, process_id, gone, title='=HYPERLINK("http://x")')
    voirie = service_id(papp, tenant, "Voirie")
    _a, agent = staff(papp, tenant, "agent", services=("Voirie",))
    admin, person = staff(papp, tenant, "admin")
    post(
        admin,
        f"/gestion/propositions/{first}/affectation",
        {"service_id": voirie, "assignee_id": agent.id, "due_on": days(10).isoformat()},
    )
    answer(admin, first, status="rejected", reason="Trop cher", answer="Réponse : « non ».")

    def delete_account():
        user = db.session.get(User, gone.id)
        user.deleted_at = sa.func.now()
        user.email = None
        db.session.commit()

    read(papp, tenant, delete_account)
    response = admin.get("/gestion/propositions/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:6] == [
        "Numéro",
        "Titre",
        "Statut",
        "Raison du statut",
        "Soutiens",
        "Auteur ou autrice",
    ]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_id) == {str(first), str(second)}
    row = by_id[str(first)]
    assert row["Titre"] == "Des bancs ; et des arbres"
    assert row["Statut"] == "Non retenue" and row["Raison du statut"] == "Trop cher"
    assert row["Auteur ou autrice"] == "Camille Martin"
    assert row["Service"] == "Voirie" and row["Agent"] == agent.display_name
    assert row["Échéance"] == days(10).strftime("%d/%m/%Y")
    assert row["Réponse"] == "Réponse : « non »."
    assert row["Démarche"] == "Démarche exportée"
    assert by_id[str(second)]["Auteur ou autrice"] == "Participant·e anonyme"
    assert by_id[str(second)]["Titre"].startswith("'=")  # never a formula in Excel
    assert audit_rows(papp, tenant, "proposals.exported")[-1]["details"]["rows"] == 2

    # Filters apply; an agent exports their services' proposals only.
    filtered = admin.get("/gestion/propositions/export.csv?status=rejected").get_data()
    assert len(list(csv.reader(io.StringIO(filtered.decode("utf-8-sig")), delimiter=";"))) == 2
    agent_client = signed_in(papp, tenant, agent)
    mine = agent_client.get("/gestion/propositions/export.csv").get_data().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(mine), delimiter=";"))) == 2
    assert person.role == "admin"


# --------------------------------------------------------------------------- labels


def test_admins_rename_the_statuses(papp, own_tenant, today):
    tenant = own_tenant
    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    admin, _ = staff(papp, tenant, "admin")
    page = page_text(admin.get("/gestion/propositions/statuts"))
    assert 'value="Retenue"' in page
    labels = {
        "label_received": "Reçue",
        "label_studying": "En cours d'étude",
        "label_accepted": "Adoptée",
        "label_rejected": "Non retenue",
        "label_done": "Réalisée",
        "edit_window": "30",
    }
    response = post(admin, "/gestion/propositions/statuts", {**labels, "label_done": "Adoptée"})
    assert response.status_code == 200 and "même libellé" in page_text(response)
    response = post(admin, "/gestion/propositions/statuts", {**labels, "label_done": ""})
    assert "Indiquez un libellé" in page_text(response)
    response = post(admin, "/gestion/propositions/statuts", labels)
    assert response.status_code == 303
    from tests.support.staff import setting

    assert setting(papp, tenant, "proposal_status_labels")["accepted"] == "Adoptée"
    assert setting(papp, tenant, "proposal_edit_window_minutes") == 30
    assert audit_rows(papp, tenant, "proposals.settings_updated")
    answer(admin, proposal_id, status="accepted")
    public = page_text(client_on(papp, tenant).get(f"/propositions/{proposal_id}"))
    assert "Adoptée" in public and "Nouveau statut : « Adoptée »" in public
    listing = page_text(client_on(papp, tenant).get(f"/demarches/{process_id}/propositions"))
    assert '<option value="accepted">Adoptée</option>' in listing
    moderator, _ = staff(papp, tenant, "moderator")
    assert moderator.get("/gestion/propositions/statuts").status_code == 403
