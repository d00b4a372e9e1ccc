"""Business rules of public meetings.

Services add and flush, never commit and never touch the request: the view commits once.
Refusals are :class:`MeetingError` with a French message (and the form field at fault).

Registration and the waiting list are safe under concurrency: every change of who holds a
place starts by locking the meeting's row (``SELECT … FOR UPDATE``), so two people taking
the last place, or a cancellation and a registration at once, are serialised; the person
promoted from the waiting list is chosen and confirmed in the same transaction as the
cancellation that freed the place, and e-mailed once it commits (core.mail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core import clock
from core.audit import audit
from core.db import db
from core.mail import send_mail
from participation.accounts.models import User
from participation.meetings.models import (
    Meeting,
    MeetingProposal,
    MeetingRegistration,
    RegistrationStatus,
)
from participation.processes.models import Phase, Process, ProcessState
from participation.proposals.models import (
    Proposal,
    ProposalEvent,
    ProposalEventKind,
    ProposalStatus,
)
from tenants.context import current_tenant

PARIS = ZoneInfo("Europe/Paris")
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
ADDRESS_MAX = 300
URL_MAX = 500
MINUTES_MAX = 100_000
CAPACITY_MAX = 100_000
PROPOSAL_TITLE_MAX = 200
PROPOSAL_BODY_MAX = 10_000
SPEAKER_MAX = 120
_URL_RE = re.compile(r"^https://[^\s\"'<>\\]+$")


class MeetingError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _clean(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


# --------------------------------------------------------------------------- reading


def get_meeting(meeting_id: int) -> Meeting | None:
    return db.session.scalar(
        sa.select(Meeting)
        .options(joinedload(Meeting.process), joinedload(Meeting.phase))
        .where(Meeting.id == meeting_id)
    )


def lock_meeting(meeting_id: int) -> Meeting | None:
    """The meeting, its row locked until the end of the transaction (registrations)."""
    # populate_existing: the row as it is once locked, not as an earlier query of this
    # session saw it (capacity, cancellation may have changed in between).
    return db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def is_public(meeting: Meeting) -> bool:
    return meeting.published_at is not None


def public_meetings(*, upcoming: bool, now: datetime | None = None) -> list[Meeting]:
    now = now or clock.utcnow()
    query = sa.select(Meeting).where(Meeting.published_at.is_not(None))
    if upcoming:
        query = query.where(Meeting.ends_at >= now).order_by(Meeting.starts_at, Meeting.id)
    else:
        query = query.where(Meeting.ends_at < now).order_by(
            Meeting.starts_at.desc(), Meeting.id.desc()
        )
    return list(db.session.scalars(query.limit(100)))


def all_meetings() -> list[Meeting]:
    return list(
        db.session.scalars(
            sa.select(Meeting)
            .options(joinedload(Meeting.process))
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        )
    )


def meetings_of_process(process_id: int, phase_id: int | None = None) -> list[Meeting]:
    query = sa.select(Meeting).where(
        Meeting.process_id == process_id, Meeting.published_at.is_not(None)
    )
    if phase_id is not None:
        query = query.where(Meeting.phase_id == phase_id)
    return list(db.session.scalars(query.order_by(Meeting.starts_at, Meeting.id)))


@dataclass
class Counts:
    confirmed: int = 0
    waiting: int = 0


def counts(meeting_ids: list[int]) -> dict[int, Counts]:
    result = {mid: Counts() for mid in meeting_ids}
    if not meeting_ids:
        return result
    rows = db.session.execute(
        sa.select(MeetingRegistration.meeting_id, MeetingRegistration.status, sa.func.count())
        .where(
            MeetingRegistration.meeting_id.in_(meeting_ids),
            MeetingRegistration.status != RegistrationStatus.CANCELLED,
        )
        .group_by(MeetingRegistration.meeting_id, MeetingRegistration.status)
    )
    for meeting_id, status, count in rows:
        if status == RegistrationStatus.CONFIRMED:
            result[meeting_id].confirmed = count
        else:
            result[meeting_id].waiting = count
    return result


def registration_of(meeting: Meeting, user: User | None) -> MeetingRegistration | None:
    if user is None:
        return None
    return db.session.scalar(
        sa.select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting.id, MeetingRegistration.user_id == user.id
        )
    )


def waiting_position(registration: MeetingRegistration) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if registration.status != RegistrationStatus.WAITING:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count()).where(
            MeetingRegistration.meeting_id == registration.meeting_id,
            MeetingRegistration.status == RegistrationStatus.WAITING,
            sa.tuple_(MeetingRegistration.queued_at, MeetingRegistration.id)
            < sa.tuple_(sa.literal(registration.queued_at), sa.literal(registration.id)),
        )
    )
    return (ahead or 0) + 1


def registrations(meeting: Meeting) -> list[MeetingRegistration]:
    return list(
        db.session.scalars(
            sa.select(MeetingRegistration)
            .options(joinedload(MeetingRegistration.user))
            .where(MeetingRegistration.meeting_id == meeting.id)
            .order_by(
                MeetingRegistration.status,
                MeetingRegistration.queued_at,
                MeetingRegistration.id,
            )
        )
    )


def linked_proposals(meeting: Meeting) -> list[MeetingProposal]:
    return list(
        db.session.scalars(
            sa.select(MeetingProposal)
            .options(joinedload(MeetingProposal.proposal))
            .where(MeetingProposal.meeting_id == meeting.id)
            .order_by(MeetingProposal.created_at, MeetingProposal.proposal_id)
        )
    )


# --------------------------------------------------------------------------- staff: edit


def processes_for_choice() -> list[Process]:
    return list(
        db.session.scalars(
            sa.select(Process).where(Process.state != ProcessState.ARCHIVED).order_by(Process.title)
        )
    )


def phases_for_choice() -> list[Phase]:
    return list(
        db.session.scalars(
            sa.select(Phase)
            .options(joinedload(Phase.process))
            .join(Process)
            .where(Process.state != ProcessState.ARCHIVED)
            .order_by(Process.title, Phase.position)
        )
    )


def save_meeting(
    meeting: Meeting | None,
    actor: User,
    *,
    title: str,
    description: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    address: str | None,
    online_url: str | None,
    capacity: int | None,
    process_id: int | None,
    phase_id: int | None,
    registration_open: bool = True,
) -> Meeting:
    """Create or update a meeting; a larger capacity promotes people from the waiting list."""
    title = " ".join((title or "").split())
    if not title:
        raise MeetingError(_("Donnez un titre à la réunion."), "title")
    if len(title) > TITLE_MAX:
        raise MeetingError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    description = _clean(description)
    if len(description) > DESCRIPTION_MAX:
        raise MeetingError(_("La présentation est trop longue."), "description")
    if starts_at is None:
        raise MeetingError(_("Indiquez la date et l'heure de début."), "starts_at")
    if ends_at is None or ends_at <= starts_at:
        raise MeetingError(_("La fin doit être après le début."), "ends_at")
    address = " ".join((address or "").split()) or None
    online_url = (online_url or "").strip() or None
    if address and len(address) > ADDRESS_MAX:
        raise MeetingError(_("L'adresse ne peut pas dépasser 300 caractères."), "address")
    if online_url and (len(online_url) > URL_MAX or not _URL_RE.fullmatch(online_url)):
        raise MeetingError(
            _("Le lien de la réunion en ligne doit commencer par https://."), "online_url"
        )
    if not address and not online_url:
        raise MeetingError(
            _("Indiquez l'adresse du lieu, ou le lien de la réunion en ligne."), "address"
        )
    if capacity is not None and not (0 < capacity <= CAPACITY_MAX):
        raise MeetingError(_("La jauge doit être un nombre de places positif."), "capacity")
    if process_id is not None and db.session.get(Process, process_id) is None:
        raise MeetingError(_("Cette démarche n'existe pas."), "process_id")
    if phase_id is not None:
        phase = db.session.get(Phase, phase_id)
        if phase is None or phase.process_id != process_id:
            raise MeetingError(_("Cette phase n'appartient pas à la démarche choisie."), "phase_id")
    created = meeting is None
    if created:
        meeting = Meeting(created_by_id=actor.id)
        db.session.add(meeting)
    else:
        # Serialise with registrations before the capacity changes.
        lock_meeting(meeting.id)
    meeting.title = title
    meeting.description = description
    meeting.starts_at = starts_at
    meeting.ends_at = ends_at
    meeting.address = address
    meeting.online_url = online_url
    meeting.capacity = capacity
    meeting.process_id = process_id
    meeting.phase_id = phase_id
    meeting.registration_open = bool(registration_open)
    db.session.flush()
    audit(
        "meetings.created" if created else "meetings.updated",
        actor,
        "meeting",
        meeting.id,
        title=title,
        starts_at=starts_at.isoformat(),
        capacity=capacity,
    )
    if not created:
        fill_free_places(meeting)
    return meeting


def publish_meeting(meeting: Meeting, actor: User) -> bool:
    if meeting.published_at is not None:
        return False
    meeting.published_at = clock.utcnow()
    db.session.flush()
    audit("meetings.published", actor, "meeting", meeting.id)
    return True


def cancel_meeting(meeting: Meeting, actor: User, reason: str) -> int:
    """Cancel the meeting and e-mail everyone registered or waiting; returns how many."""
    reason = _clean(reason)
    if not reason:
        raise MeetingError(_("Indiquez la raison de l'annulation : elle est publique."), "reason")
    if meeting.cancelled_at is not None:
        raise MeetingError(_("Cette réunion est déjà annulée."), "reason")
    lock_meeting(meeting.id)
    meeting.cancelled_at = clock.utcnow()
    meeting.cancellation_reason = reason
    meeting.registration_open = False
    people = [
        r
        for r in registrations(meeting)
        if r.status != RegistrationStatus.CANCELLED and r.user is not None
    ]
    for registration in people:
        _mail(registration.user, "meeting_cancelled", meeting, reason=reason)
    db.session.flush()
    audit("meetings.cancelled", actor, "meeting", meeting.id, reason=reason, told=len(people))
    return len(people)


# --------------------------------------------------------------------------- registration


def registration_refusal(meeting: Meeting, now: datetime | None = None) -> str | None:
    now = now or clock.utcnow()
    if meeting.published_at is None:
        return _("Cette réunion n'est pas encore publiée.")
    if meeting.cancelled_at is not None:
        return _("Cette réunion est annulée.")
    if meeting.starts_at <= now:
        return _("Cette réunion a déjà commencé : les inscriptions sont closes.")
    if not meeting.registration_open:
        return _("Les inscriptions à cette réunion sont closes.")
    return None


def _confirmed_count(meeting_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.status == RegistrationStatus.CONFIRMED,
        )
    )


def register(meeting_id: int, user: User, now: datetime | None = None) -> MeetingRegistration:
    """A place if one is free, else the end of the waiting list. The meeting row is locked
    first: the count of places and the insertion are one decision."""
    meeting = lock_meeting(meeting_id)
    if meeting is None:
        raise MeetingError(_("Cette réunion n'existe pas."))
    refusal = registration_refusal(meeting, now)
    if refusal:
        raise MeetingError(refusal)
    registration = db.session.scalar(
        sa.select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting.id,
            MeetingRegistration.user_id == user.id,
        )
    )
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        if registration.status == RegistrationStatus.CONFIRMED:
            raise MeetingError(_("Vous êtes déjà inscrit·e à cette réunion."))
        raise MeetingError(_("Vous êtes déjà sur la liste d'attente de cette réunion."))
    free = meeting.capacity is None or _confirmed_count(meeting.id) < meeting.capacity
    status = RegistrationStatus.CONFIRMED if free else RegistrationStatus.WAITING
    if registration is None:
        registration = MeetingRegistration(meeting_id=meeting.id, user_id=user.id, status=status)
        db.session.add(registration)
    else:
        registration.status = status
        registration.queued_at = sa.func.clock_timestamp()  # back to the end of the queue
        registration.cancelled_at = None
        registration.promoted_at = None
        registration.reminded_at = None
    db.session.flush()
    db.session.refresh(registration)
    position = waiting_position(registration)
    _mail(
        user,
        "meeting_registered",
        meeting,
        waiting=status == RegistrationStatus.WAITING,
        position=position,
    )
    return registration


def cancel_registration(meeting_id: int, user: User) -> list[MeetingRegistration]:
    """Give up a place (or leave the waiting list); returns the people promoted in the
    same transaction, who are e-mailed after the commit."""
    meeting = lock_meeting(meeting_id)
    if meeting is None:
        raise MeetingError(_("Cette réunion n'existe pas."))
    registration = db.session.scalar(
        sa.select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting.id,
            MeetingRegistration.user_id == user.id,
        )
    )
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        raise MeetingError(_("Vous n'êtes pas inscrit·e à cette réunion."))
    if meeting.starts_at <= clock.utcnow():
        raise MeetingError(_("Cette réunion a déjà commencé."))
    had_place = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = clock.utcnow()
    db.session.flush()
    if not had_place:
        return []
    return fill_free_places(meeting)


def fill_free_places(meeting: Meeting) -> list[MeetingRegistration]:
    """Promote from the waiting list, first come first served, while places are free.
    The caller holds the meeting's row lock."""
    if meeting.cancelled_at is not None or meeting.starts_at <= clock.utcnow():
        return []
    promoted: list[MeetingRegistration] = []
    while True:
        if meeting.capacity is not None and _confirmed_count(meeting.id) >= meeting.capacity:
            break
        first = db.session.scalar(
            sa.select(MeetingRegistration)
            .where(
                MeetingRegistration.meeting_id == meeting.id,
                MeetingRegistration.status == RegistrationStatus.WAITING,
            )
            .order_by(MeetingRegistration.queued_at, MeetingRegistration.id)
            .limit(1)
            .with_for_update()
        )
        if first is None:
            break
        first.status = RegistrationStatus.CONFIRMED
        first.promoted_at = clock.utcnow()
        db.session.flush()
        promoted.append(first)
        user = db.session.get(User, first.user_id)
        if user is not None:
            _mail(user, "meeting_promoted", meeting)
    return promoted


