"""The sections other features add to a process's public page (templates/processes/show.html).

Two places on the page take them, each in ``order``:

- after the timeline, a feature's section about the whole process
  (:func:`register_process_section`: the process's proposals, debates, consultations...);
- inside each phase of the timeline, a feature's summary of that phase
  (:func:`register_phase_summary`).

A section is a name (the feature's), a template, and ``data``: the function that gives the
template what it shows. The template asks for it by name, ``process_section_data("budgets",
process)`` (``phase_summary_data("budgets", process, phase)`` in a phase), so that it needs
nothing but ``process`` (and ``phase``) in its context and nothing is queried for a section
it does not show. On the page every include also sees ``overview`` and ``today`` (and
``phase`` and ``step`` in a phase).

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
    name: str  # the feature's ("budgets")
    template: str
    order: int
    data: Callable[..., Any]


def _places(app: Flask) -> dict[str, dict[str, ProcessSection]]:
    return app.extensions.setdefault(EXTENSION_KEY, {PROCESS: {}, PHASE: {}})


def register_process_section(
    app: Flask, name: str, template: str, order: int, data: Callable[[Any], Any]
) -> None:
    """A section after the timeline; ``data(process)`` gives what the template shows.
    Registering a name again (a second ``init_app``) replaces it."""
    _places(app)[PROCESS][name] = ProcessSection(name, template, order, data)


def register_phase_summary(
    app: Flask, name: str, template: str, order: int, data: Callable[[Any, Any], Any]
) -> None:
    """A summary in each phase of the timeline; ``data(process, phase)``."""
    _places(app)[PHASE][name] = ProcessSection(name, template, order, data)


def _sections(place: str) -> list[ProcessSection]:
    sections = _places(current_app)[place].values()
    return sorted(sections, key=lambda s: (s.order, s.name))


def process_sections() -> list[ProcessSection]:
    return _sections(PROCESS)


def phase_summaries() -> list[ProcessSection]:
    return _sections(PHASE)


def process_section_data(name: str, process: Any) -> Any:
    """What the ``name`` section shows about ``process``."""
    return _places(current_app)[PROCESS][name].data(process)


def phase_summary_data(name: str, process: Any, phase: Any) -> Any:
    """What the ``name`` summary shows about ``phase`` of ``process``."""
    return _places(current_app)[PHASE][name].data(process, phase)


def init_app(app: Flask) -> None:
    """The process page and the sections' templates call these."""
    app.jinja_env.globals.update(
        process_sections=process_sections,
        phase_summaries=phase_summaries,
        process_section_data=process_section_data,
        phase_summary_data=phase_summary_data,
    )
