"""Billing services: trials, Stripe Checkout and Customer Portal, invoice (mandat
administratif) subscriptions, the state machine, and the operator's actions.

Services add and flush, never commit, never read the request. Every Stripe call carries an
idempotency key built from business ids (:func:`billing.stripe_client.idempotency_key`).

The billing state is *derived*, never pushed by an event: :func:`refresh_state` computes it
from what Stripe said last (the subscription's status), the open invoices and their due
dates, the trial end and the clock. Webhook jobs re-read the subscription and its invoices
from Stripe before calling it, so the order in which events arrive does not matter.

    trialing ─► active ─► past_due ─(grace: 45 days after the due date)─► read_only
        │                    ▲  │                                             │
        │ (trial over, no    └──┘ invoice paid                               │
        │  subscription) ─► read_only ─(grace)─► canceled ◄── Stripe cancels ─┘
        ▼                                          │
                                       (retention: 90 days) ─► archived
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from billing import stripe_client
from billing.models import (
    REVENUE_STATES,
    BillingState,
    CollectionMethod,
    Invoice,
    InvoiceStatus,
    Plan,
    PlanInterval,
    Subscription,
)
from billing.siret import validate_siret
from billing.stripe_client import StripeNotConfigured, idempotency_key, options
from core import clock
from core.db import db
from tenants.models import Tenant

log = logging.getLogger(__name__)

#: Stripe statuses after which a subscription will never bill again.
DEAD_STRIPE_STATUSES = frozenset({"canceled", "incomplete_expired"})
#: Stripe statuses that mean "an invoice is unpaid".
UNPAID_STRIPE_STATUSES = frozenset({"past_due", "unpaid"})
#: Mandat administratif: public accountants pay within 30 days (Code de la commande publique).
DAYS_UNTIL_DUE = 30
#: Stripe Checkout refuses a trial that ends less than 48 hours from now.
CHECKOUT_MIN_TRIAL = timedelta(hours=49)
#: Invoices read back from Stripe on every sync of a subscription.
INVOICES_PER_SYNC = 24

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


def _tax_rates() -> list[str]:
    rate = current_app.config.get("STRIPE_TAX_RATE_ID")
    return [rate] if rate else []


# --------------------------------------------------------------------------- plans


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


def _plan_for_tenant(code: str, tenant: Tenant) -> Plan:
    plan = get_plan(code)
    if plan is None or not plan.active:
        raise BillingError(_("Cette offre n'existe pas ou n'est plus proposée."))
    if plan.tenant_kind != str(tenant.kind):
        raise BillingError(_("Cette offre n'est pas destinée à ce type de collectivité."))
    # Every change path goes through here: sign-up trial, card checkout, mandate, plan
    # change by the admin or by the operator.
    _check_population(plan, tenant)
    return plan


# --------------------------------------------------------------------------- lookups


def get_subscription(tenant_id: int, *, lock: bool = False) -> Subscription | None:
    query = sa.select(Subscription).where(Subscription.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def _tenant(tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise BillingError(_("Cette collectivité n'existe pas."))
    return tenant


def _require_subscription(tenant_id: int) -> Subscription:
    sub = get_subscription(tenant_id, lock=True)
    if sub is None:
        raise BillingError(_("Cette collectivité n'a pas encore d'abonnement."))
    return sub


def _subscription_for_payment(tenant: Tenant, plan: Plan) -> Subscription:
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
    tenant = _tenant(tenant_id)
    if plan_code:
        plan = _plan_for_tenant(plan_code, tenant)
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


# --------------------------------------------------------------------------- Stripe values


def plain(obj) -> dict:
    """A Stripe object (or an event's data) as a plain dict."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def from_epoch(value) -> datetime | None:
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def to_epoch(value: datetime) -> int:
    return int(value.timestamp())


def id_of(value) -> str | None:
    """An expandable field: an id, or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def subscription_id_of_invoice(invoice: dict) -> str | None:
    """Since API 2025-03-31 the subscription sits under ``parent.subscription_details``."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return id_of(details.get("subscription")) or id_of(invoice.get("subscription"))


def _first_item(stripe_sub: dict) -> dict:
    data = (stripe_sub.get("items") or {}).get("data") or []
    return data[0] if data else {}


def _custom_fields(sub: Subscription) -> list[dict]:
    """Invoice custom fields (at most 4) that Chorus Pro and the public accountant need."""
    fields = []
    if sub.engagement_number:
        fields.append({"name": "N° d'engagement juridique", "value": sub.engagement_number})
    if sub.service_code:
        fields.append({"name": "Code service (Chorus Pro)", "value": sub.service_code})
    if sub.purchase_order:
        fields.append({"name": "Bon de commande", "value": sub.purchase_order})
    return fields


def _metadata(sub: Subscription, tenant: Tenant, plan: Plan | None = None) -> dict:
    data = {"tenant_id": str(tenant.id), "tenant_slug": tenant.slug}
    if plan is not None:
        data["plan"] = plan.code
    return data


def _client():
    try:
        return stripe_client.get_client()
    except StripeNotConfigured:
        raise BillingError(
            _(
                "Le paiement en ligne n'est pas configuré sur cette plateforme : "
                "cette action n'est pas disponible pour le moment."
            )
        ) from None


# --------------------------------------------------------------------------- customer


def ensure_customer(sub: Subscription, client, tenant: Tenant) -> str:
    """The Stripe customer of the tenant, created once.

    Only what never changes goes into the creation (name, tenant id), under a key of
    business ids: an attempt that failed after Stripe created the customer finds it again,
    whatever the admin corrects before retrying. The rest is :func:`sync_customer_details`.
    """
    if sub.stripe_customer_id:
        return sub.stripe_customer_id
    params = {"name": tenant.name, "metadata": _metadata(sub, tenant), "preferred_locales": ["fr"]}
    customer = client.v1.customers.create(
        params, options(idempotency_key(tenant.id, "customer", sub.stripe_attempt))
    )
    sub.stripe_customer_id = customer.id
    db.session.flush()
    return customer.id


def sync_customer_details(
    sub: Subscription, client, tenant: Tenant, *, email: str | None = None
) -> None:
    """Billing e-mail, invoice custom fields (engagement number, service code, purchase
    order) and the SIRET as the customer's ``fr_siret`` tax id."""
    params: dict = {}
    if email:
        params["email"] = email
    if sub.collection_method == CollectionMethod.INVOICE:
        params["invoice_settings"] = {"custom_fields": _custom_fields(sub) or ""}
    if params:
        client.v1.customers.update(
            sub.stripe_customer_id,
            params,
            options(
                idempotency_key(tenant.id, "customer-update", sub.stripe_attempt, params=params)
            ),
        )
    if not sub.siret:
        return
    tax_ids = client.v1.customers.tax_ids.list(sub.stripe_customer_id, {"limit": 100})
    if any(t.type == "fr_siret" and t.value == sub.siret for t in tax_ids.data):
        return
    client.v1.customers.tax_ids.create(
        sub.stripe_customer_id,
        {"type": "fr_siret", "value": sub.siret},
        options(idempotency_key(tenant.id, "tax-id", sub.siret, sub.stripe_attempt)),
    )


def _live_subscription_at_stripe(client, customer_id: str | None) -> dict | None:
    """The customer's live subscription at Stripe, if any (newest first)."""
    if not customer_id:
        return None
    found = client.v1.subscriptions.list({"customer": customer_id, "status": "all", "limit": 10})
    live = [plain(s) for s in found.data if s.status not in DEAD_STRIPE_STATUSES]
    live.sort(key=lambda s: s.get("created") or 0, reverse=True)
    return live[0] if live else None


def _plan_id_of(stripe_sub: dict) -> int | None:
    price_id = id_of(_first_item(stripe_sub).get("price"))
    if not price_id:
        return None
    return db.session.scalar(sa.select(Plan.id).where(Plan.stripe_price_id == price_id))


def _has_live_stripe_subscription(sub: Subscription) -> bool:
    return bool(sub.stripe_subscription_id) and sub.stripe_status not in DEAD_STRIPE_STATUSES


# --------------------------------------------------------------------------- card


def create_checkout_session(
    tenant_id: int,
    plan_code: str,
    success_url: str,
    cancel_url: str,
    *,
    email: str | None = None,
    now: datetime | None = None,
) -> str:
    """Start a Stripe Checkout for a card subscription; return the page to send the admin to.

    Raises :class:`StripeNotConfigured` without a Stripe key.
    """
    client = stripe_client.get_client()
    now = now or clock.utcnow()
    tenant = _tenant(tenant_id)
    plan = _plan_for_tenant(plan_code, tenant)
    if not plan.stripe_price_id:
        raise BillingError(
            _("Cette offre n'est pas encore proposée au paiement en ligne : contactez-nous.")
        )
    sub = _subscription_for_payment(tenant, plan)
    if _has_live_stripe_subscription(sub):
        raise BillingError(
            _(
                "Un abonnement est déjà en cours : changez d'offre ou de carte depuis "
                "« Gérer mon abonnement »."
            )
        )
    sub.stripe_attempt += 1
    customer_id = ensure_customer(sub, client, tenant)
    if email:
        sync_customer_details(sub, client, tenant, email=email)
    subscription_data: dict = {"metadata": _metadata(sub, tenant, plan)}
    if sub.trial_ends_at and sub.trial_ends_at - now >= CHECKOUT_MIN_TRIAL:
        # The free trial runs to its end: the first payment is taken then.
        subscription_data["trial_end"] = to_epoch(sub.trial_ends_at)
    if _tax_rates():
        subscription_data["default_tax_rates"] = _tax_rates()
    params = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(tenant.id),
        "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "fr",
        "billing_address_collection": "required",
        "metadata": _metadata(sub, tenant, plan),
        "subscription_data": subscription_data,
    }
    key = idempotency_key(tenant.id, "checkout", plan.code, sub.stripe_attempt, params=params)
    session = client.v1.checkout.sessions.create(params, options(key))
    db.session.flush()
    return session.url


