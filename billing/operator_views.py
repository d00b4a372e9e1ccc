"""The operator's billing console, on the platform domain (/operateur/facturation).

Operators see every tenant with its plan, billing state, trial end, monthly recurring
revenue and overdue invoices; they extend a trial, change a plan, mark an invoice paid out
of band, and edit the plans. Every action is written to the platform audit log.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import sqlalchemy as sa
import stripe
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from billing import services
from billing.forms import (
    ExtendTrialForm,
    MarkPaidForm,
    OperatorChangePlanForm,
    PlanForm,
    plan_choices,
)
from billing.labels import (
    COLLECTION_LABELS,
    FEATURE_LABELS,
    INTERVAL_LABELS,
    INVOICE_STATUS_LABELS,
    KIND_LABELS,
    LIMIT_LABELS,
    NO_SUBSCRIPTION_LABEL,
    STATE_LABELS,
)
from billing.models import BillingState, Invoice, Plan
from billing.services import BillingError
from core import clock
from core.db import db
from core.security.auth import two_factor_required
from tenants.models import Tenant
from tenants.platform.models import PlatformAuditEntry, PlatformRole
from tenants.platform.views import roles_required

log = logging.getLogger(__name__)

bp = Blueprint(
    "billing_operator",
    __name__,
    url_prefix="/operateur/facturation",
    static_folder="static",
    static_url_path="/ressources",
)

STRIPE_DOWN = _l("Stripe ne répond pas : rien n'a été modifié. Réessayez dans quelques minutes.")


def operator_page(view):
    return two_factor_required(roles_required(PlatformRole.OPERATOR)(view))


def _labels() -> dict:
    return {
        "state": STATE_LABELS,
        "kind": KIND_LABELS,
        "interval": INTERVAL_LABELS,
        "invoice": INVOICE_STATUS_LABELS,
        "collection": COLLECTION_LABELS,
        "limits": LIMIT_LABELS,
        "features": FEATURE_LABELS,
        "none": NO_SUBSCRIPTION_LABEL,
    }


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/")
@operator_page
def index():
    state = request.args.get("etat") or None
    if state not in (None, "none", *BillingState):
        state = None
    mismatch_only = request.args.get("offre") == "inadaptee"
    overview = services.operator_overview(state=state, plan_mismatch_only=mismatch_only)
    return render_template(
        "billing/operator/index.html",
        overview=overview,
        current_filter=state,
        mismatch_only=mismatch_only,
        states=[*BillingState, "none"],
        labels=_labels(),
    )


def _tenant_or_404(tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        abort(404)
    return tenant


def _detail_forms(tenant: Tenant, sub):
    plan_form = OperatorChangePlanForm()
    plan_form.plan.choices = plan_choices(services.active_plans(tenant.kind))
    if sub is not None and request.method == "GET":
        plan_form.plan.data = sub.plan.code
    return ExtendTrialForm(), plan_form, MarkPaidForm()


def _render_detail(tenant: Tenant, trial_form=None, plan_form=None, paid_form=None):
    sub = services.get_subscription(tenant.id)
    default_trial, default_plan, default_paid = _detail_forms(tenant, sub)
    invoices = db.session.scalars(
        sa.select(Invoice)
        .where(Invoice.tenant_id == tenant.id)
        .order_by(Invoice.issued_at.desc().nulls_last(), Invoice.id.desc())
    ).all()
    history = db.session.scalars(
        sa.select(PlatformAuditEntry)
        .where(
            PlatformAuditEntry.target_type == "tenant",
            PlatformAuditEntry.target_id == str(tenant.id),
            PlatformAuditEntry.action.like("billing.%"),
        )
        .order_by(PlatformAuditEntry.id.desc())
        .limit(20)
    ).all()
    now = clock.utcnow()
    return render_template(
        "billing/operator/tenant.html",
        collectivite=tenant,
        sub=sub,
        state=services.effective_state(sub, now),
        revenue=services.monthly_revenue_cents(sub),
        plan_below_tier=sub is not None and services.plan_below_tier(sub.plan, tenant),
        invoices=invoices,
        history=history,
        trial_form=trial_form or default_trial,
        plan_form=plan_form or default_plan,
        paid_form=paid_form or default_paid,
        labels=_labels(),
        now=now,
    )


@bp.get("/<int:tenant_id>")
@operator_page
def tenant_detail(tenant_id: int):
    return _render_detail(_tenant_or_404(tenant_id))


def _run(action, success: str, tenant_id: int):
    """Call ``action``; commit and flash ``success``, or roll back and flash why not."""
    try:
        action()
    except BillingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    except stripe.StripeError:
        log.exception("tenant %s: operator billing action failed at Stripe", tenant_id)
        db.session.rollback()
        flash(str(STRIPE_DOWN), "error")
        return False
    db.session.commit()
    flash(success, "success")
    return True


@bp.post("/<int:tenant_id>/essai")
@operator_page
def extend_trial(tenant_id: int):
    tenant = _tenant_or_404(tenant_id)
    form = ExtendTrialForm()
    if not form.validate_on_submit():
        return _render_detail(tenant, trial_form=form), 400
    days = form.days.data
    _run(
        lambda: services.extend_trial(tenant.id, days, actor_id=current_user.id),
        _("Période d'essai de %(name)s prolongée de %(n)d jours.", name=tenant.name, n=days),
        tenant.id,
    )
    return redirect(url_for("billing_operator.tenant_detail", tenant_id=tenant.id))


@bp.post("/<int:tenant_id>/offre")
@operator_page
def change_plan(tenant_id: int):
    tenant = _tenant_or_404(tenant_id)
    form = OperatorChangePlanForm()
    form.plan.choices = plan_choices(services.active_plans(tenant.kind))
    if not form.validate_on_submit():
        return _render_detail(tenant, plan_form=form), 400
    code = form.plan.data
    _run(
        lambda: services.change_plan(tenant.id, code, actor_id=current_user.id),
        _("Offre de %(name)s modifiée.", name=tenant.name),
        tenant.id,
    )
    return redirect(url_for("billing_operator.tenant_detail", tenant_id=tenant.id))


@bp.post("/factures/<int:invoice_id>/payee")
@operator_page
def mark_paid(invoice_id: int):
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        abort(404)
    tenant = _tenant_or_404(invoice.tenant_id)
    form = MarkPaidForm()
    if not form.validate_on_submit():
        return _render_detail(tenant, paid_form=form), 400
    reference = form.reference.data
    _run(
        lambda: services.mark_invoice_paid_out_of_band(
            invoice_id, reference, actor_id=current_user.id
        ),
        _("Facture %(number)s marquée payée.", number=invoice.number or invoice.id),
        tenant.id,
    )
    return redirect(url_for("billing_operator.tenant_detail", tenant_id=tenant.id))


# --------------------------------------------------------------------------- plans


@bp.get("/offres")
@operator_page
def plans():
    all_plans = db.session.scalars(sa.select(Plan).order_by(Plan.position, Plan.id)).all()
    return render_template("billing/operator/plans.html", plans=all_plans, labels=_labels())


@bp.route("/offres/<int:plan_id>", methods=["GET", "POST"])
@operator_page
def edit_plan(plan_id: int):
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    form = PlanForm()
    if request.method == "GET":
        form.name.data = plan.name
        form.price_euros.data = Decimal(plan.price_cents_excl_vat) / 100
        form.stripe_price_id.data = plan.stripe_price_id
        form.open_processes.data = plan.limit("open_processes")
        form.staff_members.data = plan.limit("staff_members")
        form.budget_module.data = plan.limit("budget_module") is not False
        form.custom_domain.data = plan.limit("custom_domain") is not False
        form.active.data = plan.active
    elif form.validate_on_submit():
        limits = {
            "open_processes": form.open_processes.data,
            "staff_members": form.staff_members.data,
            "budget_module": bool(form.budget_module.data),
            "custom_domain": bool(form.custom_domain.data),
        }
        try:
            services.update_plan(
                plan,
                name=form.name.data,
                price_cents_excl_vat=int((form.price_euros.data * 100).to_integral_value()),
                stripe_price_id=form.stripe_price_id.data,
                limits=limits,
                active=form.active.data,
                actor_id=current_user.id,
            )
        except BillingError as exc:
            db.session.rollback()
            form.stripe_price_id.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Offre « %(name)s » enregistrée.", name=plan.name), "success")
            return redirect(url_for("billing_operator.plans"))
    return render_template("billing/operator/plan.html", plan=plan, form=form, labels=_labels())
