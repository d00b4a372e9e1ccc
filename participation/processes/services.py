"""Participatory processes ("démarches"): their timeline, the public lists and the staff
operations (processes, phases, themes, images).

Services add and flush, never commit and never touch the request (ARCHITECTURE §5). Every
change made by the staff writes its audit row in the same transaction. Rules that can be
broken raise :class:`ProcessError` (French message, and the form field it belongs to).

Where a process stands depends on the day: every function that needs it takes ``today``
as a parameter, and views pass :func:`today` (tests monkeypatch it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, selectinload

from core import uploads
from core.audit import audit
from core.db import db
from core.forms import clamp_date
from core.i18n import date_fr
from participation.accounts.models import Neighbourhood, User
from participation.processes.models import (
    InvalidProcessTransition,
    Phase,
    PhaseKind,
    Process,
    ProcessState,
    Theme,
)

#: The actions a phase can open, in the order they are shown.
ACTIONS = ("propose", "support", "comment", "debate")
ACTION_LABELS = {
    "propose": _l("Déposer une proposition"),
    "support": _l("Soutenir"),
    "comment": _l("Commenter"),
    "debate": _l("Débattre"),
}
PHASE_KIND_LABELS = {
    PhaseKind.INFORMATION: _l("Information"),
    PhaseKind.CONTRIBUTIONS: _l("Contributions"),
    PhaseKind.ANALYSIS: _l("Analyse"),
    PhaseKind.VOTE: _l("Vote"),
    PhaseKind.RESULTS: _l("Résultats"),
    PhaseKind.IMPLEMENTATION: _l("Mise en œuvre"),
    PhaseKind.OTHER: _l("Autre étape"),
}
STATE_LABELS = {
    ProcessState.DRAFT: _l("Brouillon"),
    ProcessState.PUBLISHED: _l("Publiée"),
    ProcessState.ARCHIVED: _l("Archivée"),
}
PUBLIC_STATES = (ProcessState.PUBLISHED, ProcessState.ARCHIVED)
MAX_PHASES = 20
HOME_PER_GROUP = 6
MAX_ID = 2**31 - 1

#: For the staff audit log (registered with core.audit by participation.processes.init_app).
AUDIT_ACTION_LABELS = {
    "processes.process_created": _l("Démarche créée"),
    "processes.process_updated": _l("Démarche modifiée"),
    "processes.process_published": _l("Démarche publiée"),
    "processes.process_archived": _l("Démarche archivée"),
    "processes.process_deleted": _l("Brouillon de démarche supprimé"),
    "processes.phase_added": _l("Phase ajoutée"),
    "processes.phase_updated": _l("Phase modifiée"),
    "processes.phase_deleted": _l("Phase supprimée"),
    "processes.phase_moved": _l("Phase déplacée"),
    "processes.theme_created": _l("Thème créé"),
    "processes.theme_updated": _l("Thème modifié"),
    "processes.theme_deleted": _l("Thème supprimé"),
}
AUDIT_TARGET_LABELS = {"process": _l("Démarche"), "phase": _l("Phase"), "theme": _l("Thème")}


class ProcessStatus(StrEnum):
    """Where a published process stands on a given day (what the public sees)."""

    OPEN = "open"
    UPCOMING = "upcoming"
    FINISHED = "finished"


STATUS_LABELS = {
    ProcessStatus.OPEN: _l("En cours"),
    ProcessStatus.UPCOMING: _l("À venir"),
    ProcessStatus.FINISHED: _l("Terminée"),
}
#: The ``?etat=`` values of the public list.
STATUS_SLUGS = {
    "en-cours": ProcessStatus.OPEN,
    "a-venir": ProcessStatus.UPCOMING,
    "terminees": ProcessStatus.FINISHED,
}


class ProcessError(Exception):
    """A rule about processes was broken; the message is French and shown to the user.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def is_valid_id(value: int | None) -> bool:
    """Ids are PostgreSQL ``integer``s: a larger number from a URL finds nothing (instead
    of an "integer out of range" error)."""
    return value is not None and 0 < value <= MAX_ID


