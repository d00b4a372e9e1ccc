"""Plans and population strata: which plans are offered, which one a collectivité may be
on (its stratum or a higher one, never a lower one), and the plan an action asks for."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from billing.models import Plan, PlanInterval
from billing.services.common import BillingError
from core.db import db
from tenants.models import Tenant


def get_plan(code: str | None) -> Plan | None:
    if not code:
        return None
    return db.session.scalar(sa.select(Plan).where(Plan.code == code))


def active_plans(kind: str | None = None, interval: str | None = None) -> list[Plan]:
    query = sa.select(Plan).where(Plan.active).order_by(Plan.position, Plan.id)
    if kind is not None:
        query = query.where(Plan.tenant_kind == str(kind))
    if interval is not None:
        query = query.where(Plan.interval == str(interval))
    return list(db.session.scalars(query))


def plan_for_population(
    kind: str, population: int, interval: str = PlanInterval.MONTH
) -> Plan | None:
    """The active plan of ``kind`` whose stratum holds ``population`` (min ≤ p < max)."""
    for plan in active_plans(kind, interval):
        if plan.covers(int(population or 0)):
            return plan
    return None


def upgrade_for(plan: Plan, key: str) -> Plan | None:
    """The next active plan of the same kind and interval with more of ``key``."""
    current = plan.limit(key)
    for candidate in active_plans(plan.tenant_kind, plan.interval):
        if candidate.id == plan.id or candidate.position < plan.position:
            continue
        value = candidate.limit(key)
        if current is False and value is not False:
            return candidate
        counted = isinstance(current, int) and not isinstance(current, bool)
        if counted and (value is None or (not isinstance(value, bool) and value > current)):
            return candidate
    return None


def plan_fits(plan: Plan, population: int | None) -> bool:
    """May a collectivité of ``population`` inhabitants be on ``plan``? Its own stratum
    (``Plan.covers``) or a higher one (the upgrades ``upgrade_for`` offers for more
    limits); never a stratum below, which would bill a city at a village's price."""
    population = int(population or 0)
    return plan.covers(population) or population < plan.min_population


def plan_below_tier(plan: Plan | None, tenant: Tenant) -> bool:
    """A plan of the tenant's kind whose stratum ends below its population."""
    return (
        plan is not None
        and plan.tenant_kind == str(tenant.kind)
        and not plan_fits(plan, tenant.population)
    )


def _check_population(plan: Plan, tenant: Tenant) -> None:
    if not plan_fits(plan, tenant.population):
        raise BillingError(
            _(
                "L'offre « %(plan)s » ne correspond pas à la population de %(name)s "
                "(%(population)s habitants) : choisissez l'offre de sa strate ou une offre "
                "supérieure.",
                plan=plan.name,
                name=tenant.name,
                population=format_population(tenant.population),
            )
        )


def format_population(population: int | None) -> str:
    # French thousands separator: a narrow no-break space ("156 140").
    return f"{int(population or 0):,}".replace(",", "\u202f")


def plan_for_tenant(code: str, tenant: Tenant) -> Plan:
    plan = get_plan(code)
    if plan is None or not plan.active:
        raise BillingError(_("Cette offre n'existe pas ou n'est plus proposée."))
    if plan.tenant_kind != str(tenant.kind):
        raise BillingError(_("Cette offre n'est pas destinée à ce type de collectivité."))
    # Every change path goes through here: sign-up trial, card checkout, mandate, plan
    # change by the admin or by the operator.
    _check_population(plan, tenant)
    return plan