def create_portal_session(tenant_id: int, return_url: str) -> str:
    """The Stripe Customer Portal (change the card, cancel); raises without a customer."""
    client = stripe_client.get_client()
    sub = _require_subscription(tenant_id)
    if not sub.stripe_customer_id:
        raise BillingError(_("Aucun moyen de paiement n'est encore enregistré."))
    sub.stripe_attempt += 1
    params = {"customer": sub.stripe_customer_id, "return_url": return_url, "locale": "fr"}
    session = client.v1.billing_portal.sessions.create(
        params, options(idempotency_key(tenant_id, "portal", sub.stripe_attempt, params=params))
    )
    db.session.flush()
    return session.url


# --------------------------------------------------------------------------- invoice


def subscribe_by_invoice(
    tenant_id: int,
    plan_code: str,
    *,
    siret: str,
    purchase_order: str,
    engagement_number: str | None = None,
    service_code: str | None = None,
    billing_email: str | None = None,
    now: datetime | None = None,
) -> Subscription:
    """Subscribe (or update the invoicing details) by mandat administratif.

    With Stripe: a subscription with ``collection_method="send_invoice"`` and
    ``days_until_due=30``. Without it, the request is recorded locally ("pending Stripe")
    and sent by the next reconcile once a key is configured.
    """
    now = now or clock.utcnow()
    tenant = _tenant(tenant_id)
    siret = validate_siret(siret, tenant.siren)
    plan = _plan_for_tenant(plan_code, tenant)
    sub = _subscription_for_payment(tenant, plan)
    if _has_live_stripe_subscription(sub) and sub.collection_method == CollectionMethod.CARD:
        raise BillingError(
            _(
                "Votre abonnement est réglé par carte : résiliez-le d'abord depuis « Gérer "
                "mon abonnement », puis choisissez le paiement sur facture."
            )
        )
    sub.siret = siret
    sub.purchase_order = (purchase_order or "").strip() or None
    sub.engagement_number = (engagement_number or "").strip() or None
    sub.service_code = (service_code or "").strip() or None
    sub.billing_email = (billing_email or "").strip().lower() or None
    sub.collection_method = CollectionMethod.INVOICE
    if not stripe_client.is_configured():
        sub.plan = plan
        sub.pending_stripe = True
        db.session.flush()
        refresh_state(sub, now)
        return sub
    if plan.stripe_price_id is None:
        raise BillingError(
            _("Cette offre n'est pas encore reliée à un prix Stripe : contactez l'équipe Pnyx.")
        )
    push_invoice_subscription(sub, stripe_client.get_client(), plan=plan, now=now)
    return sub


