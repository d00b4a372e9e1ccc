"""The Stripe events Pnyx keeps (``public.stripe_events``): which types it handles, storing
one once (its id is the primary key), and the ones not processed yet.

Both ways in store here: the webhook (``billing.webhooks``) and the hourly reconciliation
(``billing.tasks``), which then processes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from billing.models import StripeEvent
from core.db import db

HANDLED_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.overdue",
        "invoice.voided",
        "invoice.marked_uncollectible",
    }
)


def store_event(event: dict, source: str = "webhook") -> bool:
    """Insert the event unless its id is known; True when it is new."""
    inserted = db.session.execute(
        insert(StripeEvent)
        .values(id=event["id"], type=event["type"], payload=event, source=source)
        .on_conflict_do_nothing(index_elements=[StripeEvent.id])
        .returning(StripeEvent.id)
    ).scalar()
    return inserted is not None


def unprocessed_event_ids(limit: int = 500) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(StripeEvent.id)
            .where(StripeEvent.processed_at.is_(None))
            .order_by(StripeEvent.received_at, StripeEvent.id)
            .limit(limit)
        )
    )