# --------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class PhaseStep:
    """One phase of the timeline as seen on ``today``."""

    phase: Phase
    state: str  # "done", "current" or "upcoming"
    actions: tuple[str, ...]

    @property
    def is_current(self) -> bool:
        return self.state == "current"

    @property
    def is_done(self) -> bool:
        return self.state == "done"

    @property
    def kind_label(self) -> str:
        return str(PHASE_KIND_LABELS[self.phase.kind])

    @property
    def action_labels(self) -> list[str]:
        return [str(ACTION_LABELS[action]) for action in self.actions]


@dataclass(frozen=True)
class ProcessOverview:
    """What a page needs to show a process on ``today``: its status, its current and next
    phase, what can be done now, and every phase of the timeline."""

    process: Process
    today: date
    status: ProcessStatus
    current_phase: Phase | None
    next_phase: Phase | None
    steps: tuple[PhaseStep, ...]
    open_actions: tuple[str, ...]

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def starts_on(self) -> date | None:
        return min((p.starts_on for p in self.process.phases), default=None)

    @property
    def ends_on(self) -> date | None:
        return max((p.ends_on for p in self.process.phases), default=None)

    @property
    def open_action_labels(self) -> list[str]:
        return [str(ACTION_LABELS[action]) for action in self.open_actions]

    @property
    def current_step(self) -> PhaseStep | None:
        return next((step for step in self.steps if step.is_current), None)

    def allows(self, action: str) -> bool:
        return action in self.open_actions


def phase_actions(phase: Phase) -> tuple[str, ...]:
    return tuple(action for action in ACTIONS if getattr(phase, f"allows_{action}"))


def current_phase(process: Process, today: date) -> Phase | None:
    """The phase running on ``today`` (None between phases, before or after)."""
    return process.current_phase(today)


def process_status(process: Process, today: date) -> ProcessStatus:
    """Kept in step with :func:`_status_expression`, its SQL twin."""
    if process.state == ProcessState.ARCHIVED:
        return ProcessStatus.FINISHED
    if not process.phases:
        return ProcessStatus.UPCOMING
    if max(p.ends_on for p in process.phases) < today:
        return ProcessStatus.FINISHED
    if min(p.starts_on for p in process.phases) <= today:
        return ProcessStatus.OPEN
    return ProcessStatus.UPCOMING


def process_overview(process: Process, today: date) -> ProcessOverview:
    phases = sorted(process.phases, key=lambda p: (p.starts_on, p.position, p.id or 0))
    current = process.current_phase(today)
    steps = []
    for phase in phases:
        if phase.ends_on < today:
            state = "done"
        elif phase.starts_on <= today:
            state = "current"
        else:
            state = "upcoming"
        steps.append(PhaseStep(phase, state, phase_actions(phase)))
    next_phase = next((p for p in phases if p.starts_on > today), None)
    open_actions = tuple(action for action in ACTIONS if process.allows(action, today))
    return ProcessOverview(
        process=process,
        today=today,
        status=process_status(process, today),
        current_phase=current,
        next_phase=next_phase,
        steps=tuple(steps),
        open_actions=open_actions,
    )


# --------------------------------------------------------------------------- public queries


def _with_details(query):
    return query.options(
        selectinload(Process.phases),
        joinedload(Process.theme),
        joinedload(Process.neighbourhood),
    )


def _bounds():
    """First and last day of each process's timeline."""
    return (
        sa.select(
            Phase.process_id.label("process_id"),
            sa.func.min(Phase.starts_on).label("first_day"),
            sa.func.max(Phase.ends_on).label("last_day"),
        )
        .group_by(Phase.process_id)
        .subquery("bounds")
    )