# --------------------------------------------------------------------------- mail


def _mailable(user: User | None) -> bool:
    return bool(
        user is not None
        and user.email
        and user.deleted_at is None
        and user.blocked_at is None
        and user.is_active_account
    )


def meeting_url(meeting: Meeting) -> str:
    from tenants.urls import tenant_url

    return tenant_url(current_tenant(), "meetings.show", meeting_id=meeting.id)


def ics_url(meeting: Meeting) -> str:
    from tenants.urls import tenant_url

    return tenant_url(current_tenant(), "meetings.ics", meeting_id=meeting.id)


def when_text(meeting: Meeting) -> str:
    """« mardi 3 mars 2027, de 18:30 à 20:30 » in Paris time."""
    from flask_babel import format_date, format_time

    start = meeting.starts_at.astimezone(PARIS)
    end = meeting.ends_at.astimezone(PARIS)
    if start.date() == end.date():
        return _(
            "%(day)s, de %(start)s à %(end)s",
            day=format_date(start, format="full"),
            start=format_time(start, format="short"),
            end=format_time(end, format="short"),
        )
    return _(
        "du %(start)s au %(end)s",
        start=format_date(start, format="full") + " " + format_time(start, format="short"),
        end=format_date(end, format="full") + " " + format_time(end, format="short"),
    )


