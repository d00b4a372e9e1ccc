"""The default plans: sized by population stratum, per month or per year, prices in euros
excluding VAT. Seeded once (``flask billing seed-plans``, the demo); after that they are
data the operator edits (price, Stripe price, limits), and seeding never overwrites them.

Limits: ``open_processes`` (published démarches at the same time), ``staff_members``
(accounts of the collectivité's team), ``budget_module`` (participatory budgets),
``custom_domain``. A missing key or ``None`` means unlimited (or included).
"""

from __future__ import annotations

import sqlalchemy as sa

from billing.models import Plan, PlanInterval
from core.db import db

UNLIMITED = {
    "open_processes": None,
    "staff_members": None,
    "budget_module": True,
    "custom_domain": True,
}

#: tier, kind, min, max, name, monthly price HT (cents), limits.
TIERS = [
    (
        "commune-xs",
        "commune",
        0,
        3_500,
        "Commune de moins de 3 500 habitants",
        4_900,
        {"open_processes": 2, "staff_members": 3, "budget_module": False, "custom_domain": False},
    ),
    (
        "commune-s",
        "commune",
        3_500,
        20_000,
        "Commune de 3 500 à 20 000 habitants",
        14_900,
        {"open_processes": 5, "staff_members": 10, "budget_module": False, "custom_domain": True},
    ),
    (
        "commune-m",
        "commune",
        20_000,
        100_000,
        "Commune de 20 000 à 100 000 habitants",
        39_000,
        {"open_processes": 15, "staff_members": 30, "budget_module": True, "custom_domain": True},
    ),
    (
        "commune-l",
        "commune",
        100_000,
        None,
        "Commune de plus de 100 000 habitants",
        89_000,
        UNLIMITED,
    ),
    (
        "epci",
        "epci",
        0,
        None,
        "Intercommunalité (EPCI)",
        45_000,
        {"open_processes": 15, "staff_members": 30, "budget_module": True, "custom_domain": True},
    ),
    (
        "departement",
        "departement",
        0,
        None,
        "Département",
        99_000,
        UNLIMITED,
    ),
    (
        "region",
        "region",
        0,
        None,
        "Région",
        149_000,
        UNLIMITED,
    ),
]

#: A yearly plan costs ten months: two months free.
YEARLY_MONTHS = 10


def default_plans() -> list[dict]:
    plans = []
    for position, (tier, kind, low, high, name, monthly, limits) in enumerate(TIERS):
        for interval, price, suffix in (
            (PlanInterval.MONTH, monthly, "mensuel"),
            (PlanInterval.YEAR, monthly * YEARLY_MONTHS, "annuel"),
        ):
            plans.append(
                {
                    "code": f"{tier}-{interval.value}",
                    "tier": tier,
                    "name": f"{name} — {suffix}",
                    "tenant_kind": kind,
                    "min_population": low,
                    "max_population": high,
                    "interval": interval.value,
                    "price_cents_excl_vat": price,
                    "limits": dict(limits),
                    "position": position * 2 + (interval == PlanInterval.YEAR),
                }
            )
    return plans


def seed_plans() -> list[Plan]:
    """Insert the default plans that do not exist yet (by code); return the new ones."""
    existing = set(db.session.scalars(sa.select(Plan.code)))
    created = []
    for values in default_plans():
        if values["code"] in existing:
            continue
        plan = Plan(**values)
        db.session.add(plan)
        created.append(plan)
    db.session.flush()
    return created
