"""Demo billing: the plans, and the demo collectivités in three different states.

- Mulhouse: subscribed by mandat administratif, one invoice paid by the public accountant.
- Angers: in its free trial, ending in 10 days.
- Saillans: an invoice 20 days overdue (past due, read-only in 25 days). It chose the
  plan of the next stratum up, for its four démarches at once.

Without STRIPE_SECRET_KEY nothing reaches Stripe: the invoice subscriptions are recorded
locally as "pending Stripe". Idempotent: a tenant that has a subscription is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from billing import services
from billing.catalogue import seed_plans
from billing.labels import STATE_LABELS
from billing.models import CollectionMethod, Invoice, InvoiceStatus, Subscription, vat_cents
from billing.siret import complete_siret
from core import clock, demo
from core.db import db
from tenants.models import Tenant


def _invoice_subscription(tenant: Tenant, plan_code: str, now: datetime, **details) -> Subscription:
    plan = services.get_plan(plan_code)
    sub = Subscription(
        tenant_id=tenant.id,
        plan=plan,
        state="trialing",
        state_changed_at=now,
        trial_ends_at=details.pop("trial_ends_at"),
        collection_method=CollectionMethod.INVOICE,
        pending_stripe=True,
        siret=complete_siret(tenant.siren) if tenant.siren else None,
        **details,
    )
    db.session.add(sub)
    db.session.flush()
    return sub


def _invoice(sub: Subscription, number: str, issued_at: datetime, **values) -> Invoice:
    amount = sub.plan.price_cents_excl_vat
    total = amount + vat_cents(amount)
    period = timedelta(days=365 if sub.plan.interval == "year" else 30)
    invoice = Invoice(
        tenant_id=sub.tenant_id,
        subscription_id=sub.id,
        number=number,
        total_cents=total,
        total_excl_vat_cents=amount,
        amount_due_cents=total,
        issued_at=issued_at,
        due_at=issued_at + timedelta(days=services.DAYS_UNTIL_DUE),
        period_start=issued_at,
        period_end=issued_at + period,
        **values,
    )
    db.session.add(invoice)
    db.session.flush()
    return invoice


def _mulhouse(tenant: Tenant, now: datetime) -> None:
    sub = _invoice_subscription(
        tenant,
        "commune-l-year",
        now,
        trial_ends_at=now - timedelta(days=60),
        purchase_order="BC-2026-0318",
        engagement_number="EJ-2026-004512",
        service_code="DSI-PARTICIPATION",
        billing_email=f"finances@{tenant.slug}.example.fr",
    )
    issued = now - timedelta(days=55)
    invoice = _invoice(sub, "PNYX-2026-0042", issued, status=InvoiceStatus.PAID)
    invoice.amount_paid_cents = invoice.amount_due_cents
    invoice.paid_at = issued + timedelta(days=21)
    invoice.paid_out_of_band = True
    invoice.out_of_band_reference = "Mandat n° 2026-1187, trésorerie municipale"


def _angers(tenant: Tenant, now: datetime) -> None:
    sub = services.start_trial(tenant.id, now=now - timedelta(days=20))
    sub.trial_ends_at = now + timedelta(days=10)


def _saillans(tenant: Tenant, now: datetime) -> None:
    sub = _invoice_subscription(
        tenant,
        "commune-s-year",
        now,
        trial_ends_at=now - timedelta(days=50),
        purchase_order="BC-2026-07",
        billing_email=f"mairie@{tenant.slug}.example.fr",
    )
    _invoice(sub, "PNYX-2026-0051", now - timedelta(days=50), status=InvoiceStatus.OPEN)


DEMO_SUBSCRIPTIONS: list[tuple[str, Callable[[Tenant, datetime], None]]] = [
    ("mulhouse", _mulhouse),
    ("angers", _angers),
    ("saillans", _saillans),
]


@demo.register(order=80)
def seed_billing():
    created = seed_plans()
    db.session.commit()
    yield f"Billing: {len(services.active_plans())} plans ({len(created)} new), prices excl. VAT"
    now = clock.utcnow()
    for slug, setup in DEMO_SUBSCRIPTIONS:
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            continue
        if services.get_subscription(tenant.id) is None:
            setup(tenant, now)
            services.refresh_state(services.get_subscription(tenant.id), now)
            db.session.commit()
        sub = services.get_subscription(tenant.id)
        state = services.refresh_state(sub, now)
        db.session.commit()
        pending = " (pending Stripe)" if sub.pending_stripe else ""
        yield f"  {tenant.name}: {STATE_LABELS[state]}, {sub.plan.code}{pending}"
