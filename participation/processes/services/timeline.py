"""A process's timeline as seen on a given day: its status, its current and next phase,
the actions open now (pure functions of the process and ``today``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from participation.processes.models import Phase, Process, ProcessState
from participation.processes.services.common import (
    ACTION_LABELS,
    ACTIONS,
    PHASE_KIND_LABELS,
    STATUS_LABELS,
    ProcessStatus,
)


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
    """Kept in step with :func:`~participation.processes.services.queries.status_expression`,
    its SQL twin."""
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
