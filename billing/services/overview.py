"""The operator console's overview: every tenant with its plan, billing state, revenue
and overdue invoices (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from billing.models import REVENUE_STATES, Invoice, InvoiceStatus, Subscription
from billing.services.common import grace_period
from billing.services.plans import plan_below_tier
from billing.services.state import monthly_revenue_cents
from core import clock
from core.db import db
from tenants.models import Tenant


@dataclass(frozen=True)
class TenantBillingRow:
    tenant: Tenant
    subscription: Subscription | None
    state: str | None
    monthly_revenue_cents: int
    overdue_count: int
    overdue_cents: int
    # On a plan of a stratum below its population (set before the check existed, or the
    # population grew at the last census): the operator settles it with the collectivité.
    plan_below_tier: bool = False


@dataclass
class BillingOverview:
    rows: list[TenantBillingRow]
    monthly_revenue_cents: int = 0
    overdue_count: int = 0
    overdue_cents: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    plan_mismatch_count: int = 0


def operator_overview(
    now: datetime | None = None, state: str | None = None, *, plan_mismatch_only: bool = False
) -> BillingOverview:
    """Every tenant with its plan, billing state, revenue and overdue invoices;
    ``plan_mismatch_only`` keeps the tenants on a plan below their population."""
    now = now or clock.utcnow()
    tenants = db.session.scalars(sa.select(Tenant).order_by(Tenant.name, Tenant.id)).all()
    subs = {
        sub.tenant_id: sub
        for sub in db.session.scalars(
            sa.select(Subscription).options(selectinload(Subscription.plan))
        )
    }
    overdue = {
        tenant_id: (count, int(amount or 0))
        for tenant_id, count, amount in db.session.execute(
            sa.select(
                Invoice.tenant_id,
                sa.func.count(),
                sa.func.sum(Invoice.amount_due_cents - Invoice.amount_paid_cents),
            )
            .where(
                Invoice.status == InvoiceStatus.OPEN,
                Invoice.due_at.is_not(None),
                Invoice.due_at <= now,
            )
            .group_by(Invoice.tenant_id)
        )
    }
    overview = BillingOverview(rows=[])
    grace = grace_period()
    for tenant in tenants:
        sub = subs.get(tenant.id)
        current = sub.effective_state(now, grace) if sub is not None else None
        count, amount = overdue.get(tenant.id, (0, 0))
        revenue = monthly_revenue_cents(sub) if current in REVENUE_STATES else 0
        overview.by_state[current or "none"] = overview.by_state.get(current or "none", 0) + 1
        overview.monthly_revenue_cents += revenue
        overview.overdue_count += count
        overview.overdue_cents += amount
        below = sub is not None and plan_below_tier(sub.plan, tenant)
        overview.plan_mismatch_count += below
        if state and (current or "none") != state:
            continue
        if plan_mismatch_only and not below:
            continue
        overview.rows.append(
            TenantBillingRow(tenant, sub, current, revenue, count, amount, plan_below_tier=below)
        )
    return overview