def push_invoice_subscription(
    sub: Subscription, client, *, plan: Plan | None = None, now: datetime | None = None
) -> None:
    """Create (or update) the Stripe side of an invoice subscription recorded locally."""
    now = now or clock.utcnow()
    plan = plan or sub.plan
    tenant = sub.tenant
    sub.stripe_attempt += 1
    attempt = sub.stripe_attempt
    ensure_customer(sub, client, tenant)
    sync_customer_details(sub, client, tenant, email=sub.billing_email)
    metadata = {**_metadata(sub, tenant, plan), "purchase_order": sub.purchase_order or ""}
    current_plan_id = sub.plan_id
    if not _has_live_stripe_subscription(sub):
        # A subscription Stripe made for an earlier attempt whose answer was lost: update it
        # rather than bill the collectivité twice.
        orphan = _live_subscription_at_stripe(client, sub.stripe_customer_id)
        if orphan is not None:
            sub.stripe_subscription_id = orphan["id"]
            sub.stripe_status = orphan.get("status")
            current_plan_id = _plan_id_of(orphan)
    if _has_live_stripe_subscription(sub):
        params: dict = {
            "collection_method": "send_invoice",
            "days_until_due": DAYS_UNTIL_DUE,
            "metadata": metadata,
        }
        if plan.id != current_plan_id:
            current = plain(client.v1.subscriptions.retrieve(sub.stripe_subscription_id))
            item_id = _first_item(current).get("id")
            params["items"] = [{"id": item_id, "price": plan.stripe_price_id}]
        key = idempotency_key(tenant.id, "subscription-update", plan.code, attempt, params=params)
        stripe_sub = client.v1.subscriptions.update(
            sub.stripe_subscription_id, params, options(key)
        )
    else:
        params = {
            "customer": sub.stripe_customer_id,
            "items": [{"price": plan.stripe_price_id, "quantity": 1}],
            "collection_method": "send_invoice",
            "days_until_due": DAYS_UNTIL_DUE,
            "metadata": metadata,
            "description": f"Pnyx — {plan.name}",
        }
        if sub.trial_ends_at and sub.trial_ends_at > now + timedelta(hours=1):
            params["trial_end"] = to_epoch(sub.trial_ends_at)
        if _tax_rates():
            params["default_tax_rates"] = _tax_rates()
        key = idempotency_key(tenant.id, "subscription", plan.code, attempt, params=params)
        stripe_sub = client.v1.subscriptions.create(params, options(key))
    sub.plan = plan
    sub.pending_stripe = False
    apply_subscription_state(sub, plain(stripe_sub), now)


