"""What every part of the proposals services shares: the limits of a proposal's texts, the
statuses that still wait or take supports, the error a broken rule raises, and the links
to a proposal's page."""

from __future__ import annotations

from flask import current_app

from core.routing import TENANT_SITE
from participation.accounts.models import User
from participation.engagement.models import TargetType
from participation.proposals.models import ProposalStatus
from tenants.context import current_tenant

TARGET = TargetType.PROPOSAL

TITLE_MIN, TITLE_MAX = 5, 200
BODY_MIN, BODY_MAX = 20, 10_000
IMAGE_ALT_MAX = 300
ANSWER_MAX = 20_000
REASON_MAX = 5_000

#: Statuses in which a proposal still waits for the collectivité's decision.
OPEN_STATUSES = (ProposalStatus.RECEIVED, ProposalStatus.STUDYING)
#: Statuses in which supports are still taken.
SUPPORTABLE_STATUSES = (ProposalStatus.RECEIVED, ProposalStatus.STUDYING, ProposalStatus.ACCEPTED)


class ProposalError(Exception):
    """A rule of the proposals was broken; the message is French and shown to the user.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def clean_text(value: str | None) -> str:
    """A typed text with Windows newlines made plain and the surrounding blanks dropped."""
    return (value or "").replace("\r\n", "\n").strip()


def proposal_path(proposal_id: int) -> str:
    """The proposal page's path on the tenant site (no host): notifications store paths."""
    adapter = current_app.url_map.bind("", subdomain=TENANT_SITE)
    return adapter.build("proposals.show", {"proposal_id": proposal_id})


def proposal_url(proposal_id: int) -> str:
    """The absolute URL of the proposal page (e-mails)."""
    from tenants.urls import tenant_url

    return tenant_url(current_tenant(), "proposals.show", proposal_id=proposal_id)


def public_name(user: User | None) -> str:
    return user.public_name if user is not None else User.ANONYMOUS_NAME
