"""Proposals: submission, edition, withdrawal, supports, lists and search, and the official
answer workflow (status, public answer, assignment to a service and an agent).

Services add and flush, never commit and never touch the request (docs/architecture.md,
"A feature package"). Rules
that can be broken raise :class:`ProposalError` with a French message for the user; every
staff action writes its audit row in the same transaction.

One concern per module:

- ``common``: the limits of a proposal's texts, the open and supportable statuses,
  :class:`ProposalError`, links to a proposal's page;
- ``settings``: the status labels and the edit window the collectivité chose;
- ``queries``: lookups, the public list of a process (filters, search, sorts) and the
  summary its page shows;
- ``submission``: submitting, editing and withdrawing a proposal, and its image;
- ``supports``: supports and the threshold that puts a proposal under study;
- ``notifications``: the author and the followers told of a change;
- ``scope``: which proposals a staff member may answer, and to whom they can be entrusted;
- ``answers``: status, official answer, bulk status changes and assignment;
- ``staff_lists``: the staff list, its CSV export and the dashboard.

This module re-exports what the rest of Pnyx uses (views, API, open data, demo, tests), so
``from participation.proposals import services`` stays the one way in from outside.
"""

from __future__ import annotations

from participation.proposals.models import DEFAULT_STATUS_LABELS, ProposalStatus
from participation.proposals.services.answers import (
    answer_proposal,
    assign_proposal,
    bulk_change_status,
    change_status,
    set_answer,
)
from participation.proposals.services.common import (
    BODY_MAX,
    IMAGE_ALT_MAX,
    REASON_MAX,
    SUPPORTABLE_STATUSES,
    TARGET,
    TITLE_MAX,
    ProposalError,
    public_name,
)
from participation.proposals.services.queries import (
    PER_PAGE_CHOICES,
    events_for,
    get_process,
    get_proposal,
    get_proposal_for,
    has_supported,
    list_proposals,
    lock_proposal,
    neighbourhoods,
    new_seed,
    parse_list_query,
    process_is_public,
    process_summary,
    proposal_with_image,
    themes,
    themes_and_neighbourhoods,
)
from participation.proposals.services.scope import (
    agents_by_service,
    assignable_services,
    can_answer,
    is_manager,
)
from participation.proposals.services.settings import (
    MAX_EDIT_WINDOW_MINUTES,
    STATUS_LABEL_MAX_LENGTH,
    STATUS_LABELS_SETTING,
    edit_window_minutes,
    status_label,
    status_labels,
    update_proposal_settings,
)
from participation.proposals.services.staff_lists import (
    dashboard,
    parse_staff_query,
    processes_with_proposals,
    record_export,
    staff_export_rows,
    staff_list,
)
from participation.proposals.services.submission import (
    IMAGE_NAME_RE,
    can_edit,
    check_can_propose,
    create_proposal,
    delete_image,
    edit_deadline,
    edit_refusal,
    read_image,
    send_receipt,
    store_image,
    update_proposal,
    withdraw_proposal,
    withdrawal_refusal,
)
from participation.proposals.services.supports import (
    add_support,
    remove_support,
    support_refusal,
)
from participation.proposals.visibility import is_public

__all__ = [
    "BODY_MAX",
    "DEFAULT_STATUS_LABELS",
    "IMAGE_ALT_MAX",
    "IMAGE_NAME_RE",
    "MAX_EDIT_WINDOW_MINUTES",
    "PER_PAGE_CHOICES",
    "REASON_MAX",
    "STATUS_LABELS_SETTING",
    "STATUS_LABEL_MAX_LENGTH",
    "SUPPORTABLE_STATUSES",
    "TARGET",
    "TITLE_MAX",
    "ProposalError",
    "ProposalStatus",
    "add_support",
    "agents_by_service",
    "answer_proposal",
    "assign_proposal",
    "assignable_services",
    "bulk_change_status",
    "can_answer",
    "can_edit",
    "change_status",
    "check_can_propose",
    "create_proposal",
    "dashboard",
    "delete_image",
    "edit_deadline",
    "edit_refusal",
    "edit_window_minutes",
    "events_for",
    "get_process",
    "get_proposal",
    "get_proposal_for",
    "has_supported",
    "is_manager",
    "is_public",
    "list_proposals",
    "lock_proposal",
    "neighbourhoods",
    "new_seed",
    "parse_list_query",
    "parse_staff_query",
    "process_is_public",
    "process_summary",
    "processes_with_proposals",
    "proposal_with_image",
    "public_name",
    "read_image",
    "record_export",
    "remove_support",
    "send_receipt",
    "set_answer",
    "staff_export_rows",
    "staff_list",
    "status_label",
    "status_labels",
    "store_image",
    "support_refusal",
    "themes",
    "themes_and_neighbourhoods",
    "update_proposal",
    "update_proposal_settings",
    "withdraw_proposal",
    "withdrawal_refusal",
]
