"""Public meetings: staff create and publish, citizens register, a full meeting has a
waiting list promoted automatically (and safely under concurrency) when someone cancels,
reminders the day before (idempotent), a correct .ics, minutes after the meeting with the
proposals made there entered by staff, linked and audited."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    client_on,
    csrf_for,
    signed_in,
    text,
)
from tests.support.participation import citizen, make_process, read, staff
from tests.support.staff import audit_rows


def make_meeting(
    app,
    tenant,
    *,
    starts_in: timedelta = timedelta(days=5),
    starts_at: datetime | None = None,
    capacity: int | None = None,
    published: bool = True,
    title: str | None = None,
    process_id: int | None = None,
    address: str | None = "Salle des fêtes, 2 place de la Réunion",
) -> int:
    from participation.meetings.models import Meeting

    start = starts_at or datetime.now(UTC) + starts_in

    def create():
        meeting = Meeting(
            title=title or f"Réunion publique {uuid.uuid4().hex[:6]}",
            description="Présentation du projet puis échanges.",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            address=address,
            online_url=None if address else "https://visio.example.fr/reunion",
            capacity=capacity,
            process_id=process_id,
            published_at=datetime.now(UTC) if published else None,
        )
        db.session.add(meeting)
        db.session.commit()
        return meeting.id

    return read(app, tenant, create)


def registration_rows(app, tenant, meeting_id: int) -> list[tuple[int, str]]:
    from participation.meetings.models import MeetingRegistration

    def load():
        rows = db.session.scalars(
            sa.select(MeetingRegistration)
            .where(MeetingRegistration.meeting_id == meeting_id)
            .order_by(MeetingRegistration.queued_at, MeetingRegistration.id)
        )
        return [(r.user_id, r.status.value) for r in rows]

    return read(app, tenant, load)


def register(client, meeting_id: int):
    return client.post(f"/reunions/{meeting_id}/inscription", data={"csrf_token": csrf_for(client)})


def unregister(client, meeting_id: int):
    return client.post(
        f"/reunions/{meeting_id}/desinscription", data={"csrf_token": csrf_for(client)}
    )


@pytest.fixture
def app_(proposals_app):
    return proposals_app


# --------------------------------------------------------------------------- staff


def test_staff_create_and_publish_a_meeting_and_it_is_audited(app_, tenant):
    admin, admin_person = staff(app_, tenant, "moderator")
    start = (datetime.now(UTC) + timedelta(days=10)).astimezone().strftime("%Y-%m-%dT18:30")
    end = (datetime.now(UTC) + timedelta(days=10)).astimezone().strftime("%Y-%m-%dT20:30")
    title = f"Réunion publique : réaménagement de la place de la Réunion {uuid.uuid4().hex[:4]}"
    data = {
        "csrf_token": csrf_for(admin),
        "title": title,
        "description": "Présentation des esquisses.",
        "starts_at": start,
        "ends_at": end,
        "address": "Hôtel de ville, salle du conseil",
        "online_url": "",
        "capacity": "80",
        "process_id": "",
        "phase_id": "",
        "registration_open": "y",
    }
    bad = dict(data, ends_at=start)
    response = admin.post("/gestion/reunions/nouvelle", data=bad)
    assert response.status_code == 200 and "La fin doit être après le début" in text(response)
    response = admin.post("/gestion/reunions/nouvelle", data=dict(data, address=""))
    assert response.status_code == 200 and "adresse du lieu, ou le lien" in text(response)
    response = admin.post(
        "/gestion/reunions/nouvelle", data=dict(data, online_url="javascript:alert(1)")
    )
    assert response.status_code == 200 and "https://" in text(response)
    response = admin.post("/gestion/reunions/nouvelle", data=data)
    assert response.status_code == 303
    meeting_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    visitor = client_on(app_, tenant)
    assert visitor.get(f"/reunions/{meeting_id}").status_code == 404  # a draft
    assert title not in text(visitor.get("/reunions"))
    response = admin.post(
        f"/gestion/reunions/{meeting_id}/publier", data={"csrf_token": csrf_for(admin)}
    )
    assert response.status_code == 303
    page = text(visitor.get(f"/reunions/{meeting_id}"))
    assert title in page and "18:30" in page and "80 places libres sur 80" in page
    assert title in text(visitor.get("/reunions"))
    actions = [r["action"] for r in audit_rows(app_, tenant) if r["target_id"] == str(meeting_id)]
    assert actions[:1] == ["meetings.created"] and "meetings.published" in actions
    assert all(
        r["actor_id"] == admin_person.id
        for r in audit_rows(app_, tenant)
        if r["target_id"] == str(meeting_id) and r["target_type"] == "meeting"
    )


def test_agents_and_citizens_cannot_manage_meetings(app_, tenant):
    agent, _ = staff(app_, tenant, "agent", services=("Voirie",))
    assert agent.get("/gestion/reunions/").status_code == 403
    person = signed_in(app_, tenant, citizen(app_, tenant))
    assert person.get("/gestion/reunions/").status_code == 403


# --------------------------------------------------------------------------- registration


def test_registration_waiting_list_and_automatic_promotion(app_, tenant, smtp):
    meeting_id = make_meeting(app_, tenant, capacity=2)
    people = [citizen(app_, tenant) for _ in range(4)]
    clients = [signed_in(app_, tenant, p) for p in people]
    for client in clients:
        assert register(client, meeting_id).status_code == 303
    assert [s for _u, s in registration_rows(app_, tenant, meeting_id)] == [
        "confirmed",
        "confirmed",
        "waiting",
        "waiting",
    ]
    page = text(clients[3].get(f"/reunions/{meeting_id}"))
    assert "liste d'attente, en position 2" in page and "Complet" in page
    waiting_mail = smtp.wait_for_message_to(people[2].email)
    assert "Liste d'attente" in waiting_mail["Subject"]
    # A second registration of the same person is refused, nothing changes.
    response = register(clients[0], meeting_id)
    assert response.status_code == 303
    assert "déjà inscrit" in text(clients[0].get(f"/reunions/{meeting_id}"))
    assert len(registration_rows(app_, tenant, meeting_id)) == 4
    # The first confirmed person cancels: the first waiting one gets the place at once.
    assert unregister(clients[0], meeting_id).status_code == 303
    rows = dict(registration_rows(app_, tenant, meeting_id))
    assert rows[people[0].id] == "cancelled"
    assert rows[people[2].id] == "confirmed" and rows[people[3].id] == "waiting"
    promoted = smtp.wait_for(
        lambda _: [
            m for m in smtp.messages_to(people[2].email) if "place s'est libérée" in m["Subject"]
        ]
    )
    assert promoted
    assert "liste d'attente, en position 1" in text(clients[3].get(f"/reunions/{meeting_id}"))
    # A waiting person leaving promotes nobody.
    assert unregister(clients[3], meeting_id).status_code == 303
    rows = dict(registration_rows(app_, tenant, meeting_id))
    assert rows[people[3].id] == "cancelled"
    assert sorted(rows.values()).count("confirmed") == 2
    # Re-registering puts you at the end of the queue (the meeting is full again).
    assert register(clients[0], meeting_id).status_code == 303
    assert dict(registration_rows(app_, tenant, meeting_id))[people[0].id] == "waiting"


def test_a_larger_capacity_promotes_the_waiting_list(app_, tenant):
    meeting_id = make_meeting(app_, tenant, capacity=1)
    people = [citizen(app_, tenant) for _ in range(3)]
    for person in people:
        assert register(signed_in(app_, tenant, person), meeting_id).status_code == 303
    from participation.accounts.models import User
    from participation.meetings import services
    from participation.meetings.models import Meeting

    def grow():
        meeting = db.session.get(Meeting, meeting_id)
        admin = db.session.scalar(sa.select(User).where(User.id == people[0].id))
        services.save_meeting(
            meeting,
            admin,
            title=meeting.title,
            description=meeting.description,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            address=meeting.address,
            online_url=None,
            capacity=2,
            process_id=None,
            phase_id=None,
        )
        db.session.commit()

    read(app_, tenant, grow)
    assert [s for _u, s in registration_rows(app_, tenant, meeting_id)] == [
        "confirmed",
        "confirmed",
        "waiting",
    ]


def test_registration_is_refused_for_drafts_cancelled_and_started_meetings(app_, tenant):
    person = signed_in(app_, tenant, citizen(app_, tenant))
    draft = make_meeting(app_, tenant, published=False)
    assert register(person, draft).status_code == 404
    started = make_meeting(app_, tenant, starts_in=timedelta(minutes=-30))
    register(person, started)
    assert registration_rows(app_, tenant, started) == []
    assert "déjà commencé" in text(person.get(f"/reunions/{started}"))
    anonymous = client_on(app_, tenant)
    meeting_id = make_meeting(app_, tenant)
    assert register(anonymous, meeting_id).status_code == 302
    assert "Se connecter pour s'inscrire" in text(anonymous.get(f"/reunions/{meeting_id}"))


def test_cancelling_a_meeting_tells_everyone(app_, tenant, smtp):
    meeting_id = make_meeting(app_, tenant, capacity=1)
    people = [citizen(app_, tenant) for _ in range(2)]
    for person in people:
        register(signed_in(app_, tenant, person), meeting_id)
    moderator, _ = staff(app_, tenant, "moderator")
    response = moderator.post(
        f"/gestion/reunions/{meeting_id}/annuler",
        data={"csrf_token": csrf_for(moderator), "reason": "Salle indisponible (travaux)."},
    )
    assert response.status_code == 303
    for person in people:
        mail = smtp.wait_for(
            lambda _, p=person: [m for m in smtp.messages_to(p.email) if "annulée" in m["Subject"]]
        )
        assert mail
    page = text(client_on(app_, tenant).get(f"/reunions/{meeting_id}"))
    assert "Cette réunion est annulée" in page and "Salle indisponible" in page


def _register_in_thread(app, tenant, meeting_id, user_id, results, barrier):
    from participation.accounts.models import User
    from participation.meetings import services
    from participation.meetings.services import MeetingError
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = db.session.get(User, user_id)
        db.session.rollback()
        barrier.wait()
        try:
            registration = services.register(meeting_id, user)
            db.session.commit()
            results.append(registration.status.value)
        except MeetingError as exc:
            db.session.rollback()
            results.append(str(exc))


def test_concurrent_registrations_never_exceed_the_capacity(app_, tenant):
    meeting_id = make_meeting(app_, tenant, capacity=5)
    people = [citizen(app_, tenant) for _ in range(16)]
    results: list[str] = []
    barrier = threading.Barrier(len(people))
    threads = [
        threading.Thread(
            target=_register_in_thread, args=(app_, tenant, meeting_id, p.id, results, barrier)
        )
        for p in people
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["confirmed"] * 5 + ["waiting"] * 11
    rows = registration_rows(app_, tenant, meeting_id)
    assert [s for _u, s in rows].count("confirmed") == 5 and len(rows) == 16


def _cancel_in_thread(app, tenant, meeting_id, user_id, barrier, errors):
    from participation.accounts.models import User
    from participation.meetings import services
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = db.session.get(User, user_id)
        db.session.rollback()
        barrier.wait()
        try:
            services.cancel_registration(meeting_id, user)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            db.session.rollback()
            errors.append(repr(exc))


def test_concurrent_cancellations_promote_exactly_one_person_each(app_, tenant):
    meeting_id = make_meeting(app_, tenant, capacity=4)
    people = [citizen(app_, tenant) for _ in range(10)]
    for person in people:
        register(signed_in(app_, tenant, person), meeting_id)
    leaving = people[:4]  # every confirmed person cancels at once
    barrier = threading.Barrier(len(leaving))
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_cancel_in_thread, args=(app_, tenant, meeting_id, p.id, barrier, errors)
        )
        for p in leaving
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = dict(registration_rows(app_, tenant, meeting_id))
    confirmed = sorted(uid for uid, s in rows.items() if s == "confirmed")
    # The four first of the waiting list, in their order, got the places.
    assert confirmed == sorted(p.id for p in people[4:8])
    assert [rows[p.id] for p in people[8:]] == ["waiting", "waiting"]


# --------------------------------------------------------------------------- reminders


def test_reminders_the_day_before_are_sent_once(app_, own_tenant, smtp):
    from participation.meetings import services, tasks
    from participation.meetings.services import PARIS

    tenant = own_tenant
    today = datetime.now(PARIS).date()
    tomorrow_evening = datetime.combine(today + timedelta(days=1), time(18, 30), PARIS)
    meeting_id = make_meeting(app_, tenant, starts_at=tomorrow_evening, capacity=1)
    later = make_meeting(app_, tenant, starts_at=tomorrow_evening + timedelta(days=2))
    people = [citizen(app_, tenant) for _ in range(2)]
    for person in people:
        register(signed_in(app_, tenant, person), meeting_id)
        register(signed_in(app_, tenant, person), later)
    with app_.app_context():  # as the worker's job would run
        assert tasks.send_meeting_reminders(tenant.id, today.isoformat()) == 1
        assert tasks.send_meeting_reminders(tenant.id, today.isoformat()) == 0  # idempotent

    def reminders(person):
        return [m for m in smtp.messages_to(person.email) if "Rappel" in m["Subject"]]

    assert len(smtp.wait_for(lambda _: reminders(people[0]))) == 1
    assert reminders(people[1]) == []  # on the waiting list: no reminder
    start, end = services.reminder_window(today)
    assert start <= tomorrow_evening < end


def test_the_fan_out_enqueues_one_job_per_active_tenant(app_, own_tenant):
    from participation.meetings import tasks

    with app_.app_context():
        ids = tasks.enqueue_meeting_reminders()
    assert own_tenant.id in ids


def test_the_cron_schedule_registers_the_reminders():
    import importlib

    from rq import cron

    module = importlib.import_module("participation.meetings.cron")
    assert module.send_all_meeting_reminders.__name__ == "send_all_meeting_reminders"
    assert hasattr(cron, "register")


# --------------------------------------------------------------------------- ics


def test_the_ics_file_follows_rfc_5545(app_, tenant):
    title = "Réunion publique : réaménagement de la place de la Réunion, phase 2; ateliers"
    meeting_id = make_meeting(
        app_,
        tenant,
        title=title,
        starts_at=datetime(2027, 3, 14, 17, 30, tzinfo=UTC),
        address="Salle des fêtes, 2 place de la Réunion",
    )
    response = client_on(app_, tenant).get(f"/reunions/{meeting_id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.data
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    unfolded = raw.decode("utf-8").replace("\r\n ", "").split("\r\n")
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-2] == "END:VCALENDAR"
    props = dict(line.split(":", 1) for line in unfolded if ":" in line)
    assert props["VERSION"] == "2.0" and props["PRODID"]
    assert props["UID"] == f"meeting-{meeting_id}@{tenant.primary_host}"
    assert props["DTSTART"] == "20270314T173000Z" and props["DTEND"] == "20270314T193000Z"
    assert props["SUMMARY"] == (
        "Réunion publique : réaménagement de la place de la Réunion\\, phase 2\\; ateliers"
    )
    assert props["LOCATION"] == "Salle des fêtes\\, 2 place de la Réunion"
    assert props["STATUS"] == "CONFIRMED" and "DTSTAMP" in props


def test_ics_folding_and_escaping_units():
    from participation.meetings import ics

    assert ics.escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    line = "DESCRIPTION:" + "é" * 100  # two octets each: folding must not split one
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line
    for part in parts:
        part.encode("utf-8").decode("utf-8")  # each physical line is valid UTF-8
    body = ics.event_calendar(
        uid="x@y",
        title="T",
        starts_at=datetime(2027, 1, 1, 10, tzinfo=UTC),
        ends_at=datetime(2027, 1, 1, 11, tzinfo=UTC),
        cancelled=True,
        sequence=1,
    )
    assert "STATUS:CANCELLED\r\n" in body and "SEQUENCE:1\r\n" in body


# --------------------------------------------------------------------------- minutes


def test_minutes_after_the_meeting_with_proposals_entered_by_staff(app_, tenant, today):
    from participation.proposals.models import Proposal, ProposalEvent

    process_id = make_process(app_, tenant)
    future = make_meeting(app_, tenant, process_id=process_id)
    past = make_meeting(
        app_, tenant, starts_in=timedelta(days=-2), process_id=process_id, title="Atelier Sinne"
    )
    moderator, moderator_person = staff(app_, tenant, "moderator")
    response = moderator.post(
        f"/gestion/reunions/{future}/compte-rendu",
        data={"csrf_token": csrf_for(moderator), "minutes": "Trop tôt.", "publish": "y"},
    )
    assert response.status_code == 200 and "après la réunion" in text(response)
    response = moderator.post(
        f"/gestion/reunions/{future}/propositions",
        data={
            "csrf_token": csrf_for(moderator),
            "process_id": str(process_id),
            "title": "Trop tôt",
            "body": "Avant la réunion.",
        },
    )
    assert response.status_code == 200 and "après la réunion" in text(response)

    minutes = "## Ce qui a été dit\n\n- 40 participants\n- <script>alert(1)</script>"
    response = moderator.post(
        f"/gestion/reunions/{past}/compte-rendu",
        data={"csrf_token": csrf_for(moderator), "minutes": minutes, "publish": "y"},
    )
    assert response.status_code == 303
    response = moderator.post(
        f"/gestion/reunions/{past}/propositions",
        data={
            "csrf_token": csrf_for(moderator),
            "process_id": str(process_id),
            "title": "Des bancs à l'ombre sur la place",
            "body": "Plusieurs habitants ont demandé des bancs sous les platanes.",
            "speaker": "Une habitante du quartier",
        },
    )
    assert response.status_code == 303

    def load():
        proposal = db.session.scalar(
            sa.select(Proposal).where(Proposal.title == "Des bancs à l'ombre sur la place")
        )
        event = db.session.scalar(
            sa.select(ProposalEvent).where(ProposalEvent.proposal_id == proposal.id)
        )
        return proposal.id, proposal.author_id, proposal.process_id, event.body, event.actor_id

    proposal_id, author_id, in_process, origin, actor_id = read(app_, tenant, load)
    assert author_id is None and in_process == process_id and actor_id == moderator_person.id
    assert "Atelier Sinne" in origin and "saisie par l'équipe" in origin
    audit = audit_rows(app_, tenant, "meetings.proposal_entered")
    entry = next(r for r in audit if r["target_id"] == str(proposal_id))
    assert entry["details"]["staff_entry"] is True and entry["details"]["meeting_id"] == past
    assert entry["actor_id"] == moderator_person.id
    page = client_on(app_, tenant).get(f"/reunions/{past}").get_data(as_text=True)
    assert "Ce qui a été dit" in page and "<script>alert" not in page
    assert f"/propositions/{proposal_id}" in page and "Une habitante du quartier" in page
    proposal_page = text(client_on(app_, tenant).get(f"/propositions/{proposal_id}"))
    assert "Des bancs à l'ombre" in proposal_page
    assert "lors de la réunion publique « Atelier Sinne »" in proposal_page  # marked as such
    # Unpublishing the minutes hides them again.
    moderator.post(
        f"/gestion/reunions/{past}/compte-rendu",
        data={"csrf_token": csrf_for(moderator), "minutes": minutes},
    )
    assert "Ce qui a été dit" not in text(client_on(app_, tenant).get(f"/reunions/{past}"))


def test_the_process_page_lists_its_meetings(app_, tenant, today):
    process_id = make_process(app_, tenant)
    make_meeting(app_, tenant, process_id=process_id, title="Balade urbaine du quartier")
    page = text(client_on(app_, tenant).get(f"/demarches/{process_id}"))
    assert "Réunions publiques" in page and "Balade urbaine du quartier" in page
