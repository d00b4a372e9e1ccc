"""Stripe webhooks: verify, store once, process later (in a job that re-reads Stripe).

``receive`` checks the signature with ``stripe.Webhook.construct_event`` (a bad or stale
signature is refused), stores the event under its id as primary key (a redelivery is a
no-op; ``billing.stripe_events``) and enqueues :func:`billing.tasks.process_stripe_event`
after the commit. The job never trusts the event's copy of the object: it re-reads the
subscription or the invoice from Stripe, since events arrive in no guaranteed order.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import stripe
from flask import current_app

from billing.stripe_events import HANDLED_EVENT_TYPES, store_event
from billing.tasks import PROCESS_RETRY, process_stripe_event
from core.jobs import enqueue_after_commit

log = logging.getLogger(__name__)

#: Seconds a signature stays valid (Stripe's default): an older one is a replay.
SIGNATURE_TOLERANCE = 300


class WebhookRejected(ValueError):
    """The request is not a genuine, fresh Stripe event (answered with 400)."""


class WebhookNotConfigured(RuntimeError):
    """No STRIPE_WEBHOOK_SECRET: events cannot be verified (answered with 503)."""


@dataclass(frozen=True)
class Receipt:
    event_id: str
    event_type: str
    outcome: str  # "stored", "duplicate" or "ignored"


def job_id_for(event_id: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in event_id)
    return f"billing-stripe-event-{safe}"


def verify(payload: bytes, signature: str | None) -> dict:
    """The event as a plain dict, once its signature is checked."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise WebhookNotConfigured("STRIPE_WEBHOOK_SECRET is not set")
    if not signature:
        raise WebhookRejected("missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
        event = stripe.Webhook.construct_event(
            text, signature, secret, tolerance=SIGNATURE_TOLERANCE
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"signature: {exc.user_message or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected(f"payload: {exc}") from None
    data = event.to_dict()
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise WebhookRejected("not an event")
    return json.loads(text)  # the exact payload, not the library's rendering of it


def enqueue_processing(event_id: str) -> None:
    enqueue_after_commit(
        process_stripe_event,
        event_id,
        queue="default",
        job_id=job_id_for(event_id),
        retry=PROCESS_RETRY,
        description=f"process_stripe_event({event_id})",
    )


def receive(payload: bytes, signature: str | None) -> Receipt:
    """Verify and store one webhook delivery; the caller commits."""
    event = verify(payload, signature)
    if event["type"] not in HANDLED_EVENT_TYPES:
        return Receipt(event["id"], event["type"], "ignored")
    if not store_event(event):
        return Receipt(event["id"], event["type"], "duplicate")
    enqueue_processing(event["id"])
    return Receipt(event["id"], event["type"], "stored")
