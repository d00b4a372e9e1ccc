"""The Stripe webhook (platform domain) and the admins' billing pages (tenant site,
/gestion/abonnement).

Thin views: validate the form, call a service, commit once, flash, redirect. A Stripe
outage or a missing key becomes a French message, never a stack trace.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
import stripe
from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from billing import export, limits, notices, services, stripe_client, webhooks
from billing.forms import (
    CardCheckoutForm,
    ChangePlanForm,
    ConfirmForm,
    InvoiceSubscriptionForm,
    plan_choices,
)
from billing.labels import (
    COLLECTION_LABELS,
    FEATURE_LABELS,
    INTERVAL_LABELS,
    INVOICE_STATUS_LABELS,
    LIMIT_LABELS,
    STATE_LABELS,
)
from billing.models import READ_ONLY_STATES, BillingState, Invoice, InvoiceStatus
from billing.services import BillingError
from billing.siret import SiretError
from billing.stripe_client import StripeNotConfigured
from core import clock
from core.audit import audit
from core.db import db
from core.extensions import csrf
from core.routing import TENANT_SITE
from core.security.headers import CSP
from participation.accounts.models import StaffRole
from participation.staff.permissions import staff_required
from tenants.context import current_tenant

log = logging.getLogger(__name__)

admin_bp = Blueprint(
    "billing_admin",
    __name__,
    url_prefix="/gestion/abonnement",
    subdomain=TENANT_SITE,
    static_folder="static",
    static_url_path="/ressources",
)
webhook_bp = Blueprint("billing_webhook", __name__)

ADMIN = StaffRole.ADMIN
#: Webhook bodies are small JSON documents; anything bigger is not from Stripe.
WEBHOOK_MAX_BYTES = 1024 * 1024
#: The card forms post to us, then we redirect to Stripe: the page's CSP must allow the
#: forms' redirect to end there.
STRIPE_FORM_TARGETS = "https://checkout.stripe.com https://billing.stripe.com"

STRIPE_DOWN = _l(
    "Le service de paiement ne répond pas pour le moment. Rien n'a été enregistré : "
    "réessayez dans quelques minutes."
)
NOT_CONFIGURED = _l(
    "Le paiement en ligne par carte n'est pas configuré sur cette plateforme. Choisissez le "
    "paiement sur facture (mandat administratif), ou contactez l'équipe Pnyx."
)


# --------------------------------------------------------------------------- webhook


@webhook_bp.post("/billing/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    if (request.content_length or 0) > WEBHOOK_MAX_BYTES:
        return jsonify(error="payload too large"), 413
    try:
        receipt = webhooks.receive(
            request.get_data(cache=False), request.headers.get("Stripe-Signature")
        )
    except webhooks.WebhookNotConfigured:
        log.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not set")
        return jsonify(error="webhook not configured"), 503
    except webhooks.WebhookRejected as exc:
        log.warning("Stripe webhook rejected: %s", exc)
        return jsonify(error="invalid signature or payload"), 400
    db.session.commit()
    return jsonify(received=True, id=receipt.event_id, outcome=receipt.outcome)


# --------------------------------------------------------------------------- admin pages


@admin_bp.after_request
def _allow_stripe_redirects(response):
    response.headers["Content-Security-Policy"] = CSP.replace(
        "form-action 'self'", f"form-action 'self' {STRIPE_FORM_TARGETS}"
    )
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _tenant():
    return current_tenant()


def _plans_for(tenant, *, payable_online: bool = False):
    # Only the plans of its stratum or above: the service refuses the others anyway.
    plans = [
        plan
        for plan in services.active_plans(tenant.kind)
        if services.plan_fits(plan, tenant.population)
    ]
    if payable_online:
        plans = [plan for plan in plans if plan.stripe_price_id]
    return plans


def _default_plan(tenant, sub):
    if sub is not None and sub.plan is not None and sub.plan.active:
        return sub.plan
    return services.plan_for_population(tenant.kind, tenant.population)


def _back():
    return redirect(url_for("billing_admin.index"))


@admin_bp.get("/")
@staff_required(ADMIN)
def index():
    tenant = _tenant()
    now = clock.utcnow()
    sub = services.get_subscription(tenant.id)
    state = services.effective_state(sub, now)
    plans = _plans_for(tenant)
    default = _default_plan(tenant, sub)
    card_form = CardCheckoutForm()
    card_form.plan.choices = plan_choices(_plans_for(tenant, payable_online=True))
    if default is not None and any(code == default.code for code, _label in card_form.plan.choices):
        card_form.plan.data = default.code
    change_form = ChangePlanForm()
    change_form.plan.choices = plan_choices(plans)
    if sub is not None:
        change_form.plan.data = sub.plan.code
    invoices = db.session.scalars(
        sa.select(Invoice)
        .where(Invoice.tenant_id == tenant.id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.issued_at.desc().nulls_last(), Invoice.id.desc())
    ).all()
    return render_template(
        "billing/index.html",
        sub=sub,
        state=state,
        state_label=STATE_LABELS.get(state) if state else None,
        notice=notices.admin_notice(sub, now),
        plans=plans,
        recommended=services.plan_for_population(tenant.kind, tenant.population),
        usage=limits.usage(),
        invoices=invoices,
        card_form=card_form,
        change_form=change_form,
        portal_form=ConfirmForm(),
        stripe_ready=stripe_client.is_configured(),
        read_only=state in READ_ONLY_STATES,
        canceled=state == BillingState.CANCELED,
        labels={
            "interval": INTERVAL_LABELS,
            "invoice": INVOICE_STATUS_LABELS,
            "collection": COLLECTION_LABELS,
            "limits": LIMIT_LABELS,
            "features": FEATURE_LABELS,
        },
        now=now,
    )


@admin_bp.post("/carte")
@staff_required(ADMIN)
def card_checkout():
    tenant = _tenant()
    if not stripe_client.is_configured():
        flash(str(NOT_CONFIGURED), "info")
        return _back()
    form = CardCheckoutForm()
    form.plan.choices = plan_choices(_plans_for(tenant, payable_online=True))
    if not form.validate_on_submit():
        flash(_("Choisissez une offre avant de passer au paiement."), "error")
        return _back()
    try:
        url = services.create_checkout_session(
            tenant.id,
            form.plan.data,
            success_url=url_for("billing_admin.card_return", _external=True),
            cancel_url=url_for("billing_admin.index", _external=True),
            email=current_user.email,
        )
    except (BillingError, StripeNotConfigured) as exc:
        db.session.rollback()
        flash(str(exc) if isinstance(exc, BillingError) else str(NOT_CONFIGURED), "error")
        return _back()
    except stripe.StripeError:
        log.exception("tenant %s: Stripe Checkout failed", tenant.id)
        db.session.rollback()
        flash(str(STRIPE_DOWN), "error")
        return _back()
    audit(
        "billing.checkout_started",
        actor=current_user,
        target_type="subscription",
        plan=form.plan.data,
    )
    db.session.commit()
    return redirect(url, code=303)


@admin_bp.get("/carte/retour")
@staff_required(ADMIN)
def card_return():
    flash(
        _(
            "Merci ! Stripe confirme le paiement : votre abonnement apparaîtra ici dans "
            "quelques instants."
        ),
        "success",
    )
    return _back()


@admin_bp.post("/portail")
@staff_required(ADMIN)
def portal():
    tenant = _tenant()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _back()
    try:
        url = services.create_portal_session(
            tenant.id, return_url=url_for("billing_admin.index", _external=True)
        )
    except (BillingError, StripeNotConfigured) as exc:
        db.session.rollback()
        flash(str(exc) if isinstance(exc, BillingError) else str(NOT_CONFIGURED), "error")
        return _back()
    except stripe.StripeError:
        log.exception("tenant %s: Stripe Customer Portal failed", tenant.id)
        db.session.rollback()
        flash(str(STRIPE_DOWN), "error")
        return _back()
    db.session.commit()
    return redirect(url, code=303)


@admin_bp.route("/mandat", methods=["GET", "POST"])
@staff_required(ADMIN)
def invoice_subscription():
    tenant = _tenant()
    sub = services.get_subscription(tenant.id)
    form = InvoiceSubscriptionForm(obj=sub if request.method == "GET" else None)
    form.plan.choices = plan_choices(_plans_for(tenant))
    if request.method == "GET":
        default = _default_plan(tenant, sub)
        form.plan.data = default.code if default else None
    if form.validate_on_submit():
        try:
            sub = services.subscribe_by_invoice(
                tenant.id,
                form.plan.data,
                siret=form.siret.data,
                purchase_order=form.purchase_order.data,
                engagement_number=form.engagement_number.data,
                service_code=form.service_code.data,
                billing_email=form.billing_email.data,
            )
        except SiretError as exc:
            db.session.rollback()
            form.siret.errors.append(str(exc))
        except BillingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        except stripe.StripeError:
            log.exception("tenant %s: invoice subscription failed", tenant.id)
            db.session.rollback()
            flash(str(STRIPE_DOWN), "error")
        else:
            audit(
                "billing.invoice_subscription",
                actor=current_user,
                target_type="subscription",
                target_id=sub.id,
                plan=form.plan.data,
                purchase_order=sub.purchase_order,
                pending_stripe=sub.pending_stripe,
            )
            db.session.commit()
            if sub.pending_stripe:
                flash(
                    _(
                        "Votre demande d'abonnement sur facture est enregistrée. Le paiement "
                        "en ligne n'étant pas encore configuré sur cette plateforme, la "
                        "facture vous sera adressée dès sa mise en service."
                    ),
                    "success",
                )
            else:
                flash(
                    _(
                        "Votre abonnement sur facture est enregistré : la facture vous sera "
                        "adressée, payable à 30 jours par mandat administratif."
                    ),
                    "success",
                )
            return _back()
    return render_template(
        "billing/invoice_subscription.html",
        form=form,
        sub=sub,
        tenant_siren=tenant.siren,
        stripe_ready=stripe_client.is_configured(),
    )


@admin_bp.post("/offre")
@staff_required(ADMIN)
def change_plan():
    tenant = _tenant()
    form = ChangePlanForm()
    form.plan.choices = plan_choices(_plans_for(tenant))
    if not form.validate_on_submit():
        flash(_("Choisissez une offre."), "error")
        return _back()
    try:
        sub = services.change_plan(
            tenant.id,
            form.plan.data,
            actor_id=current_user.id,
            actor_label=current_user.display_name,
            by_operator=False,
        )
    except BillingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back()
    except stripe.StripeError:
        log.exception("tenant %s: plan change failed", tenant.id)
        db.session.rollback()
        flash(str(STRIPE_DOWN), "error")
        return _back()
    db.session.commit()
    flash(_("Votre offre est désormais « %(plan)s ».", plan=sub.plan.name), "success")
    return _back()


@admin_bp.get("/export")
@staff_required(ADMIN)
def download_export():
    tenant = _tenant()
    audit("billing.export_downloaded", actor=current_user, target_type="subscription")
    archive = export.write_export(db.session.connection(), tenant.schema, tenant.name)
    db.session.commit()
    stamp = clock.utcnow().strftime("%Y%m%d")
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"pnyx-{tenant.slug}-export-{stamp}.zip",
    )
