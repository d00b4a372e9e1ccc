"""Participatory processes ("démarches"): their timeline, the public lists and the staff
operations (processes, phases, themes, images).

Services add and flush, never commit and never touch the request (docs/architecture.md,
"A feature package"). Every change made by the staff writes its audit row in the same
transaction. Rules that can be broken raise :class:`ProcessError` (French message, and the
form field it belongs to).

Where a process stands depends on the day: every function that needs it takes ``today``
as a parameter, and views pass ``clock.paris_today()`` (tests patch it).

One concern per module:

- ``common``: labels, limits, :class:`ProcessStatus`, :class:`ProcessError`;
- ``timeline``: a process's status, phases and open actions on a given day (pure);
- ``queries``: the public list, the home page's groups, the staff list, look-ups (which
  processes are public is ``participation.processes.visibility``'s rule);
- ``themes``: themes and quartiers;
- ``images``: a process's image;
- ``editing``: a process created, changed, published, archived, its draft deleted;
- ``phases``: phases added, changed, deleted and moved.

This module re-exports what the rest of Pnyx uses (views, API, open data, demo, budgets,
tests), so ``from participation.processes import services`` stays the one way in.
"""

from __future__ import annotations

from participation.processes.services.common import (
    ACTION_LABELS,
    ACTIONS,
    AUDIT_ACTION_LABELS,
    AUDIT_TARGET_LABELS,
    MAX_PHASES,
    PHASE_KIND_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    STATUS_SLUGS,
    ProcessError,
    ProcessStatus,
    is_valid_id,
)
from participation.processes.services.editing import (
    ProcessFields,
    archive_process,
    create_process,
    delete_draft,
    publish_process,
    update_process,
)
from participation.processes.services.images import (
    delete_image,
    is_image_name,
    process_with_image,
    read_image,
    store_image,
)
from participation.processes.services.phases import (
    PhaseFields,
    add_phase,
    default_phase_dates,
    delete_phase,
    move_phase,
    period_label,
    update_phase,
)
from participation.processes.services.queries import (
    HomeGroup,
    get_process,
    get_public_process,
    home_groups,
    public_process_page,
    public_processes_of_status,
    staff_process_page,
    staff_processes,
    with_details,
)
from participation.processes.services.themes import (
    all_neighbourhoods,
    all_themes,
    create_theme,
    delete_theme,
    themes_in_use,
    update_theme,
)
from participation.processes.services.timeline import (
    PhaseStep,
    ProcessOverview,
    current_phase,
    phase_actions,
    process_overview,
    process_status,
)

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "AUDIT_ACTION_LABELS",
    "AUDIT_TARGET_LABELS",
    "MAX_PHASES",
    "PHASE_KIND_LABELS",
    "STATE_LABELS",
    "STATUS_LABELS",
    "STATUS_SLUGS",
    "HomeGroup",
    "PhaseFields",
    "PhaseStep",
    "ProcessError",
    "ProcessFields",
    "ProcessOverview",
    "ProcessStatus",
    "add_phase",
    "all_neighbourhoods",
    "all_themes",
    "archive_process",
    "create_process",
    "create_theme",
    "current_phase",
    "default_phase_dates",
    "delete_draft",
    "delete_image",
    "delete_phase",
    "delete_theme",
    "get_process",
    "get_public_process",
    "home_groups",
    "is_image_name",
    "is_valid_id",
    "move_phase",
    "period_label",
    "phase_actions",
    "process_overview",
    "process_status",
    "process_with_image",
    "public_process_page",
    "public_processes_of_status",
    "publish_process",
    "read_image",
    "staff_process_page",
    "staff_processes",
    "store_image",
    "themes_in_use",
    "update_phase",
    "update_process",
    "update_theme",
    "with_details",
]