def _mail(user: User, template: str, meeting: Meeting, **context) -> None:
    if not _mailable(user):
        return
    send_mail(
        user.email,
        template,
        name=user.display_name,
        meeting_title=meeting.title,
        when=when_text(meeting),
        address=meeting.address,
        online_url=meeting.online_url,
        meeting_link=meeting_url(meeting),
        ics_link=ics_url(meeting),
        tenant=current_tenant(),
        **context,
    )


# --------------------------------------------------------------------------- reminders


def reminder_window(today: date) -> tuple[datetime, datetime]:
    """Tomorrow in Paris, from midnight to midnight, in UTC."""
    tomorrow = today + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), PARIS)
    end = datetime.combine(tomorrow + timedelta(days=1), time(0), PARIS)
    return start.astimezone(UTC), end.astimezone(UTC)


def send_reminders(today: date | None = None) -> int:
    """E-mail everyone with a place at a meeting held tomorrow, once: ``reminded_at`` is
    set under a row lock (SKIP LOCKED: two runs at once share the work, never repeat it)."""
    start, end = reminder_window(today or clock.paris_today())
    rows = list(
        db.session.scalars(
            sa.select(MeetingRegistration)
            .join(Meeting, Meeting.id == MeetingRegistration.meeting_id)
            .where(
                Meeting.starts_at >= start,
                Meeting.starts_at < end,
                Meeting.published_at.is_not(None),
                Meeting.cancelled_at.is_(None),
                MeetingRegistration.status == RegistrationStatus.CONFIRMED,
                MeetingRegistration.reminded_at.is_(None),
            )
            .order_by(MeetingRegistration.id)
            .with_for_update(of=MeetingRegistration, skip_locked=True)
        )
    )
    sent = 0
    now = clock.utcnow()
    for registration in rows:
        meeting = db.session.get(Meeting, registration.meeting_id)
        user = db.session.get(User, registration.user_id)
        registration.reminded_at = now
        if _mailable(user):
            _mail(user, "meeting_reminder", meeting)
            sent += 1
    db.session.flush()
    return sent