# --------------------------------------------------------------------------- sync


def _should_adopt(sub: Subscription, incoming: dict) -> bool:
    """Is ``incoming`` the tenant's current Stripe subscription? A live one beats a dead
    one, then the most recent wins: the answer does not depend on the events' order."""
    if sub.stripe_subscription_id in (None, incoming.get("id")):
        return True
    incoming_live = incoming.get("status") not in DEAD_STRIPE_STATUSES
    current_live = sub.stripe_status not in DEAD_STRIPE_STATUSES
    if incoming_live != current_live:
        return incoming_live
    created = from_epoch(incoming.get("created"))
    if sub.stripe_created_at is None:
        return True
    return created is not None and created > sub.stripe_created_at


def apply_subscription_state(
    sub: Subscription, stripe_sub: dict, now: datetime | None = None
) -> str:
    """Copy what Stripe says of the subscription (status, plan, period, trial, end), then
    recompute the billing state. Returns the new state."""
    now = now or clock.utcnow()
    status = stripe_sub.get("status")
    sub.stripe_subscription_id = stripe_sub.get("id") or sub.stripe_subscription_id
    sub.stripe_status = status
    sub.stripe_created_at = from_epoch(stripe_sub.get("created")) or sub.stripe_created_at
    sub.stripe_customer_id = id_of(stripe_sub.get("customer")) or sub.stripe_customer_id
    if stripe_sub.get("collection_method"):
        sub.collection_method = stripe_sub["collection_method"]
    item = _first_item(stripe_sub)
    price_id = id_of(item.get("price"))
    if price_id:
        plan = db.session.scalar(sa.select(Plan).where(Plan.stripe_price_id == price_id))
        if plan is not None and plan.id != sub.plan_id and plan_below_tier(plan, sub.tenant):
            # A price changed at Stripe (Customer Portal, dashboard) to a stratum below the
            # collectivité's: not adopted; the operator sees it in the journal and the
            # console, and settles it with the collectivité.
            log.warning(
                "tenant %s: Stripe price %s (plan %s) is below its population, not adopted",
                sub.tenant_id,
                price_id,
                plan.code,
            )
            _record_operator(
                "billing.plan_refused",
                None,
                sub.tenant_id,
                plan=plan.code,
                current_plan=sub.plan.code if sub.plan else None,
                source="stripe",
                stripe_subscription_id=sub.stripe_subscription_id,
            )
        elif plan is not None:
            sub.plan = plan
    period_end = item.get("current_period_end") or stripe_sub.get("current_period_end")
    sub.current_period_end = from_epoch(period_end) or sub.current_period_end
    if stripe_sub.get("trial_end"):
        sub.trial_ends_at = from_epoch(stripe_sub["trial_end"])
    if status in DEAD_STRIPE_STATUSES:
        ended = stripe_sub.get("ended_at") or stripe_sub.get("canceled_at")
        sub.canceled_at = from_epoch(ended) or sub.canceled_at or now
    sub.pending_stripe = False
    db.session.flush()
    return refresh_state(sub, now)