def _status_expression(bounds, today: date):
    # NULL bounds (no phase) compare as false: such a process counts as upcoming, as in
    # process_status().
    return sa.case(
        (Process.state == ProcessState.ARCHIVED, ProcessStatus.FINISHED.value),
        (bounds.c.last_day < today, ProcessStatus.FINISHED.value),
        (bounds.c.first_day <= today, ProcessStatus.OPEN.value),
        else_=ProcessStatus.UPCOMING.value,
    )


def _public_query(bounds):
    return (
        sa.select(Process)
        .outerjoin(bounds, bounds.c.process_id == Process.id)
        .where(Process.state.in_(PUBLIC_STATES))
    )


def _order_within(status: ProcessStatus, bounds) -> tuple:
    if status == ProcessStatus.OPEN:
        return (bounds.c.last_day.asc().nulls_last(), Process.id)  # closing soonest first
    if status == ProcessStatus.UPCOMING:
        return (bounds.c.first_day.asc().nulls_last(), Process.id)
    return (bounds.c.last_day.desc().nulls_last(), Process.id.desc())


def public_processes(
    today: date,
    status: ProcessStatus | None = None,
    theme_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Pagination:
    """One page of the public list (published and archived processes)."""
    bounds = _bounds()
    status_expr = _status_expression(bounds, today)
    query = _public_query(bounds)
    if status is not None:
        query = query.where(status_expr == status.value)
    if theme_id:
        query = query.where(Process.theme_id == theme_id)
    if status is not None:
        order = _order_within(status, bounds)
    else:
        rank = sa.case(
            (status_expr == ProcessStatus.OPEN.value, 0),
            (status_expr == ProcessStatus.UPCOMING.value, 1),
            else_=2,
        )
        within = sa.case(
            (status_expr == ProcessStatus.OPEN.value, bounds.c.last_day),
            (status_expr == ProcessStatus.UPCOMING.value, bounds.c.first_day),
        )
        order = (
            rank,
            within.asc().nulls_last(),
            bounds.c.last_day.desc().nulls_last(),
            Process.id.desc(),
        )
    return db.paginate(
        _with_details(query.order_by(*order)), page=page, per_page=per_page, error_out=False
    )


@dataclass(frozen=True)
class HomeGroup:
    status: ProcessStatus
    overviews: list[ProcessOverview]
    total: int

    @property
    def slug(self) -> str:
        return next(slug for slug, status in STATUS_SLUGS.items() if status == self.status)


def home_groups(today: date, per_group: int = HOME_PER_GROUP) -> list[HomeGroup]:
    """Open, upcoming and finished processes for the home page: at most ``per_group`` of
    each, with the size of each group. A fixed number of queries, whatever the data."""
    bounds = _bounds()
    status_expr = _status_expression(bounds, today)
    counts = dict(
        db.session.execute(
            sa.select(status_expr, sa.func.count())
            .select_from(Process)
            .outerjoin(bounds, bounds.c.process_id == Process.id)
            .where(Process.state.in_(PUBLIC_STATES))
            .group_by(status_expr)
        ).all()
    )
    groups = []
    for status in (ProcessStatus.OPEN, ProcessStatus.UPCOMING, ProcessStatus.FINISHED):
        processes: list[Process] = []
        if counts.get(status.value):
            processes = list(
                db.session.scalars(
                    _with_details(
                        _public_query(bounds)
                        .where(status_expr == status.value)
                        .order_by(*_order_within(status, bounds))
                        .limit(per_group)
                    )
                )
            )
        groups.append(
            HomeGroup(
                status=status,
                overviews=[process_overview(p, today) for p in processes],
                total=counts.get(status.value, 0),
            )
        )
    return groups


def staff_process_page(state: str | None = None, page: int = 1, per_page: int = 50) -> Pagination:
    """Every process, drafts included (most recently changed first), one page at a time."""
    query = sa.select(Process)
    if state:
        query = query.where(Process.state == ProcessState(state))
    query = _with_details(query.order_by(Process.updated_at.desc(), Process.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, max_per_page=None, error_out=False)


def staff_processes(
    state: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[Process], int]:
    """:func:`staff_process_page` as ``(processes, total)``, the form budgets' views read."""
    found = staff_process_page(state, page, per_page)
    return found.items, found.total or 0


def get_process(process_id: int, lock: bool = False) -> Process | None:
    """A process in any state, with its phases, theme and quartier loaded."""
    if not is_valid_id(process_id):
        return None
    query = _with_details(sa.select(Process).where(Process.id == process_id))
    if lock:
        # Phase changes are checked against the other phases: one writer at a time.
        query = query.with_for_update(of=Process).execution_options(populate_existing=True)
    return db.session.scalar(query)


def get_public_process(process_id: int) -> Process | None:
    process = get_process(process_id)
    if process is None or process.state not in PUBLIC_STATES:
        return None
    return process


# --------------------------------------------------------------------------- themes


def all_themes() -> list[Theme]:
    return list(db.session.scalars(sa.select(Theme).order_by(Theme.position, Theme.name)))


def themes_in_use() -> list[Theme]:
    """Themes of at least one public process (the public filter offers only those)."""
    used = sa.select(Process.theme_id).where(Process.state.in_(PUBLIC_STATES))
    return list(
        db.session.scalars(
            sa.select(Theme).where(Theme.id.in_(used)).order_by(Theme.position, Theme.name)
        )
    )


def all_neighbourhoods() -> list[Neighbourhood]:
    return list(
        db.session.scalars(
            sa.select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


def _clean_theme_name(name: str | None, current_id: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ProcessError(_("Indiquez le nom du thème."), "name")
    if len(name) > 120:
        raise ProcessError(_("Le nom ne peut pas dépasser 120 caractères."), "name")
    clash = db.session.scalar(
        sa.select(Theme.id).where(
            sa.func.lower(Theme.name) == name.lower(), Theme.id != (current_id or 0)
        )
    )
    if clash is not None:
        raise ProcessError(_("Un thème porte déjà ce nom."), "name")
    return name


def create_theme(name: str, position: int | None, actor: User) -> Theme:
    name = _clean_theme_name(name, None)
    if position is None:
        position = (db.session.scalar(sa.select(sa.func.max(Theme.position))) or 0) + 1
    theme = Theme(name=name, position=position)
    db.session.add(theme)
    db.session.flush()
    audit("processes.theme_created", actor, "theme", theme.id, name=name, position=position)
    return theme


def update_theme(theme: Theme, name: str, position: int | None, actor: User) -> bool:
    name = _clean_theme_name(name, theme.id)
    position = theme.position if position is None else position
    if (theme.name, theme.position) == (name, position):
        return False
    before = {"name": theme.name, "position": theme.position}
    theme.name, theme.position = name, position
    db.session.flush()
    audit(
        "processes.theme_updated",
        actor,
        "theme",
        theme.id,
        before=before,
        after={"name": name, "position": position},
    )
    return True


def delete_theme(theme: Theme, actor: User) -> None:
    # Its processes stay, without a theme (the foreign key sets NULL).
    audit("processes.theme_deleted", actor, "theme", theme.id, name=theme.name)
    db.session.delete(theme)
    db.session.flush()


# --------------------------------------------------------------------------- images


def read_image(stream, filename: str | None = None) -> tuple[bytes, str]:
    """The bytes and kind (``png``/``jpg``/``webp``) of an uploaded image, or ProcessError.

    core.uploads checks the content, never the name (an SVG or an HTML page called
    ``photo.png`` is refused) and the pixel count."""
    try:
        return uploads.validate_image(stream)
    except uploads.UploadError as error:
        raise ProcessError(str(error), "image") from None


def store_image(tenant_id: int, data: bytes, kind: str) -> str:
    """Re-encode the image without metadata under a random name (core.uploads)."""
    try:
        return uploads.store_image(tenant_id, data, kind)
    except uploads.UploadError as error:
        raise ProcessError(str(error), "image") from None


def delete_image(tenant_id: int, name: str | None) -> None:
    uploads.delete_image(tenant_id, name)


def is_image_name(name: str) -> bool:
    return uploads.IMAGE_NAME_RE.fullmatch(name or "") is not None


def process_with_image(name: str) -> Process | None:
    """The process showing this image (its draft state decides who may see it)."""
    return db.session.scalar(sa.select(Process).where(Process.image_path == name).limit(1))


# --------------------------------------------------------------------------- processes


@dataclass
class ProcessFields:
    """What the staff form gives for a process (the image is handled apart)."""

    title: str
    summary: str
    description: str
    theme_id: int | None
    neighbourhood_id: int | None
    image_alt: str | None
    support_threshold: int | None


FIELD_NAMES = (
    "title",
    "summary",
    "description",
    "theme_id",
    "neighbourhood_id",
    "image_path",
    "image_alt",
    "support_threshold",
)


def _clean_fields(fields: ProcessFields, will_have_image: bool) -> dict:
    title = " ".join((fields.title or "").split())
    if not title:
        raise ProcessError(_("Indiquez le titre de la démarche."), "title")
    if len(title) > 200:
        raise ProcessError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    summary = " ".join((fields.summary or "").split())
    if not summary:
        raise ProcessError(_("Indiquez un résumé en une ou deux phrases."), "summary")
    if len(summary) > 500:
        raise ProcessError(_("Le résumé ne peut pas dépasser 500 caractères."), "summary")
    theme_id = fields.theme_id or None
    if theme_id is not None and db.session.get(Theme, theme_id) is None:
        raise ProcessError(_("Ce thème n'existe plus : choisissez-en un autre."), "theme_id")
    neighbourhood_id = fields.neighbourhood_id or None
    if neighbourhood_id is not None and db.session.get(Neighbourhood, neighbourhood_id) is None:
        raise ProcessError(
            _("Ce quartier n'existe plus : choisissez-en un autre."), "neighbourhood_id"
        )
    image_alt = " ".join((fields.image_alt or "").split()) or None
    if will_have_image and not image_alt:
        raise ProcessError(
            _(
                "Décrivez l'image en quelques mots pour les personnes qui ne la voient pas "
                "(par exemple « Vue des berges de l'Ill au printemps »)."
            ),
            "image_alt",
        )
    threshold = fields.support_threshold
    if threshold is not None and threshold < 1:
        raise ProcessError(_("Le seuil doit être d'au moins 1 soutien."), "support_threshold")
    return {
        "title": title,
        "summary": summary,
        "description": (fields.description or "").strip(),
        "theme_id": theme_id,
        "neighbourhood_id": neighbourhood_id,
        "image_alt": image_alt if will_have_image else None,
        "support_threshold": threshold,
    }


def create_process(
    fields: ProcessFields,
    actor: User,
    *,
    tenant_id: int,
    image: tuple[bytes, str] | None = None,
) -> Process:
    """A new draft process (its image, when given, is stored once the fields are valid)."""
    values = _clean_fields(fields, will_have_image=image is not None)
    process = Process(state=ProcessState.DRAFT, created_by_id=actor.id, **values)
    if image is not None:
        process.image_path = store_image(tenant_id, *image)
    db.session.add(process)
    db.session.flush()
    audit("processes.process_created", actor, "process", process.id, title=process.title)
    return process


def update_process(
    process: Process,
    fields: ProcessFields,
    actor: User,
    *,
    tenant_id: int,
    image: tuple[bytes, str] | None = None,
    remove_image: bool = False,
) -> tuple[list[str], str | None]:
    """Save the form; return the names of the changed fields and the image file to delete
    once the transaction is committed (the replaced or removed one)."""
    will_have_image = image is not None or (bool(process.image_path) and not remove_image)
    values = _clean_fields(fields, will_have_image=will_have_image)
    old_image = None
    if image is not None:
        old_image = process.image_path
        values["image_path"] = store_image(tenant_id, *image)
    elif remove_image and process.image_path:
        old_image = process.image_path
        values["image_path"] = None
    changed = [name for name, value in values.items() if getattr(process, name) != value]
    if not changed:
        return [], None
    for name in changed:
        setattr(process, name, values[name])
    db.session.flush()
    audit("processes.process_updated", actor, "process", process.id, fields=sorted(changed))
    return changed, old_image


def publish_process(process: Process, actor: User) -> None:
    """Raises InvalidProcessTransition (French message) when the process cannot be published."""
    process.publish()
    db.session.flush()
    audit("processes.process_published", actor, "process", process.id, title=process.title)


def archive_process(process: Process, actor: User) -> None:
    if process.state == ProcessState.DRAFT:
        # A draft was never public: there is nothing to keep as a record.
        raise InvalidProcessTransition(
            _("Un brouillon ne peut pas être archivé : publiez-le ou supprimez-le.")
        )
    process.archive()
    db.session.flush()
    audit("processes.process_archived", actor, "process", process.id, title=process.title)


def delete_draft(process: Process, actor: User) -> str | None:
    """Delete a draft; return its image file, to delete once committed."""
    if process.state != ProcessState.DRAFT:
        raise ProcessError(
            _("Seul un brouillon peut être supprimé ; une démarche publiée peut être archivée.")
        )
    audit("processes.process_deleted", actor, "process", process.id, title=process.title)
    image = process.image_path
    db.session.delete(process)
    db.session.flush()
    return image


# --------------------------------------------------------------------------- phases


@dataclass
class PhaseFields:
    kind: PhaseKind
    title: str
    description: str
    starts_on: date
    ends_on: date
    allows_propose: bool = False
    allows_support: bool = False
    allows_comment: bool = False
    allows_debate: bool = False


def period_label(start: date, end: date) -> str:
    return _("du %(start)s au %(end)s", start=date_fr(start), end=date_fr(end))


def _check_phase(process: Process, fields: PhaseFields, phase: Phase | None) -> dict:
    title = " ".join((fields.title or "").split())
    if not title:
        raise ProcessError(_("Indiquez le titre de la phase."), "title")
    if len(title) > 200:
        raise ProcessError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    if fields.starts_on is None:
        raise ProcessError(_("Indiquez la date de début."), "starts_on")
    if fields.ends_on is None:
        raise ProcessError(_("Indiquez la date de fin."), "ends_on")
    if fields.ends_on < fields.starts_on:
        raise ProcessError(
            _("La date de fin doit être le même jour que la date de début ou après."), "ends_on"
        )
    for other in process.phases:
        if other is phase:
            continue
        if fields.starts_on <= other.ends_on and other.starts_on <= fields.ends_on:
            raise ProcessError(
                _(
                    "Ces dates chevauchent la phase « %(title)s » (%(period)s) : deux phases "
                    "ne peuvent pas avoir lieu en même temps.",
                    title=other.title,
                    period=period_label(other.starts_on, other.ends_on),
                ),
                "starts_on",
            )
    if phase is None and len(process.phases) >= MAX_PHASES:
        raise ProcessError(_("Une démarche compte au plus %(n)d phases.", n=MAX_PHASES))
    return {
        "kind": PhaseKind(fields.kind),
        "title": title,
        "description": (fields.description or "").strip(),
        "starts_on": fields.starts_on,
        "ends_on": fields.ends_on,
        **{f"allows_{action}": bool(getattr(fields, f"allows_{action}")) for action in ACTIONS},
    }


def _renumber(process: Process) -> None:
    """Positions follow the calendar: the timeline reads in date order."""
    ordered = sorted(process.phases, key=lambda p: (p.starts_on, p.ends_on, p.id or 0))
    for position, phase in enumerate(ordered, start=1):
        if phase.position != position:
            phase.position = position
    process.phases.sort(key=lambda p: p.position)


def _phase_audit(phase: Phase) -> dict:
    return {
        "title": phase.title,
        "kind": phase.kind.value,
        "starts_on": phase.starts_on.isoformat(),
        "ends_on": phase.ends_on.isoformat(),
        "actions": list(phase_actions(phase)),
    }


def add_phase(process: Process, fields: PhaseFields, actor: User) -> Phase:
    values = _check_phase(process, fields, None)
    phase = Phase(**values)
    process.phases.append(phase)
    _renumber(process)
    db.session.flush()
    audit(
        "processes.phase_added",
        actor,
        "process",
        process.id,
        phase_id=phase.id,
        **_phase_audit(phase),
    )
    return phase


def update_phase(phase: Phase, fields: PhaseFields, actor: User) -> bool:
    process = phase.process
    values = _check_phase(process, fields, phase)
    changed = [name for name, value in values.items() if getattr(phase, name) != value]
    if not changed:
        return False
    before = _phase_audit(phase)
    for name in changed:
        setattr(phase, name, values[name])
    _renumber(process)
    db.session.flush()
    audit(
        "processes.phase_updated",
        actor,
        "process",
        process.id,
        phase_id=phase.id,
        before=before,
        after=_phase_audit(phase),
    )
    return True


def delete_phase(phase: Phase, actor: User) -> None:
    process = phase.process
    if process.state != ProcessState.DRAFT and len(process.phases) <= 1:
        raise ProcessError(
            _("Une démarche publiée garde au moins une phase : modifiez celle-ci plutôt.")
        )
    audit(
        "processes.phase_deleted",
        actor,
        "process",
        process.id,
        phase_id=phase.id,
        **_phase_audit(phase),
    )
    process.phases.remove(phase)
    db.session.flush()
    _renumber(process)
    db.session.flush()


def move_phase(phase: Phase, direction: str, actor: User) -> Phase:
    """Swap ``phase`` with its neighbour in the calendar (``direction`` "up": earlier).

    The two phases trade places within the span they cover together: each keeps its
    duration, and the gap between them stays the same. Return the neighbour.
    """
    if direction not in ("up", "down"):
        raise ProcessError(_("Ce déplacement n'est pas possible."))
    process = phase.process
    ordered = sorted(process.phases, key=lambda p: p.starts_on)
    index = ordered.index(phase)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(ordered):
        raise ProcessError(
            _("Cette phase est déjà la première.")
            if direction == "up"
            else _("Cette phase est déjà la dernière.")
        )
    first, second = sorted((phase, ordered[other_index]), key=lambda p: p.starts_on)
    gap = second.starts_on - first.ends_on
    span_start = first.starts_on
    first_length = first.ends_on - first.starts_on
    second_length = second.ends_on - second.starts_on
    second.starts_on, second.ends_on = span_start, span_start + second_length
    first.starts_on = second.ends_on + gap
    first.ends_on = first.starts_on + first_length
    _renumber(process)
    db.session.flush()
    audit(
        "processes.phase_moved",
        actor,
        "process",
        process.id,
        phase_id=phase.id,
        direction=direction,
        swapped_with=ordered[other_index].id,
    )
    return ordered[other_index]


def default_phase_dates(process: Process, today: date) -> tuple[date, date]:
    """Suggested dates for a new phase: right after the last one, for four weeks."""
    # Clamped: a date stored before forms were bounded (9999-12-31) would overflow.
    last = clamp_date(max((p.ends_on for p in process.phases), default=None))
    start = last + timedelta(days=1) if last else today
    return start, start + timedelta(days=27)
