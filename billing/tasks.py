"""Billing jobs: process one Stripe event, reconcile with Stripe, and the daily sweep.

- :func:`process_stripe_event` (enqueued by the webhook after its commit): re-reads the
  subscription or invoice from Stripe and recomputes the tenant's state.
- :func:`reconcile_with_stripe` (hourly): fetches the events Stripe failed to deliver, stores
  and processes them, retries stored events left unprocessed, and sends to Stripe the
  invoice subscriptions recorded while it was not configured.
- :func:`run_daily_sweep` (daily): moves tenants along the state machine as time passes
  (grace period over → read-only, retention over → archived) and sends the reminders
  (trial ending, overdue invoice, read-only, canceled).

Schedule them with ``rq cron billing.cron`` (see billing/cron.py) or the system cron
(``flask billing reconcile`` / ``flask billing sweep``).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from contextlib import nullcontext
from datetime import datetime, timedelta

import sqlalchemy as sa
import stripe
from rq import Retry

from billing import services, stripe_client
from billing.models import BillingState, StripeEvent, Subscription
from billing.services import (
    overdue_invoices,
    plain,
    refresh_state,
    subscription_id_of_invoice,
    sync_stripe_subscription,
    upsert_invoice,
)
from billing.stripe_client import StripeNotConfigured
from billing.stripe_events import HANDLED_EVENT_TYPES, store_event, unprocessed_event_ids
from core import clock
from core.db import db
from core.jobs import job
from core.mail import send_mail
from tenants.context import load_tenant_ref, tenant_context
from tenants.urls import tenant_url

log = logging.getLogger(__name__)

PROCESS_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])
#: Undelivered events older than this are not fetched again (Stripe keeps them 30 days).
RECONCILE_LOOKBACK = timedelta(days=3)
#: Trial reminders, in days before the end (the most urgent one due is sent).
TRIAL_REMINDER_DAYS = (1, 7)
OVERDUE_REMINDER_INTERVAL = timedelta(days=7)


# --------------------------------------------------------------------------- events


def _tenant_id_from(metadata: dict | None) -> int | None:
    raw = (metadata or {}).get("tenant_id")
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _find_subscription(
    *,
    stripe_subscription_id: str | None = None,
    tenant_id: int | None = None,
    customer_id: str | None = None,
) -> Subscription | None:
    """The local row an event is about, locked for the rest of the transaction."""
    conditions = []
    if stripe_subscription_id:
        conditions.append(Subscription.stripe_subscription_id == stripe_subscription_id)
    if tenant_id is not None:
        conditions.append(Subscription.tenant_id == tenant_id)
    if customer_id:
        conditions.append(Subscription.stripe_customer_id == customer_id)
    for condition in conditions:
        sub = db.session.scalar(
            sa.select(Subscription)
            .where(condition)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if sub is not None:
            return sub
    return None


def _handle_checkout(client, session_id: str, now: datetime) -> str:
    session = plain(client.v1.checkout.sessions.retrieve(session_id))
    if session.get("mode") != "subscription":
        return "ignored: not a subscription checkout"
    tenant_id = _tenant_id_from({"tenant_id": session.get("client_reference_id")})
    tenant_id = tenant_id or _tenant_id_from(session.get("metadata"))
    customer_id = services.id_of(session.get("customer"))
    sub = _find_subscription(tenant_id=tenant_id, customer_id=customer_id)
    if sub is None:
        return "ignored: unknown tenant"
    sub.stripe_customer_id = sub.stripe_customer_id or customer_id
    stripe_subscription_id = services.id_of(session.get("subscription"))
    if not stripe_subscription_id:
        return "ignored: no subscription yet"
    return "synced: " + sync_stripe_subscription(sub, client, stripe_subscription_id, now)


def _handle_subscription(client, subscription_id: str, now: datetime) -> str:
    stripe_sub = plain(client.v1.subscriptions.retrieve(subscription_id))
    sub = _find_subscription(
        stripe_subscription_id=subscription_id,
        tenant_id=_tenant_id_from(stripe_sub.get("metadata")),
        customer_id=services.id_of(stripe_sub.get("customer")),
    )
    if sub is None:
        return "ignored: unknown tenant"
    return "synced: " + sync_stripe_subscription(
        sub, client, subscription_id, now, stripe_sub=stripe_sub
    )


def _handle_invoice(client, invoice_id: str, now: datetime) -> str:
    invoice = plain(client.v1.invoices.retrieve(invoice_id))
    subscription_id = subscription_id_of_invoice(invoice)
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    sub = _find_subscription(
        stripe_subscription_id=subscription_id,
        tenant_id=_tenant_id_from(details.get("metadata") or invoice.get("metadata")),
        customer_id=services.id_of(invoice.get("customer")),
    )
    if sub is None:
        return "ignored: unknown tenant"
    upsert_invoice(sub, invoice)
    if subscription_id:
        return "synced: " + sync_stripe_subscription(sub, client, subscription_id, now)
    return "synced: " + refresh_state(sub, now)


def handle_event(event_type: str, payload: dict, now: datetime | None = None) -> str:
    """Bring the tenant in line with Stripe's *current* view of the event's object."""
    now = now or clock.utcnow()
    if event_type not in HANDLED_EVENT_TYPES:
        return "ignored: event type"
    obj = (payload.get("data") or {}).get("object") or {}
    object_id = obj.get("id")
    if not object_id:
        return "ignored: no object"
    client = stripe_client.get_client()
    if event_type == "checkout.session.completed":
        return _handle_checkout(client, object_id, now)
    if event_type.startswith("customer.subscription."):
        return _handle_subscription(client, object_id, now)
    return _handle_invoice(client, object_id, now)


def _record_failure(event_id: str, error: str) -> None:
    db.session.execute(
        sa.update(StripeEvent)
        .where(StripeEvent.id == event_id)
        .values(attempts=StripeEvent.attempts + 1, last_error=error[:2000])
    )
    db.session.commit()


def process_event_now(event_id: str, now: datetime | None = None) -> str:
    """Process one stored event once (the row lock makes concurrent runs wait)."""
    event = db.session.get(StripeEvent, event_id, with_for_update=True)
    if event is None:
        db.session.rollback()
        return "missing"
    if event.processed_at is not None:
        db.session.rollback()
        return "already processed"
    try:
        outcome = handle_event(event.type, event.payload, now)
    except StripeNotConfigured:
        db.session.rollback()
        _record_failure(event_id, "STRIPE_SECRET_KEY is not set")
        return "stripe not configured"
    except stripe.StripeError as exc:
        db.session.rollback()
        _record_failure(event_id, f"{type(exc).__name__}: {exc.user_message or exc}")
        raise
    event.attempts += 1
    event.processed_at = now or clock.utcnow()
    event.outcome = outcome[:200]
    event.last_error = None
    db.session.commit()
    return outcome


@job
def process_stripe_event(event_id: str) -> str:
    return process_event_now(event_id)


# --------------------------------------------------------------------------- reconcile


def push_pending_subscriptions(client, now: datetime) -> tuple[int, int]:
    """Send to Stripe the invoice subscriptions recorded without it. (pushed, failed)"""
    pushed = failed = 0
    ids = list(db.session.scalars(sa.select(Subscription.id).where(Subscription.pending_stripe)))
    db.session.commit()
    for sub_id in ids:
        sub = db.session.get(Subscription, sub_id, with_for_update=True)
        if sub is None or not sub.pending_stripe:
            db.session.rollback()
            continue
        if sub.plan.stripe_price_id is None:
            log.warning("tenant %s: plan %s has no Stripe price", sub.tenant_id, sub.plan.code)
            db.session.rollback()
            failed += 1
            continue
        try:
            services.push_invoice_subscription(sub, client, now=now)
            db.session.commit()
            pushed += 1
        except stripe.StripeError:
            log.exception("tenant %s: invoice subscription not sent to Stripe", sub.tenant_id)
            db.session.rollback()
            failed += 1
    return pushed, failed


def reconcile_now(now: datetime | None = None, lookback: timedelta = RECONCILE_LOOKBACK) -> dict:
    """Catch up with what Stripe could not deliver; returns counters for the logs."""
    now = now or clock.utcnow()
    if not stripe_client.is_configured():
        return {"skipped": "stripe not configured"}
    client = stripe_client.get_client()
    fetched = stored = 0
    events = client.v1.events.list(
        {
            "delivery_success": False,
            "types": sorted(HANDLED_EVENT_TYPES),
            "created": {"gte": services.to_epoch(now - lookback)},
            "limit": 100,
        }
    )
    for event in events.auto_paging_iter():
        fetched += 1
        if store_event(plain(event), source="reconcile"):
            stored += 1
    db.session.commit()
    processed = failed = 0
    for event_id in unprocessed_event_ids():
        try:
            process_event_now(event_id, now)
            processed += 1
        except stripe.StripeError:
            log.exception("stripe event %s still failing", event_id)
            failed += 1
    pushed, push_failed = push_pending_subscriptions(client, now)
    result = {
        "fetched": fetched,
        "stored": stored,
        "processed": processed,
        "failed": failed + push_failed,
        "pushed": pushed,
    }
    log.info("billing reconcile: %s", result)
    return result


@job
def reconcile_with_stripe() -> dict:
    return reconcile_now()


# --------------------------------------------------------------------------- sweep


def _admin_emails() -> list[str]:
    """The active admins of the current tenant."""
    from participation.accounts.models import StaffRole, User

    return list(
        db.session.scalars(
            sa.select(User.email)
            .where(
                User.staff_role == StaffRole.ADMIN,
                User.email.is_not(None),
                User.is_active_account,
                User.deleted_at.is_(None),
            )
            .order_by(User.id)
        )
    )


def _mail_all(recipients: list[str], template: str, **context) -> None:
    for address in dict.fromkeys(r for r in recipients if r):
        send_mail(address, template, **context)


def _send_reminders(sub: Subscription, ref, old_state: str, now: datetime) -> list[str]:
    sent = []
    reminders = dict(sub.reminders or {})
    admins = _admin_emails()
    accountants = [*admins, sub.billing_email] if sub.billing_email else admins
    context = {
        "tenant": ref,
        "site_name": ref.name,
        "link": tenant_url(ref, "billing_admin.index"),
        "plan_name": sub.plan.name if sub.plan else "",
    }
    state = sub.state
    if state == BillingState.TRIALING and sub.trial_ends_at and not sub.has_payment_arrangement:
        days_left = math.ceil((sub.trial_ends_at - now) / timedelta(days=1))
        for threshold in TRIAL_REMINDER_DAYS:
            if days_left <= threshold:
                key = f"trial-{threshold}-{sub.trial_ends_at.date().isoformat()}"
                if key not in reminders:
                    _mail_all(
                        admins,
                        "billing_trial_ending",
                        trial_ends_at=sub.trial_ends_at,
                        days_left=max(days_left, 0),
                        **context,
                    )
                    reminders[key] = now.isoformat()
                    sent.append(key)
                break
    for invoice in overdue_invoices(sub.tenant_id, now):
        key = f"overdue-{invoice.id}"
        last = reminders.get(key)
        if last is None or now - datetime.fromisoformat(last) >= OVERDUE_REMINDER_INTERVAL:
            _mail_all(
                accountants,
                "billing_invoice_overdue",
                invoice=invoice,
                grace_until=sub.grace_until,
                **context,
            )
            reminders[key] = now.isoformat()
            sent.append(key)
    if state == BillingState.READ_ONLY and old_state != BillingState.READ_ONLY:
        _mail_all(accountants, "billing_read_only", subscription=sub, **context)
        sent.append("read-only")
    if state == BillingState.CANCELED and old_state != BillingState.CANCELED:
        _mail_all(admins, "billing_canceled", retention_until=sub.retention_until, **context)
        sent.append("canceled")
    sub.reminders = reminders
    return sent


def _archive(sub_id: int, now: datetime) -> str:
    from tenants.lifecycle import archive_tenant
    from tenants.models import TenantStatus
    from tenants.platform.services import record_platform_action
    from tenants.services import TenantError

    sub = db.session.get(Subscription, sub_id, with_for_update=True)
    if sub is None or sub.state != BillingState.CANCELED:
        db.session.rollback()
        return "skipped"
    tenant = sub.tenant
    export = tenant.archive_path
    if tenant.status != TenantStatus.ARCHIVED:
        try:
            export = str(archive_tenant(tenant))
        except TenantError:
            log.exception("tenant %s: archiving failed, retried tomorrow", tenant.id)
            db.session.rollback()
            return "archive failed"
    sub.state = BillingState.ARCHIVED
    sub.state_changed_at = now
    sub.archived_at = now
    record_platform_action(
        "billing.tenant_archived",
        actor_id=None,
        target_type="tenant",
        target_id=tenant.id,
        export=export,
        retention_until=sub.retention_until.isoformat() if sub.retention_until else None,
    )
    db.session.commit()
    return "archived"


def sweep_subscription(sub_id: int, tenant_id: int, now: datetime) -> list[str]:
    """Recompute one tenant's state, send what is due, archive after the retention."""
    ref = load_tenant_ref(tenant_id)
    if ref is None:
        return []
    # Reminders need the tenant's admins, in its schema: only once it is provisioned.
    mailable = ref.status in ("active", "suspended")
    actions: list[str] = []
    with tenant_context(ref) if mailable else nullcontext():
        sub = db.session.get(Subscription, sub_id, with_for_update=True)
        if sub is None:
            db.session.rollback()
            return actions
        old_state = sub.state
        new_state = refresh_state(sub, now)
        if new_state != old_state:
            actions.append(f"{old_state}->{new_state}")
        if mailable:
            actions.extend(_send_reminders(sub, ref, old_state, now))
        archive_due = (
            new_state == BillingState.CANCELED
            and sub.retention_until is not None
            and now >= sub.retention_until
        )
        db.session.commit()
    if archive_due:
        actions.append(_archive(sub_id, now))
    return actions


def _counter_name(action: str) -> str:
    if action.startswith(("trial-", "overdue-")):
        return action.split("-", 1)[0] + "_reminder"
    return action


def sweep_now(now: datetime | None = None) -> dict:
    now = now or clock.utcnow()
    rows = db.session.execute(
        sa.select(Subscription.id, Subscription.tenant_id)
        .where(Subscription.state != BillingState.ARCHIVED)
        .order_by(Subscription.id)
    ).all()
    db.session.commit()  # no transaction may be open when entering a tenant
    counts: Counter = Counter()
    for sub_id, tenant_id in rows:
        try:
            for action in sweep_subscription(sub_id, tenant_id, now):
                counts[_counter_name(action)] += 1
        except Exception:
            log.exception("billing sweep failed for tenant %s", tenant_id)
            db.session.rollback()
            counts["errors"] += 1
        counts["subscriptions"] += 1
    result = dict(counts)
    log.info("billing sweep: %s", result)
    return result


@job
def run_daily_sweep() -> dict:
    return sweep_now()