def upsert_invoice(
    sub: Subscription, stripe_invoice: dict, *, known: dict[str, Invoice] | None = None
) -> Invoice | None:
    """Store the invoice as Stripe has it now (drafts are not shown to anyone).

    ``known``: rows already loaded by Stripe id (a sync reads them in one query)."""
    invoice_id = stripe_invoice.get("id")
    status = stripe_invoice.get("status")
    if not invoice_id or status not in set(InvoiceStatus):
        return None
    if known is not None:
        row = known.get(invoice_id)
    else:
        row = db.session.scalar(sa.select(Invoice).where(Invoice.stripe_invoice_id == invoice_id))
    if row is None:
        row = Invoice(tenant_id=sub.tenant_id, subscription_id=sub.id, stripe_invoice_id=invoice_id)
        db.session.add(row)
    transitions = stripe_invoice.get("status_transitions") or {}
    finalized = from_epoch(transitions.get("finalized_at"))
    row.number = stripe_invoice.get("number")
    row.status = status
    row.currency = stripe_invoice.get("currency") or "eur"
    row.total_cents = int(stripe_invoice.get("total") or 0)
    excl = stripe_invoice.get("total_excluding_tax")
    row.total_excl_vat_cents = int(excl) if excl is not None else None
    row.amount_due_cents = int(stripe_invoice.get("amount_due") or 0)
    row.amount_paid_cents = int(stripe_invoice.get("amount_paid") or 0)
    row.issued_at = finalized or from_epoch(stripe_invoice.get("created"))
    # Sent invoices have a due date; a card invoice is late once its payment failed.
    due = from_epoch(stripe_invoice.get("due_date"))
    if due is None and stripe_invoice.get("attempted"):
        due = finalized
    row.due_at = due
    lines = (stripe_invoice.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") if lines else None) or {}
    row.period_start = from_epoch(period.get("start") or stripe_invoice.get("period_start"))
    row.period_end = from_epoch(period.get("end") or stripe_invoice.get("period_end"))
    row.paid_at = from_epoch(transitions.get("paid_at")) or row.paid_at
    row.hosted_invoice_url = stripe_invoice.get("hosted_invoice_url")
    row.invoice_pdf_url = stripe_invoice.get("invoice_pdf")
    if known is None:
        db.session.flush()
    return row


def sync_stripe_subscription(
    sub: Subscription,
    client,
    stripe_subscription_id: str,
    now: datetime | None = None,
    *,
    stripe_sub: dict | None = None,
) -> str:
    """Re-read a Stripe subscription and its latest invoices, store them, recompute."""
    now = now or clock.utcnow()
    if stripe_sub is None:
        stripe_sub = plain(client.v1.subscriptions.retrieve(stripe_subscription_id))
    invoices = client.v1.invoices.list(
        {"subscription": stripe_subscription_id, "limit": INVOICES_PER_SYNC}
    )
    found = [plain(stripe_invoice) for stripe_invoice in invoices.data]
    ids = [invoice["id"] for invoice in found if invoice.get("id")]
    known = {
        row.stripe_invoice_id: row
        for row in db.session.scalars(sa.select(Invoice).where(Invoice.stripe_invoice_id.in_(ids)))
    }
    for invoice in found:
        upsert_invoice(sub, invoice, known=known)
    db.session.flush()
    if _should_adopt(sub, stripe_sub):
        return apply_subscription_state(sub, stripe_sub, now)
    return refresh_state(sub, now)


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


def compute_state(sub: Subscription, now: datetime) -> dict:
    """The billing state and its dates, from the stored facts and the clock (pure: no
    write). Keys: state, past_due_since, grace_until, read_only_since, canceled_at,
    retention_until."""
    grace, retention = grace_period(), retention_period()
    result = {
        "state": sub.state,
        "past_due_since": None,
        "grace_until": None,
        "read_only_since": None,
        "canceled_at": None,
        "retention_until": None,
    }
    if sub.state == BillingState.ARCHIVED:
        result.update(canceled_at=sub.canceled_at, retention_until=sub.retention_until)
        return result
    status = sub.stripe_status
    if status in DEAD_STRIPE_STATUSES:
        canceled_at = sub.canceled_at or now
        result.update(
            state=BillingState.CANCELED,
            canceled_at=canceled_at,
            retention_until=canceled_at + retention,
            read_only_since=canceled_at,
        )
        return result
    late = [invoice.due_at for invoice in overdue_invoices(sub.tenant_id, now)]
    if late or status in UNPAID_STRIPE_STATUSES:
        since = min(late) if late else (sub.past_due_since or now)
        grace_until = since + grace
        read_only = now >= grace_until
        result.update(
            state=BillingState.READ_ONLY if read_only else BillingState.PAST_DUE,
            past_due_since=since,
            grace_until=grace_until,
            read_only_since=grace_until if read_only else None,
        )
        return result
    if not sub.has_payment_arrangement or status == "incomplete":
        if sub.trial_ends_at is None or now < sub.trial_ends_at:
            result["state"] = BillingState.TRIALING
        elif now < sub.trial_ends_at + grace:
            result.update(state=BillingState.READ_ONLY, read_only_since=sub.trial_ends_at)
        else:
            canceled_at = sub.trial_ends_at + grace
            result.update(
                state=BillingState.CANCELED,
                read_only_since=sub.trial_ends_at,
                canceled_at=canceled_at,
                retention_until=canceled_at + retention,
            )
        return result
    in_trial = sub.trial_ends_at is not None and now < sub.trial_ends_at
    if status == "trialing" or (sub.pending_stripe and in_trial):
        result["state"] = BillingState.TRIALING
    elif status == "paused":
        result.update(state=BillingState.READ_ONLY, read_only_since=sub.read_only_since or now)
    else:
        result["state"] = BillingState.ACTIVE
    return result


def refresh_state(sub: Subscription, now: datetime | None = None) -> str:
    """Recompute and store the billing state; returns it."""
    now = now or clock.utcnow()
    computed = compute_state(sub, now)
    new_state = computed.pop("state")
    for key, value in computed.items():
        setattr(sub, key, value)
    if new_state != sub.state:
        log.info("tenant %s billing: %s -> %s", sub.tenant_id, sub.state, new_state)
        sub.state = new_state
        sub.state_changed_at = now
    db.session.flush()
    return new_state


def effective_state(sub: Subscription | None, now: datetime | None = None) -> str | None:
    """The state as of now without touching the database (for the write guard)."""
    if sub is None:
        return None
    return sub.effective_state(now or clock.utcnow(), grace_period())


@dataclass(frozen=True)
class WriteStateSnapshot:
    """The few subscription fields the effective state depends on, as plain data (kept in
    the per-process tenant values cache; never an ORM object)."""

    state: str
    grace_until: datetime | None
    trial_ends_at: datetime | None
    stripe_subscription_id: str | None
    pending_stripe: bool

    @property
    def has_payment_arrangement(self) -> bool:
        return self.stripe_subscription_id is not None or bool(self.pending_stripe)


WRITE_STATE_CACHE_NAME = "billing-write-state"


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


def monthly_revenue_cents(sub: Subscription | None) -> int:
    """Monthly recurring revenue, excluding VAT: paying subscriptions only."""
    if sub is None or sub.plan is None or sub.state not in REVENUE_STATES:
        return 0
    return sub.plan.monthly_cents_excl_vat


# --------------------------------------------------------------------------- operator


def _record_operator(action: str, actor_id: int | None, tenant_id: int, **details) -> None:
    from core.platform.services import record_platform_action

    record_platform_action(
        action, actor_id=actor_id, target_type="tenant", target_id=tenant_id, **details
    )


def extend_trial(
    tenant_id: int, days: int, *, actor_id: int | None, now: datetime | None = None
) -> Subscription:
    """Give a collectivité ``days`` more of free trial (from its trial end, or from today
    once it has passed)."""
    now = now or clock.utcnow()
    if not 1 <= int(days) <= 365:
        raise BillingError(_("Indiquez une prolongation entre 1 et 365 jours."))
    sub = _require_subscription(tenant_id)
    if sub.state == BillingState.ARCHIVED:
        raise BillingError(_("Cet espace est archivé : il ne peut plus être rouvert."))
    if _has_live_stripe_subscription(sub) and sub.stripe_status != "trialing":
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
    if _has_live_stripe_subscription(sub):
        client = _client()
        sub.stripe_attempt += 1
        updated = client.v1.subscriptions.update(
            sub.stripe_subscription_id,
            {"trial_end": to_epoch(sub.trial_ends_at), "proration_behavior": "none"},
            options(idempotency_key(tenant_id, "trial-extension", to_epoch(sub.trial_ends_at))),
        )
        apply_subscription_state(sub, plain(updated), now)
    _record_operator(
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
    tenant = _tenant(tenant_id)
    plan = _plan_for_tenant(plan_code, tenant)
    sub = _require_subscription(tenant_id)
    previous = sub.plan.code if sub.plan else None
    if previous == plan.code:
        return sub
    if _has_live_stripe_subscription(sub):
        if not plan.stripe_price_id:
            raise BillingError(
                _("Cette offre n'est pas encore reliée à un prix Stripe : contactez l'équipe Pnyx.")
            )
        client = _client()
        sub.stripe_attempt += 1
        current = plain(client.v1.subscriptions.retrieve(sub.stripe_subscription_id))
        updated = client.v1.subscriptions.update(
            sub.stripe_subscription_id,
            {
                "items": [{"id": _first_item(current).get("id"), "price": plan.stripe_price_id}],
                "proration_behavior": "create_prorations",
                "metadata": _metadata(sub, tenant, plan),
            },
            options(idempotency_key(tenant_id, "plan-change", plan.code, sub.stripe_attempt)),
        )
        apply_subscription_state(sub, plain(updated), now)
    sub.plan = plan
    db.session.flush()
    if by_operator:
        _record_operator(
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
        client = _client()
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
    _record_operator(
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
    from core.platform.services import record_platform_action

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


# --------------------------------------------------------------------------- reports


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
