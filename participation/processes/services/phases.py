"""The phases of a process: checked (dates within bounds, no overlap, at most
``MAX_PHASES``), added, changed, deleted and moved, numbered in calendar order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

from core.audit import audit
from core.db import db
from core.forms import clamp_date
from core.i18n import date_fr
from participation.accounts.models import User
from participation.processes.models import Phase, PhaseKind, Process, ProcessState
from participation.processes.services.common import ACTIONS, MAX_PHASES, ProcessError
from participation.processes.services.timeline import phase_actions


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
