"""The sections other features add to a process's public page (templates/processes/show.html).

Two places on the page take them, each in ``order``:

- after the timeline, a feature's section about the whole process
  (:func:`register_process_section`: the process's proposals, debates, consultations...);
- inside each phase of the timeline, a feature's summary of that phase
  (:func:`register_phase_summary`).

A section is a template and ``data``, the function that gives the template what it shows:
the page includes the template with ``section`` set to the entry, and the template calls
``section.data(process)`` (``section.data(process, phase)`` in a phase), so nothing is
queried for a section the template does not show. Every included template also sees
``process``, ``overview`` and ``today`` (and ``phase`` and ``step`` in a phase).

The sections are kept per application (``app.extensions``), like the menus
(core/navigation.py): a page shows only the sections of the features its app registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

EXTENSION_KEY = "pnyx_process_page"
PROCESS = "process"
PHASE = "phase"


@dataclass(frozen=True)
class ProcessSection:
    template: str
    order: int
    data: Callable[..., Any]


def _register(app: Flask, place: str, template: str, order: int, data: Callable) -> None:
    places = app.extensions.setdefault(EXTENSION_KEY, {PROCESS: {}, PHASE: {}})
    # By template: registering again (a second init_app) replaces, never duplicates.
    places[place][template] = ProcessSection(template, order, data)


def register_process_section(
    app: Flask, template: str, order: int, data: Callable[[Any], Any]
) -> None:
    """A section after the timeline; ``data(process)`` gives what the template shows."""
    _register(app, PROCESS, template, order, data)


def register_phase_summary(
    app: Flask, template: str, order: int, data: Callable[[Any, Any], Any]
) -> None:
    """A summary in each phase of the timeline; ``data(process, phase)``."""
    _register(app, PHASE, template, order, data)


def _sections(place: str) -> list[ProcessSection]:
    places = current_app.extensions.get(EXTENSION_KEY, {})
    return sorted(places.get(place, {}).values(), key=lambda s: (s.order, s.template))


def process_sections() -> list[ProcessSection]:
    return _sections(PROCESS)


def phase_summaries() -> list[ProcessSection]:
    return _sections(PHASE)


def init_app(app: Flask) -> None:
    """The process page calls ``process_sections()`` and ``phase_summaries()``."""
    app.jinja_env.globals.update(process_sections=process_sections, phase_summaries=phase_summaries)
