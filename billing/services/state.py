"""The subscription state machine, pure: no database, no Stripe.

The billing state is *derived*, never pushed by an event: :func:`compute_state` computes it
from what Stripe said last (the subscription's status), the overdue invoices' due dates, the
trial end and the clock. :func:`billing.services.subscriptions.refresh_state` reads those
facts and stores the result, so the order in which Stripe's events arrive does not matter.

    trialing ─► active ─► past_due ─(grace: 45 days after the due date)─► read_only
        │                    ▲  │                                             │
        │ (trial over, no    └──┘ invoice paid                               │
        │  subscription) ─► read_only ─(grace)─► canceled ◄── Stripe cancels ─┘
        ▼                                          │
                                       (retention: 90 days) ─► archived
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from billing.models import REVENUE_STATES, BillingState, Subscription
from billing.services.common import grace_period
from core import clock

#: Stripe statuses after which a subscription will never bill again.
DEAD_STRIPE_STATUSES = frozenset({"canceled", "incomplete_expired"})
#: Stripe statuses that mean "an invoice is unpaid".
UNPAID_STRIPE_STATUSES = frozenset({"past_due", "unpaid"})


def state_ignores_invoices(sub: Subscription) -> bool:
    """Archived, or ended at Stripe: no invoice can change the state any more (the caller
    of :func:`compute_state` need not look for overdue ones)."""
    return sub.state == BillingState.ARCHIVED or sub.stripe_status in DEAD_STRIPE_STATUSES


def compute_state(
    sub: Subscription,
    now: datetime,
    *,
    overdue_due_dates: Sequence[datetime],
    grace: timedelta,
    retention: timedelta,
) -> dict:
    """The billing state and its dates, from the stored facts and the clock (pure: no
    query, no write). ``overdue_due_dates``: the due dates of the tenant's open invoices
    due by ``now`` (not read when :func:`state_ignores_invoices`). Keys: state,
    past_due_since, grace_until, read_only_since, canceled_at, retention_until."""
    result = {
        "state": sub.state,
        "past_due_since": None,
        "grace_until": None,
        "read_only_since": None,
        "canceled_at": None,
        "retention_until": None,
    }
    if sub.state == BillingState.ARCHIVED:
        result.update(canceled_at=sub.canceled_at, retention_until=sub.retention_until)
        return result
    status = sub.stripe_status
    if status in DEAD_STRIPE_STATUSES:
        canceled_at = sub.canceled_at or now
        result.update(
            state=BillingState.CANCELED,
            canceled_at=canceled_at,
            retention_until=canceled_at + retention,
            read_only_since=canceled_at,
        )
        return result
    late = list(overdue_due_dates)
    if late or status in UNPAID_STRIPE_STATUSES:
        since = min(late) if late else (sub.past_due_since or now)
        grace_until = since + grace
        read_only = now >= grace_until
        result.update(
            state=BillingState.READ_ONLY if read_only else BillingState.PAST_DUE,
            past_due_since=since,
            grace_until=grace_until,
            read_only_since=grace_until if read_only else None,
        )
        return result
    if not sub.has_payment_arrangement or status == "incomplete":
        if sub.trial_ends_at is None or now < sub.trial_ends_at:
            result["state"] = BillingState.TRIALING
        elif now < sub.trial_ends_at + grace:
            result.update(state=BillingState.READ_ONLY, read_only_since=sub.trial_ends_at)
        else:
            canceled_at = sub.trial_ends_at + grace
            result.update(
                state=BillingState.CANCELED,
                read_only_since=sub.trial_ends_at,
                canceled_at=canceled_at,
                retention_until=canceled_at + retention,
            )
        return result
    in_trial = sub.trial_ends_at is not None and now < sub.trial_ends_at
    if status == "trialing" or (sub.pending_stripe and in_trial):
        result["state"] = BillingState.TRIALING
    elif status == "paused":
        result.update(state=BillingState.READ_ONLY, read_only_since=sub.read_only_since or now)
    else:
        result["state"] = BillingState.ACTIVE
    return result


def effective_state(sub: Subscription | None, now: datetime | None = None) -> str | None:
    """The state as of now without touching the database (for the write guard)."""
    if sub is None:
        return None
    return sub.effective_state(now or clock.utcnow(), grace_period())


@dataclass(frozen=True)
class WriteStateSnapshot:
    """The few subscription fields the effective state depends on, as plain data (kept in
    the per-process tenant values cache; never an ORM object)."""

    state: str
    grace_until: datetime | None
    trial_ends_at: datetime | None
    stripe_subscription_id: str | None
    pending_stripe: bool

    @property
    def has_payment_arrangement(self) -> bool:
        return self.stripe_subscription_id is not None or bool(self.pending_stripe)


WRITE_STATE_CACHE_NAME = "billing-write-state"


def monthly_revenue_cents(sub: Subscription | None) -> int:
    """Monthly recurring revenue, excluding VAT: paying subscriptions only."""
    if sub is None or sub.plan is None or sub.state not in REVENUE_STATES:
        return 0
    return sub.plan.monthly_cents_excl_vat