# --------------------------------------------------------------------------- minutes


def save_minutes(meeting: Meeting, actor: User, minutes: str, publish: bool) -> None:
    """Minutes are published once the meeting has begun (never before it took place)."""
    minutes = _clean(minutes)
    if len(minutes) > MINUTES_MAX:
        raise MeetingError(_("Le compte rendu est trop long."), "minutes")
    if publish and not minutes:
        raise MeetingError(_("Écrivez le compte rendu avant de le publier."), "minutes")
    if publish and meeting.starts_at > clock.utcnow():
        raise MeetingError(_("Le compte rendu se publie après la réunion, pas avant."), "minutes")
    was_published = meeting.minutes_published_at is not None
    meeting.minutes = minutes or None
    if publish and not was_published:
        meeting.minutes_published_at = clock.utcnow()
    elif not publish:
        meeting.minutes_published_at = None
    db.session.flush()
    audit(
        "meetings.minutes_saved",
        actor,
        "meeting",
        meeting.id,
        published=meeting.minutes_published_at is not None,
        length=len(minutes),
    )


def enter_proposal(
    meeting: Meeting,
    actor: User,
    *,
    process_id: int | None,
    title: str,
    body: str,
    speaker: str | None = None,
) -> Proposal:
    """A proposal made at the meeting, entered by staff: no citizen account is its author;
    its timeline says it comes from the meeting and who entered it; audited."""
    if meeting.starts_at > clock.utcnow():
        raise MeetingError(
            _("Les propositions se saisissent après la réunion, pas avant."), "title"
        )
    process = db.session.get(Process, process_id) if process_id else None
    if process is None:
        raise MeetingError(_("Choisissez la démarche de la proposition."), "process_id")
    title = " ".join((title or "").split())
    body = _clean(body)
    if not title:
        raise MeetingError(_("Donnez un titre à la proposition."), "title")
    if len(title) > PROPOSAL_TITLE_MAX:
        raise MeetingError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    if not body:
        raise MeetingError(_("Décrivez la proposition."), "body")
    if len(body) > PROPOSAL_BODY_MAX:
        raise MeetingError(_("La description ne peut pas dépasser 10 000 caractères."), "body")
    speaker = " ".join((speaker or "").split())[:SPEAKER_MAX] or None
    proposal = Proposal(
        process_id=process.id,
        author_id=None,
        title=title,
        body=body,
        status=ProposalStatus.RECEIVED,
        latitude=None,
        longitude=None,
    )
    db.session.add(proposal)
    db.session.flush()
    from flask_babel import format_date

    origin = _(
        "Proposition formulée lors de la réunion publique « %(title)s » du %(date)s, "
        "saisie par l'équipe de la collectivité.",
        title=meeting.title,
        date=format_date(meeting.starts_at.astimezone(PARIS), format="long"),
    )
    if speaker:
        origin += " " + _("Exprimée par : %(name)s.", name=speaker)
    db.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            kind=ProposalEventKind.CREATED,
            to_status=ProposalStatus.RECEIVED.value,
            body=origin,
            actor_id=actor.id,
            is_public=True,
        )
    )
    db.session.add(
        MeetingProposal(
            meeting_id=meeting.id, proposal_id=proposal.id, speaker=speaker, entered_by_id=actor.id
        )
    )
    db.session.flush()
    audit(
        "meetings.proposal_entered",
        actor,
        "proposal",
        proposal.id,
        meeting_id=meeting.id,
        title=title,
        speaker=speaker,
        staff_entry=True,
    )
    return proposal


def meeting_of_proposal(proposal_id: int) -> Meeting | None:
    return db.session.scalar(
        sa.select(Meeting)
        .join(MeetingProposal, MeetingProposal.meeting_id == Meeting.id)
        .where(MeetingProposal.proposal_id == proposal_id)
    )
