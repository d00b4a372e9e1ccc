"""Verification of self-service sign-ups: is the requester really the collectivité?

Part of billing's sign-up flow (``billing.signup`` creates the request with the space).
The tables, and what reads them without deciding anything, belong to the tenancy:
``tenants.verification`` (models), ``tenants.verification_status`` (queues, labels),
``tenants.verification_retention`` (anonymisation, a person's data). Here:

- ``common``: the error, the operator's address, platform links;
- ``domains``: official e-mail domains (an address there approves at once);
- ``requests``: creating, confirming and deciding a request;
- ``disputes``: a collectivité that finds its name taken, and the hand-over job;
- ``spaces``: releasing, suspending and reinstating a space;
- ``views`` and ``forms``: the operator console (``/operateur/verifications``…);
- ``demo``: its part of ``flask demo seed``.

Services add and flush, never commit and never read the request; mails go out after the
caller's commit (``core.mail.send_mail``). The names below are the package's public API.
"""

from __future__ import annotations

from flask import Flask

from billing.verification.common import REASON_MAX_LENGTH, VerificationError
from billing.verification.disputes import (
    create_dispute,
    dismiss_dispute,
    hand_over_space,
    notify_dispute,
    reset_space,
    transfer_space,
)
from billing.verification.domains import (
    add_official_domain,
    all_official_domains,
    is_official_address,
    normalise_domain,
    official_domains,
    remove_official_domain,
)
from billing.verification.requests import (
    add_proof,
    approve,
    ask_for_more,
    confirm_email,
    create_request,
    email_token,
    notify_operator_of_request,
    reject,
    request_from_email_token,
    send_email_confirmation,
)
from billing.verification.spaces import lift_suspension, release_space, suspend_now
from tenants.verification_retention import (
    anonymise_expired,
    erase_personal_data,
    personal_data_for,
    retention_days,
)
from tenants.verification_status import (
    open_disputes,
    open_requests,
    recent_decisions,
    request_for_tenant,
)

__all__ = [
    "REASON_MAX_LENGTH",
    "VerificationError",
    "add_official_domain",
    "add_proof",
    "all_official_domains",
    "anonymise_expired",
    "approve",
    "ask_for_more",
    "confirm_email",
    "create_dispute",
    "create_request",
    "dismiss_dispute",
    "email_token",
    "erase_personal_data",
    "hand_over_space",
    "init_app",
    "is_official_address",
    "lift_suspension",
    "normalise_domain",
    "notify_dispute",
    "notify_operator_of_request",
    "official_domains",
    "open_disputes",
    "open_requests",
    "personal_data_for",
    "recent_decisions",
    "reject",
    "release_space",
    "remove_official_domain",
    "request_for_tenant",
    "request_from_email_token",
    "reset_space",
    "retention_days",
    "send_email_confirmation",
    "suspend_now",
    "transfer_space",
]


def init_app(app: Flask) -> None:
    """The operator's verification console on the platform site, and the demo."""
    from billing.verification import demo  # noqa: F401 - registers the demo seeder
    from billing.verification.views import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
