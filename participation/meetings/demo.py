"""Demo public meetings of the three demo collectivités (seeded after the processes and
proposals, order 70): an upcoming meeting with a small capacity, full, with a waiting list;
an online meeting; a past meeting with its minutes and a proposal made there.

Idempotent: a meeting is found by its title; an existing one is left as it is. Nothing is
e-mailed (registrations are written directly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core import clock, demo
from core.db import db
from participation.accounts.models import StaffRole, User
from participation.meetings import services
from participation.meetings.models import (
    Meeting,
    MeetingProposal,
    MeetingRegistration,
    RegistrationStatus,
)
from participation.processes.models import Process, ProcessState
from participation.proposals.models import Proposal, ProposalEvent, ProposalEventKind
from tenants.context import tenant_context
from tenants.models import Tenant, TenantStatus


@dataclass(frozen=True)
class DemoMeeting:
    title: str
    description: str
    days: int  # from today (negative: past)
    start: time
    hours: float
    address: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    registered: int = 0  # demo citizens registered (beyond the capacity: waiting list)
    process: str | None = None
    minutes: str | None = None
    proposal: tuple[str, str, str] | None = None  # title, body, speaker


MEETINGS: dict[str, list[DemoMeeting]] = {
    "mulhouse": [
        DemoMeeting(
            "Réunion publique : réaménagement de la place de la Réunion",
            "Les architectes présentent trois esquisses pour la place de la Réunion : "
            "terrasses, fontaine, arbres, circulation des bus.\n\n"
            "**Programme** : présentation (30 min), puis échanges par tables. Salle accessible "
            "aux personnes en fauteuil ; boucle magnétique sur demande.",
            8,
            time(18, 30),
            2,
            address="Hôtel de ville, salle du conseil, 2 place de la Réunion, Mulhouse",
            capacity=3,
            registered=4,
        ),
        DemoMeeting(
            "Atelier en ligne : le plan vélo 2027",
            "Un atelier en visioconférence pour recueillir vos trajets du quotidien et les "
            "points noirs du réseau cyclable.",
            15,
            time(12, 30),
            1,
            online_url="https://visio.mulhouse.example.fr/atelier-velo",
            process="Plan vélo 2027",
        ),
        DemoMeeting(
            "Balade urbaine sur les berges de l'Ill",
            "Rendez-vous au pont de Dornach pour parcourir les berges avec les paysagistes.",
            -12,
            time(10, 0),
            2.5,
            address="Pont de Dornach, Mulhouse",
            capacity=30,
            registered=3,
            process="Réinventons les berges de l'Ill",
            minutes="## Ce qui a été dit\n\n"
            "Une trentaine de personnes ont marché du pont de Dornach au quai des Pêcheurs.\n\n"
            "- Les berges manquent d'ombre et de bancs ;\n"
            "- l'accès à l'eau est jugé dangereux près du barrage ;\n"
            "- beaucoup souhaitent une guinguette l'été.\n\n"
            "Les propositions formulées pendant la balade sont publiées dans la démarche.",
            proposal=(
                "Des pontons pour s'asseoir au bord de l'eau",
                "Installer deux ou trois pontons en bois, accessibles, entre Dornach et le "
                "centre, pour s'asseoir au bord de l'Ill.",
                "Une habitante de Dornach",
            ),
        ),
    ],
    "saillans": [
        DemoMeeting(
            "Réunion publique : éteindre l'éclairage la nuit ?",
            "Bilan de l'expérimentation d'extinction entre 23 h et 5 h, et décision collective.",
            5,
            time(20, 0),
            2,
            address="Salle polyvalente, Saillans",
            capacity=40,
            registered=3,
            process="Éclairage public : éteindre la nuit ?",
        ),
        DemoMeeting(
            "Assemblée des jardins partagés",
            "Répartition des parcelles et organisation de l'arrosage.",
            -20,
            time(18, 0),
            1.5,
            address="Jardins des Samarins, Saillans",
            minutes="Douze familles se sont inscrites ; un tour d'arrosage est organisé pour "
            "juillet et août.",
        ),
    ],
    "angers": [
        DemoMeeting(
            "Réunion publique : Cœur de Maine, la suite",
            "Présentation des aménagements des bords de Maine et calendrier des travaux.",
            10,
            time(18, 0),
            2,
            address="Salons Curnonsky, place Maurice-Saillant, Angers",
            capacity=120,
            registered=4,
            process="Cœur de Maine : les bords de Maine réaménagés",
        ),
        DemoMeeting(
            "Conseil des jeunes : restitution",
            "Les jeunes élus présentent leurs priorités pour l'année.",
            -9,
            time(17, 30),
            1.5,
            address="Hôtel de ville d'Angers",
            process="Conseil des jeunes : vos priorités",
            minutes="Trois priorités retenues : des lieux pour se retrouver le soir, les "
            "transports, et l'accès au sport.",
        ),
    ],
}


def _tenant_ids() -> dict[str, int]:
    tenants = db.session.scalars(sa.select(Tenant).where(Tenant.slug.in_(list(MEETINGS))))
    ids = {t.slug: t.id for t in tenants if t.status == TenantStatus.ACTIVE}
    db.session.rollback()
    return ids


def _seed_one(spec: DemoMeeting, citizens: list[User], admin: User) -> bool:
    if db.session.scalar(sa.select(Meeting.id).where(Meeting.title == spec.title)) is not None:
        return False
    day = clock.paris_today() + timedelta(days=spec.days)
    starts_at = datetime.combine(day, spec.start, services.PARIS)
    process = (
        db.session.scalar(
            sa.select(Process).where(
                Process.title == spec.process, Process.state != ProcessState.DRAFT
            )
        )
        if spec.process
        else None
    )
    now = clock.utcnow()
    meeting = Meeting(
        title=spec.title,
        description=spec.description,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=spec.hours),
        address=spec.address,
        online_url=spec.online_url,
        capacity=spec.capacity,
        process_id=process.id if process else None,
        published_at=now - timedelta(days=30),
        created_by_id=admin.id,
        minutes=spec.minutes,
        minutes_published_at=(starts_at + timedelta(days=2)) if spec.minutes else None,
    )
    db.session.add(meeting)
    db.session.flush()
    for index, person in enumerate(citizens[: spec.registered]):
        full = spec.capacity is not None and index >= spec.capacity
        db.session.execute(
            pg_insert(MeetingRegistration)
            .values(
                meeting_id=meeting.id,
                user_id=person.id,
                status=(RegistrationStatus.WAITING if full else RegistrationStatus.CONFIRMED).value,
                queued_at=now - timedelta(days=10, minutes=-index),
            )
            .on_conflict_do_nothing()
        )
    if spec.proposal and process is not None:
        title, body, speaker = spec.proposal
        proposal = Proposal(process_id=process.id, author_id=None, title=title, body=body)
        db.session.add(proposal)
        db.session.flush()
        db.session.add(
            ProposalEvent(
                proposal_id=proposal.id,
                kind=ProposalEventKind.CREATED,
                to_status="received",
                body=f"Proposition formulée lors de la réunion publique « {spec.title} », "
                "saisie par l'équipe de la collectivité.",
                actor_id=admin.id,
            )
        )
        db.session.add(
            MeetingProposal(
                meeting_id=meeting.id,
                proposal_id=proposal.id,
                speaker=speaker,
                entered_by_id=admin.id,
            )
        )
    db.session.flush()
    return True


@demo.register(order=70)
def seed_meetings():
    ids = _tenant_ids()
    if not ids:
        yield "meetings demo: no active demo tenant, skipped"
        return
    for slug, tenant_id in ids.items():
        with tenant_context(tenant_id) as tenant:
            citizens = list(
                db.session.scalars(
                    sa.select(User)
                    .where(User.staff_role.is_(None), User.email.like("%@example.fr"))
                    .order_by(User.id)
                )
            )
            admin = db.session.scalar(
                sa.select(User).where(User.staff_role == StaffRole.ADMIN).order_by(User.id).limit(1)
            )
            if admin is None:
                yield f"{tenant.name} réunions: no demo admin yet, skipped"
                continue
            created = sum(_seed_one(spec, citizens, admin) for spec in MEETINGS[slug])
            db.session.commit()
            yield f"{tenant.name} réunions: {len(MEETINGS[slug])} ({created} créées)"
