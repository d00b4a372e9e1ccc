"""What every billing service shares: the French refusal they raise, the durations and the
tax rate read from the app config, and the platform journal entry of an operator's action."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

DEFAULT_GRACE_DAYS = 45
DEFAULT_RETENTION_DAYS = 90
DEFAULT_TRIAL_DAYS = 30


class BillingError(ValueError):
    """A French, user-facing reason why a billing action is refused."""


# --------------------------------------------------------------------------- settings


def _days(key: str, default: int) -> timedelta:
    return timedelta(days=int(current_app.config.get(key, default)))


def grace_period() -> timedelta:
    return _days("BILLING_GRACE_DAYS", DEFAULT_GRACE_DAYS)


def retention_period() -> timedelta:
    return _days("BILLING_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)


def trial_period() -> timedelta:
    return _days("BILLING_TRIAL_DAYS", DEFAULT_TRIAL_DAYS)


def tax_rates() -> list[str]:
    rate = current_app.config.get("STRIPE_TAX_RATE_ID")
    return [rate] if rate else []


# --------------------------------------------------------------------------- journal


def record_operator_action(action: str, actor_id: int | None, tenant_id: int, **details) -> None:
    """Write an action on a tenant's billing to the platform journal (``actor_id`` None:
    Stripe or the platform itself)."""
    from tenants.platform.services import record_platform_action

    record_platform_action(
        action, actor_id=actor_id, target_type="tenant", target_id=tenant_id, **details
    )
