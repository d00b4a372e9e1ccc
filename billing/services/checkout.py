"""Paying: the card subscription through Stripe Checkout and the Customer Portal, and the
invoice (mandat administratif) subscription, with the Stripe customer both need.

Every Stripe call carries an idempotency key built from business ids
(:func:`billing.stripe_client.idempotency_key`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from billing import stripe_client
from billing.models import CollectionMethod, Plan, Subscription
from billing.services.common import BillingError, tax_rates
from billing.services.plans import plan_for_tenant
from billing.services.state import DEAD_STRIPE_STATUSES
from billing.services.stripe_sync import (
    apply_subscription_state,
    first_item,
    has_live_stripe_subscription,
    id_of,
    plain,
    stripe_metadata,
    to_epoch,
)
from billing.services.subscriptions import (
    refresh_state,
    require_subscription,
    subscription_for_payment,
    tenant_or_error,
)
from billing.siret import validate_siret
from billing.stripe_client import idempotency_key, options
from core import clock
from core.db import db
from tenants.models import Tenant

#: Mandat administratif: public accountants pay within 30 days (Code de la commande publique).
DAYS_UNTIL_DUE = 30
#: Stripe Checkout refuses a trial that ends less than 48 hours from now.
CHECKOUT_MIN_TRIAL = timedelta(hours=49)


# --------------------------------------------------------------------------- customer


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


def ensure_customer(sub: Subscription, client, tenant: Tenant) -> str:
    """The Stripe customer of the tenant, created once.

    Only what never changes goes into the creation (name, tenant id), under a key of
    business ids: an attempt that failed after Stripe created the customer finds it again,
    whatever the admin corrects before retrying. The rest is :func:`sync_customer_details`.
    """
    if sub.stripe_customer_id:
        return sub.stripe_customer_id
    params = {
        "name": tenant.name,
        "metadata": stripe_metadata(sub, tenant),
        "preferred_locales": ["fr"],
    }
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
    price_id = id_of(first_item(stripe_sub).get("price"))
    if not price_id:
        return None
    return db.session.scalar(sa.select(Plan.id).where(Plan.stripe_price_id == price_id))


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
    tenant = tenant_or_error(tenant_id)
    plan = plan_for_tenant(plan_code, tenant)
    if not plan.stripe_price_id:
        raise BillingError(
            _("Cette offre n'est pas encore proposée au paiement en ligne : contactez-nous.")
        )
    sub = subscription_for_payment(tenant, plan)
    if has_live_stripe_subscription(sub):
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
    subscription_data: dict = {"metadata": stripe_metadata(sub, tenant, plan)}
    if sub.trial_ends_at and sub.trial_ends_at - now >= CHECKOUT_MIN_TRIAL:
        # The free trial runs to its end: the first payment is taken then.
        subscription_data["trial_end"] = to_epoch(sub.trial_ends_at)
    if tax_rates():
        subscription_data["default_tax_rates"] = tax_rates()
    params = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(tenant.id),
        "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "fr",
        "billing_address_collection": "required",
        "metadata": stripe_metadata(sub, tenant, plan),
        "subscription_data": subscription_data,
    }
    key = idempotency_key(tenant.id, "checkout", plan.code, sub.stripe_attempt, params=params)
    session = client.v1.checkout.sessions.create(params, options(key))
    db.session.flush()
    return session.url


def create_portal_session(tenant_id: int, return_url: str) -> str:
    """The Stripe Customer Portal (change the card, cancel); raises without a customer."""
    client = stripe_client.get_client()
    sub = require_subscription(tenant_id)
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
    tenant = tenant_or_error(tenant_id)
    siret = validate_siret(siret, tenant.siren)
    plan = plan_for_tenant(plan_code, tenant)
    sub = subscription_for_payment(tenant, plan)
    if has_live_stripe_subscription(sub) and sub.collection_method == CollectionMethod.CARD:
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
    metadata = {**stripe_metadata(sub, tenant, plan), "purchase_order": sub.purchase_order or ""}
    current_plan_id = sub.plan_id
    if not has_live_stripe_subscription(sub):
        # A subscription Stripe made for an earlier attempt whose answer was lost: update it
        # rather than bill the collectivité twice.
        orphan = _live_subscription_at_stripe(client, sub.stripe_customer_id)
        if orphan is not None:
            sub.stripe_subscription_id = orphan["id"]
            sub.stripe_status = orphan.get("status")
            current_plan_id = _plan_id_of(orphan)
    if has_live_stripe_subscription(sub):
        params: dict = {
            "collection_method": "send_invoice",
            "days_until_due": DAYS_UNTIL_DUE,
            "metadata": metadata,
        }
        if plan.id != current_plan_id:
            current = plain(client.v1.subscriptions.retrieve(sub.stripe_subscription_id))
            item_id = first_item(current).get("id")
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
        if tax_rates():
            params["default_tax_rates"] = tax_rates()
        key = idempotency_key(tenant.id, "subscription", plan.code, attempt, params=params)
        stripe_sub = client.v1.subscriptions.create(params, options(key))
    sub.plan = plan
    sub.pending_stripe = False
    apply_subscription_state(sub, plain(stripe_sub), now)
