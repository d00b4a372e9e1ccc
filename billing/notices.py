"""What a tenant's billing state means for its site: the write guard (read-only mode) and
the French explanations shown to citizens (a refused write) and to admins (a banner on the
staff pages, the billing page)."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, request
from flask_babel import gettext as _
from flask_login import current_user

from billing import services
from billing.models import READ_ONLY_STATES, BillingState, Subscription
from core import clock
from core.i18n import date_fr

#: Writes that stay possible in read-only mode: signing in and out (an admin must reach the
#: billing page), and the rights citizens hold whatever the contract (RGPD export and
#: erasure, fewer e-mails). The billing pages themselves are exempt too.
EXEMPT_ENDPOINTS = frozenset(
    {
        "accounts.login",
        "accounts.logout",
        "accounts.forgot_password",
        "accounts.reset_password",
        "accounts.accept_legal",
        "accounts.data",
        "accounts.delete_account",
        "accounts.notifications",
        "staff.two_factor",
        "staff.two_factor_enrol",
    }
)
BILLING_ENDPOINT_PREFIX = "billing_admin."


def _subscription_for_request(tenant_id: int) -> Subscription | None:
    """Read once per request (the guard and the banner may both ask)."""
    cache = g.setdefault("_billing_subscription", {})
    if tenant_id not in cache:
        cache[tenant_id] = services.get_subscription(tenant_id)
    return cache[tenant_id]


def read_only_message(tenant_name: str, sub: Subscription, state: str) -> str:
    """Why nothing can be written on the site, and how an admin fixes it."""
    fix = _(
        "Les contenus restent consultables. Un administrateur ou une administratrice de "
        "l'espace peut rétablir la situation depuis Administration › Abonnement "
        "(/gestion/abonnement)."
    )
    if state == BillingState.CANCELED:
        reason = _(
            "L'abonnement de %(name)s à Pnyx est résilié : l'espace est en lecture seule.",
            name=tenant_name,
        )
        if sub.retention_until:
            reason += " " + _(
                "Ses données sont conservées jusqu'au %(date)s ; un export complet peut être "
                "téléchargé d'ici là.",
                date=date_fr(sub.retention_until),
            )
        return f"{reason} {fix}"
    if sub.past_due_since is not None or sub.grace_until is not None:
        reason = _(
            "L'espace de participation de %(name)s est en lecture seule : une facture "
            "d'abonnement reste impayée au-delà du délai de grâce.",
            name=tenant_name,
        )
    elif not sub.has_payment_arrangement:
        reason = _(
            "L'espace de participation de %(name)s est en lecture seule : la période d'essai "
            "est terminée et aucun abonnement n'a encore été souscrit.",
            name=tenant_name,
        )
    else:
        reason = _(
            "L'espace de participation de %(name)s est en lecture seule : l'abonnement est "
            "suspendu.",
            name=tenant_name,
        )
    return f"{reason} {fix}"


def write_guard(tenant) -> str | None:
    """``tenants.web.write_guards`` entry: refuse writes in read-only billing states."""
    endpoint = request.endpoint or ""
    if endpoint in EXEMPT_ENDPOINTS or endpoint.startswith(BILLING_ENDPOINT_PREFIX):
        return None
    sub = _subscription_for_request(tenant.id)
    if sub is None:
        return None
    state = services.effective_state(sub)
    if state not in READ_ONLY_STATES:
        return None
    return read_only_message(tenant.name, sub, state)


def admin_notice(sub: Subscription | None, now: datetime | None = None) -> tuple[str, str] | None:
    """``(flash category, message)`` for the collectivité's admins, or None when all is well."""
    if sub is None:
        return None
    now = now or clock.utcnow()
    state = services.effective_state(sub, now)
    if state == BillingState.TRIALING and sub.trial_ends_at and not sub.has_payment_arrangement:
        days_left = (sub.trial_ends_at - now).days
        if days_left <= 7:
            return (
                "info",
                _(
                    "Votre période d'essai se termine le %(date)s. Choisissez une offre et un "
                    "mode de paiement pour que l'espace reste ouvert aux contributions.",
                    date=date_fr(sub.trial_ends_at),
                ),
            )
        return None
    if state == BillingState.PAST_DUE:
        return (
            "error",
            _(
                "Une facture d'abonnement est en retard de paiement. Sans règlement avant le "
                "%(date)s, l'espace passera en lecture seule.",
                date=date_fr(sub.grace_until),
            ),
        )
    if state in READ_ONLY_STATES:
        return ("error", read_only_message(sub.tenant.name, sub, state))
    return None


def flash_admin_notice(tenant) -> None:
    """On the staff pages, tell admins what needs their attention (a banner)."""
    if request.method != "GET":
        return
    endpoint = request.endpoint or ""
    if not endpoint.startswith("staff.") or endpoint in EXEMPT_ENDPOINTS:
        return
    if not getattr(current_user, "is_authenticated", False):
        return
    if getattr(current_user, "staff_role", None) != "admin":
        return
    notice = admin_notice(_subscription_for_request(tenant.id))
    if notice is not None:
        flash(notice[1], notice[0])
