"""The subscription rows: looking them up, opening the free trial, and storing the state
the pure state machine (:mod:`billing.services.state`) derives from the facts read here."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from billing.models import BillingState, Invoice, InvoiceStatus, Plan, Subscription
from billing.services.common import BillingError, grace_period, retention_period, trial_period
from billing.services.plans import plan_for_population, plan_for_tenant
from billing.services.state import (
    WRITE_STATE_CACHE_NAME,
    WriteStateSnapshot,
    compute_state,
    state_ignores_invoices,
)
from core import clock
from core.db import db
from tenants.models import Tenant

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- lookups


def get_subscription(tenant_id: int, *, lock: bool = False) -> Subscription | None:
    query = sa.select(Subscription).where(Subscription.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def tenant_or_error(tenant_id: int) -> Tenant:
    """The tenant an action names, or a French refusal."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise BillingError(_("Cette collectivité n'existe pas."))
    return tenant


def require_subscription(tenant_id: int) -> Subscription:
    """The tenant's subscription, locked for the action, or a French refusal."""
    sub = get_subscription(tenant_id, lock=True)
    if sub is None:
        raise BillingError(_("Cette collectivité n'a pas encore d'abonnement."))
    return sub


def subscription_for_payment(tenant: Tenant, plan: Plan) -> Subscription:
    """The tenant's subscription row, created when an operator-made tenant starts paying.

    Such a row has no trial end: it stays in "trialing" until Stripe says otherwise.
    """
    sub = get_subscription(tenant.id, lock=True)
    if sub is None:
        sub = Subscription(tenant_id=tenant.id, plan=plan, state=BillingState.TRIALING)
        db.session.add(sub)
        db.session.flush()
    return sub


# --------------------------------------------------------------------------- trial


def start_trial(
    tenant_id: int, plan_code: str | None = None, *, now: datetime | None = None
) -> Subscription:
    """Open the free trial of a new tenant (idempotent: an existing row is returned as is).

    Without ``plan_code``, the monthly plan of the tenant's kind and population stratum.
    """
    existing = get_subscription(tenant_id)
    if existing is not None:
        return existing
    now = now or clock.utcnow()
    tenant = tenant_or_error(tenant_id)
    if plan_code:
        plan = plan_for_tenant(plan_code, tenant)
    else:
        plan = plan_for_population(str(tenant.kind), tenant.population)
        if plan is None:
            raise BillingError(
                _("Aucune offre ne correspond à cette collectivité : contactez l'équipe Pnyx.")
            )
    sub = Subscription(
        tenant_id=tenant_id,
        plan=plan,
        state=BillingState.TRIALING,
        state_changed_at=now,
        trial_ends_at=now + trial_period(),
    )
    db.session.add(sub)
    db.session.flush()
    return sub


# --------------------------------------------------------------------------- state


def overdue_invoices(tenant_id: int, now: datetime) -> list[Invoice]:
    return list(
        db.session.scalars(
            sa.select(Invoice)
            .where(
                Invoice.tenant_id == tenant_id,
                Invoice.status == InvoiceStatus.OPEN,
                Invoice.due_at.is_not(None),
                Invoice.due_at <= now,
            )
            .order_by(Invoice.due_at)
        )
    )


def refresh_state(sub: Subscription, now: datetime | None = None) -> str:
    """Recompute and store the billing state; returns it."""
    now = now or clock.utcnow()
    overdue = [] if state_ignores_invoices(sub) else overdue_invoices(sub.tenant_id, now)
    computed = compute_state(
        sub,
        now,
        overdue_due_dates=[invoice.due_at for invoice in overdue],
        grace=grace_period(),
        retention=retention_period(),
    )
    new_state = computed.pop("state")
    for key, value in computed.items():
        setattr(sub, key, value)
    if new_state != sub.state:
        log.info("tenant %s billing: %s -> %s", sub.tenant_id, sub.state, new_state)
        sub.state = new_state
        sub.state_changed_at = now
    db.session.flush()
    return new_state


def _write_state_snapshot(tenant_id: int) -> WriteStateSnapshot | None:
    row = db.session.execute(
        sa.select(
            Subscription.state,
            Subscription.grace_until,
            Subscription.trial_ends_at,
            Subscription.stripe_subscription_id,
            Subscription.pending_stripe,
        ).where(Subscription.tenant_id == tenant_id)
    ).first()
    return WriteStateSnapshot(*row) if row is not None else None


def cached_effective_state(tenant_id: int, now: datetime | None = None) -> str | None:
    """:func:`effective_state` of the tenant's subscription, from the per-process tenant
    values cache (tenants.cache) when ``tenant_id`` is the current tenant.

    Every write to ``public.subscriptions`` drops the cached values (``watch_all_tenants``
    in billing.init_app), here at once and in the other processes within
    TENANT_CACHE_CHECK_INTERVAL; time-based transitions (end of trial or grace) are
    computed from the cached dates at each call. Meant for a first look on hot paths: a
    read-only answer should be confirmed from the database before it is shown.
    """
    from tenants.cache import cached
    from tenants.context import current_tenant

    tenant = current_tenant()
    if tenant is not None and tenant.id == tenant_id:
        snapshot = cached(WRITE_STATE_CACHE_NAME, lambda: _write_state_snapshot(tenant_id))
    else:
        snapshot = _write_state_snapshot(tenant_id)
    if snapshot is None:
        return None
    return Subscription.effective_state(snapshot, now or clock.utcnow(), grace_period())
