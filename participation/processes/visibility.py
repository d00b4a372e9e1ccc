"""What the public sees of the processes, decided here once for the pages, the API and the
open data: a process is public once published, and stays public when archived; a draft is
the staff's alone. The features inside a process (proposals, debates, comments) start from
:func:`public_clause`."""

from __future__ import annotations

import sqlalchemy as sa

from participation.processes.models import Process, ProcessState

PUBLIC_STATES = (ProcessState.PUBLISHED, ProcessState.ARCHIVED)


def is_public(process: Process | None) -> bool:
    return process is not None and process.state in PUBLIC_STATES


def public_clause(process=Process):
    """SQL twin of :func:`is_public`; ``process`` may be an alias of :class:`Process`."""
    return process.state.in_(PUBLIC_STATES)


def public_processes() -> sa.Select:
    """Every public process (unordered, nothing loaded with it)."""
    return sa.select(Process).where(public_clause())
