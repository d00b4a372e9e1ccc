"""Billing services: trials, plans, Stripe Checkout and Customer Portal, invoice (mandat
administratif) subscriptions, the state machine, and the operator's actions.

Services add and flush, never commit, never read the request. Every Stripe call carries an
idempotency key built from business ids (:func:`billing.stripe_client.idempotency_key`).

The submodules, from the bottom up (each imports only those above it):

- :mod:`~billing.services.common`: ``BillingError``, the durations and tax rate from the
  config, the platform journal entry of an operator's action;
- :mod:`~billing.services.plans`: plans and population strata;
- :mod:`~billing.services.state`: the pure state machine (no database, no Stripe);
- :mod:`~billing.services.subscriptions`: lookups, the free trial, storing the state;
- :mod:`~billing.services.stripe_sync`: Stripe values, storing Stripe's subscriptions and
  invoices;
- :mod:`~billing.services.checkout`: card checkout, Customer Portal, invoice subscriptions;
- :mod:`~billing.services.operator_actions`: trial extension, plan change, payment
  outside Stripe, plan edits;
- :mod:`~billing.services.overview`: the operator console's overview.

This module re-exports the names the rest of the application (and the tests) use, so
``from billing import services`` keeps working; code inside the package imports from the
submodules.
"""

from billing.services.checkout import (
    DAYS_UNTIL_DUE,
    create_checkout_session,
    create_portal_session,
    push_invoice_subscription,
    subscribe_by_invoice,
)
from billing.services.common import BillingError, trial_period
from billing.services.operator_actions import (
    change_plan,
    extend_trial,
    mark_invoice_paid_out_of_band,
    update_plan,
)
from billing.services.overview import operator_overview
from billing.services.plans import (
    active_plans,
    get_plan,
    plan_below_tier,
    plan_fits,
    plan_for_population,
    upgrade_for,
)
from billing.services.state import effective_state, monthly_revenue_cents
from billing.services.stripe_sync import (
    id_of,
    plain,
    subscription_id_of_invoice,
    sync_stripe_subscription,
    to_epoch,
    upsert_invoice,
)
from billing.services.subscriptions import (
    cached_effective_state,
    get_subscription,
    overdue_invoices,
    refresh_state,
    start_trial,
)

__all__ = [
    "DAYS_UNTIL_DUE",
    "BillingError",
    "active_plans",
    "cached_effective_state",
    "change_plan",
    "create_checkout_session",
    "create_portal_session",
    "effective_state",
    "extend_trial",
    "get_plan",
    "get_subscription",
    "id_of",
    "mark_invoice_paid_out_of_band",
    "monthly_revenue_cents",
    "operator_overview",
    "overdue_invoices",
    "plain",
    "plan_below_tier",
    "plan_fits",
    "plan_for_population",
    "push_invoice_subscription",
    "refresh_state",
    "start_trial",
    "subscribe_by_invoice",
    "subscription_id_of_invoice",
    "sync_stripe_subscription",
    "to_epoch",
    "trial_period",
    "update_plan",
    "upgrade_for",
    "upsert_invoice",
]
