"""What the operator (and, for a plan change, the tenant's admin) does to a subscription:
extend a trial, change the plan, record a payment made outside Stripe, edit a plan. Each
action is written to the platform journal (or the tenant's audit log)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from billing import stripe_client
from billing.models import BillingState, Invoice, InvoiceStatus, Plan, Subscription
from billing.services.common import BillingError, record_operator_action
from billing.services.plans import plan_for_tenant
from billing.services.state import DEAD_STRIPE_STATUSES
from billing.services.stripe_sync import (
    apply_subscription_state,
    first_item,
    has_live_stripe_subscription,
    plain,
    stripe_metadata,
    to_epoch,
    upsert_invoice,
)
from billing.services.subscriptions import (
    get_subscription,
    refresh_state,
    require_subscription,
    tenant_or_error,
)
from billing.stripe_client import StripeNotConfigured, idempotency_key, options
from core import clock
from core.db import db


def stripe_client_or_error():
    """The Stripe client, or a French refusal when no key is configured."""
    try:
        return stripe_client.get_client()
    except StripeNotConfigured:
        raise BillingError(
            _(
                "Le paiement en ligne n'est pas configuré sur cette plateforme : "
                "cette action n'est pas disponible pour le moment."
            )
        ) from None


def extend_trial(
    tenant_id: int, days: int, *, actor_id: int | None, now: datetime | None = None
) -> Subscription:
    """Give a collectivité ``days`` more of free trial (from its trial end, or from today
    once it has passed)."""
    now = now or clock.utcnow()
    if not 1 <= int(days) <= 365:
        raise BillingError(_("Indiquez une prolongation entre 1 et 365 jours."))
    sub = require_subscription(tenant_id)
    if sub.state == BillingState.ARCHIVED:
        raise BillingError(_("Cet espace est archivé : il ne peut plus être rouvert."))
    if has_live_stripe_subscription(sub) and sub.stripe_status != "trialing":
        raise BillingError(
            _("Cette collectivité a déjà un abonnement payant : il n'y a plus d'essai à prolonger.")
        )
    reopened = sub.stripe_status in DEAD_STRIPE_STATUSES
    if reopened:
        # A canceled subscription is over for good; the free time starts afresh without it
        # (its invoices stay). The next payment creates a new Stripe subscription.
        sub.stripe_subscription_id = None
        sub.stripe_status = None
        sub.canceled_at = None
    previous = sub.trial_ends_at
    base = max(previous or now, now)
    sub.trial_ends_at = base + timedelta(days=int(days))
    if has_live_stripe_subscription(sub):
        client = stripe_client_or_error()
        sub.stripe_attempt += 1
        updated = client.v1.subscriptions.update(
            sub.stripe_subscription_id,
            {"trial_end": to_epoch(sub.trial_ends_at), "proration_behavior": "none"},
            options(idempotency_key(tenant_id, "trial-extension", to_epoch(sub.trial_ends_at))),
        )
        apply_subscription_state(sub, plain(updated), now)
    record_operator_action(
        "billing.trial_extended",
        actor_id,
        tenant_id,
        days=int(days),
        previous_trial_end=previous.isoformat() if previous else None,
        trial_end=sub.trial_ends_at.isoformat(),
        reopened=reopened,
    )
    refresh_state(sub, now)
    return sub


def change_plan(
    tenant_id: int,
    plan_code: str,
    *,
    actor_id: int | None,
    by_operator: bool = True,
    actor_label: str | None = None,
    now: datetime | None = None,
) -> Subscription:
    """Move the tenant to another plan of its kind (Stripe subscription item too)."""
    now = now or clock.utcnow()
    tenant = tenant_or_error(tenant_id)
    plan = plan_for_tenant(plan_code, tenant)
    sub = require_subscription(tenant_id)
    previous = sub.plan.code if sub.plan else None
    if previous == plan.code:
        return sub
    if has_live_stripe_subscription(sub):
        if not plan.stripe_price_id:
            raise BillingError(
                _("Cette offre n'est pas encore reliée à un prix Stripe : contactez l'équipe Pnyx.")
            )
        client = stripe_client_or_error()
        sub.stripe_attempt += 1
        current = plain(client.v1.subscriptions.retrieve(sub.stripe_subscription_id))
        updated = client.v1.subscriptions.update(
            sub.stripe_subscription_id,
            {
                "items": [{"id": first_item(current).get("id"), "price": plan.stripe_price_id}],
                "proration_behavior": "create_prorations",
                "metadata": stripe_metadata(sub, tenant, plan),
            },
            options(idempotency_key(tenant_id, "plan-change", plan.code, sub.stripe_attempt)),
        )
        apply_subscription_state(sub, plain(updated), now)
    sub.plan = plan
    db.session.flush()
    if by_operator:
        record_operator_action(
            "billing.plan_changed", actor_id, tenant_id, previous_plan=previous, plan=plan.code
        )
    else:
        from core.audit import record_action

        record_action(
            "billing.plan_changed",
            actor_id=actor_id,
            actor_label=actor_label,
            target_type="subscription",
            target_id=sub.id,
            previous_plan=previous,
            plan=plan.code,
        )
    return sub


def mark_invoice_paid_out_of_band(
    invoice_id: int, reference: str, *, actor_id: int | None, now: datetime | None = None
) -> Invoice:
    """Record a payment made outside Stripe (the public accountant's transfer)."""
    now = now or clock.utcnow()
    reference = (reference or "").strip()
    if not reference:
        raise BillingError(_("Indiquez la référence du virement (ou du mandat de paiement)."))
    invoice = db.session.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        raise BillingError(_("Cette facture n'existe pas."))
    if invoice.status != InvoiceStatus.OPEN:
        raise BillingError(_("Seule une facture en attente de paiement peut être marquée payée."))
    sub = get_subscription(invoice.tenant_id, lock=True)
    if invoice.stripe_invoice_id:
        client = stripe_client_or_error()
        paid = client.v1.invoices.pay(
            invoice.stripe_invoice_id,
            {"paid_out_of_band": True},
            options(
                idempotency_key(
                    invoice.tenant_id, "invoice", invoice.stripe_invoice_id, "paid-out-of-band"
                )
            ),
        )
        if sub is not None:
            upsert_invoice(sub, plain(paid))
    else:
        invoice.status = InvoiceStatus.PAID
        invoice.amount_paid_cents = invoice.amount_due_cents
        invoice.paid_at = now
    invoice.paid_out_of_band = True
    invoice.out_of_band_reference = reference[:200]
    invoice.paid_at = invoice.paid_at or now
    db.session.flush()
    record_operator_action(
        "billing.invoice_paid_out_of_band",
        actor_id,
        invoice.tenant_id,
        invoice_id=invoice.id,
        stripe_invoice_id=invoice.stripe_invoice_id,
        number=invoice.number,
        reference=invoice.out_of_band_reference,
    )
    if sub is not None:
        refresh_state(sub, now)
    return invoice


def update_plan(
    plan: Plan,
    *,
    name: str,
    price_cents_excl_vat: int,
    stripe_price_id: str | None,
    limits: dict,
    active: bool,
    actor_id: int | None,
) -> Plan:
    """The operator edits a plan (prices and limits are data)."""
    stripe_price_id = (stripe_price_id or "").strip() or None
    if stripe_price_id:
        taken = db.session.scalar(
            sa.select(Plan.id).where(Plan.stripe_price_id == stripe_price_id, Plan.id != plan.id)
        )
        if taken is not None:
            raise BillingError(_("Ce prix Stripe est déjà relié à une autre offre."))
    before = {
        "name": plan.name,
        "price_cents_excl_vat": plan.price_cents_excl_vat,
        "stripe_price_id": plan.stripe_price_id,
        "limits": dict(plan.limits or {}),
        "active": plan.active,
    }
    plan.name = name.strip()
    plan.price_cents_excl_vat = int(price_cents_excl_vat)
    plan.stripe_price_id = stripe_price_id
    plan.limits = {**(plan.limits or {}), **limits}
    plan.active = bool(active)
    db.session.flush()
    from tenants.platform.services import record_platform_action

    record_platform_action(
        "billing.plan_updated",
        actor_id=actor_id,
        target_type="plan",
        target_id=plan.id,
        code=plan.code,
        before=before,
        after={
            "name": plan.name,
            "price_cents_excl_vat": plan.price_cents_excl_vat,
            "stripe_price_id": plan.stripe_price_id,
            "limits": dict(plan.limits),
            "active": plan.active,
        },
    )
    return plan
