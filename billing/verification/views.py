"""Operator console: verification queue, official e-mail domains, disputes, suspension.

Platform domain only, operators only (TOTP verified), CSRF on every form; each action is
one service call and one commit, written to the platform audit log by the service.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from billing.verification import disputes, spaces
from billing.verification import domains as email_domains
from billing.verification import requests as sign_up_requests
from billing.verification.common import VerificationError
from billing.verification.forms import DisputeDecisionForm, DomainForm, MoreInfoForm, ReasonForm
from core.db import db
from core.security.auth import two_factor_required
from tenants import invalidate_host_cache, official, verification_status
from tenants.models import Tenant
from tenants.platform.forms import ActionForm
from tenants.platform.models import PlatformRole
from tenants.platform.views import roles_required
from tenants.verification import (
    PROOF_FOLDER,
    OfficialEmailDomain,
    TenantDispute,
    VerificationProof,
    VerificationRequest,
)

bp = Blueprint("verification_operator", __name__, url_prefix="/operateur")


def operator_page(view):
    return two_factor_required(roles_required(PlatformRole.OPERATOR)(view))


@bp.after_request
def _no_store(response):
    # Names, phones and proofs of requesters: never in a shared cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _labels() -> dict:
    return {
        "state": verification_status.STATE_LABELS,
        "method": verification_status.METHOD_LABELS,
        "proof": verification_status.PROOF_LABELS,
        "dispute": verification_status.DISPUTE_LABELS,
    }


def _get_or_404(model, ident: int):
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


# --------------------------------------------------------------------------- queue


@bp.get("/verifications")
@operator_page
def queue():
    return render_template(
        "platform_accounts/verification_queue.html",
        pending=verification_status.open_requests(),
        decided=verification_status.recent_decisions(),
        disputes=verification_status.open_disputes(),
        labels=_labels(),
        official_domain=lambda r: email_domains.is_official_address(
            r.kind, r.code, r.requester_email
        ),
    )


def _render_request(row: VerificationRequest, reason_form=None, info_form=None, status=200):
    tenant = db.session.get(Tenant, row.tenant_id) if row.tenant_id else None
    return render_template(
        "platform_accounts/verification_request.html",
        row=row,
        space=tenant,
        domains=email_domains.official_domains(row.kind, row.code),
        official=email_domains.is_official_address(row.kind, row.code, row.requester_email),
        action_form=ActionForm(),
        reason_form=reason_form or ReasonForm(formdata=None),
        info_form=info_form or MoreInfoForm(formdata=None),
        labels=_labels(),
    ), status


@bp.get("/verifications/<int:request_id>")
@operator_page
def request_detail(request_id: int):
    return _render_request(_get_or_404(VerificationRequest, request_id))


def _done(message: str, endpoint: str = "verification_operator.queue", **values):
    db.session.commit()
    invalidate_host_cache()
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def _refused(error: Exception, endpoint: str, **values):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for(endpoint, **values), 303)


@bp.post("/verifications/<int:request_id>/approuver")
@operator_page
def approve(request_id: int):
    row = _get_or_404(VerificationRequest, request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        sign_up_requests.approve(row, actor_id=current_user.id)
    except VerificationError as error:
        return _refused(error, "verification_operator.request_detail", request_id=request_id)
    return _done(
        _(
            "Demande de %(name)s approuvée : l'espace est ouvert au public.",
            name=row.collectivite_name,
        )
    )


@bp.post("/verifications/<int:request_id>/refuser")
@operator_page
def reject(request_id: int):
    row = _get_or_404(VerificationRequest, request_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render_request(row, reason_form=form, status=400)
    try:
        sign_up_requests.reject(row, form.reason.data, actor_id=current_user.id)
    except VerificationError as error:
        return _refused(error, "verification_operator.request_detail", request_id=request_id)
    return _done(
        _(
            "Demande de %(name)s refusée : le motif a été envoyé et l'espace supprimé "
            "(export conservé).",
            name=row.collectivite_name,
        )
    )


@bp.post("/verifications/<int:request_id>/complement")
@operator_page
def ask_more(request_id: int):
    row = _get_or_404(VerificationRequest, request_id)
    form = MoreInfoForm()
    if not form.validate_on_submit():
        return _render_request(row, info_form=form, status=400)
    try:
        sign_up_requests.ask_for_more(row, form.message.data, actor_id=current_user.id)
    except VerificationError as error:
        return _refused(error, "verification_operator.request_detail", request_id=request_id)
    return _done(
        _("Complément demandé pour %(name)s.", name=row.collectivite_name),
        "verification_operator.request_detail",
        request_id=request_id,
    )


@bp.get("/justificatifs/<int:proof_id>")
@operator_page
def proof_file(proof_id: int):
    from core.uploads import send_document

    proof = _get_or_404(VerificationProof, proof_id)
    extension = proof.stored_name.rsplit(".", 1)[-1]
    return send_document(
        proof.stored_name,
        folder=PROOF_FOLDER,
        download_name=f"justificatif-{proof.id}-{proof.kind.value}.{extension}",
    )


# --------------------------------------------------------------------------- domains


@bp.route("/domaines-officiels", methods=["GET", "POST"])
@operator_page
def domains():
    form = DomainForm()
    status = 200
    if form.validate_on_submit():
        raw = form.collectivite.data.strip()
        kind, _sep, code = raw.rpartition(":") if ":" in raw else (None, "", raw)
        try:
            collectivite = official.lookup(code, kind=kind or None)
            email_domains.add_official_domain(
                collectivite.kind, collectivite.code, form.domain.data, actor_id=current_user.id
            )
        except (VerificationError, official.UnknownCollectivite, ValueError) as error:
            db.session.rollback()
            form.domain.errors = [str(error)]
            status = 400
        else:
            return _done(
                _(
                    "Domaine ajouté pour %(name)s.",
                    name=collectivite.name,
                ),
                "verification_operator.domains",
            )
    elif request.method == "POST":
        status = 400
    rows = email_domains.all_official_domains()
    names = {}
    for row in rows:
        try:
            names[(row.kind, row.code)] = official.lookup(row.code, kind=row.kind).name
        except official.UnknownCollectivite:
            names[(row.kind, row.code)] = row.code
    return render_template(
        "platform_accounts/official_domains.html",
        rows=rows,
        names=names,
        form=form,
        action_form=ActionForm(),
    ), status


@bp.post("/domaines-officiels/<int:domain_id>/supprimer")
@operator_page
def remove_domain(domain_id: int):
    row = _get_or_404(OfficialEmailDomain, domain_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    email_domains.remove_official_domain(row, actor_id=current_user.id)
    return _done(_("Domaine retiré."), "verification_operator.domains")


# --------------------------------------------------------------------------- disputes


@bp.get("/contestations/<int:dispute_id>")
@operator_page
def dispute_detail(dispute_id: int):
    row = _get_or_404(TenantDispute, dispute_id)
    tenant = db.session.get(Tenant, row.tenant_id) if row.tenant_id else None
    signup_request = verification_status.request_for_tenant(tenant.id) if tenant else None
    return render_template(
        "platform_accounts/dispute.html",
        row=row,
        space=tenant,
        signup_request=signup_request,
        form=DisputeDecisionForm(formdata=None),
        labels=_labels(),
    )


def _decide_dispute(dispute_id: int, action, message: str):
    row = _get_or_404(TenantDispute, dispute_id)
    form = DisputeDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(row, form.note.data, actor_id=current_user.id)
    except VerificationError as error:
        return _refused(error, "verification_operator.dispute_detail", dispute_id=dispute_id)
    return _done(message % {"name": row.collectivite_name})


@bp.post("/contestations/<int:dispute_id>/confier")
@operator_page
def transfer(dispute_id: int):
    return _decide_dispute(
        dispute_id,
        disputes.transfer_space,
        _(
            "Espace de %(name)s confié : la personne qui conteste est invitée comme "
            "administratrice, les administrateurs précédents sont retirés."
        ),
    )


@bp.post("/contestations/<int:dispute_id>/reinitialiser")
@operator_page
def reset(dispute_id: int):
    return _decide_dispute(
        dispute_id,
        disputes.reset_space,
        _("Espace de %(name)s archivé et supprimé : la collectivité peut s'inscrire."),
    )


@bp.post("/contestations/<int:dispute_id>/classer")
@operator_page
def dismiss(dispute_id: int):
    return _decide_dispute(
        dispute_id, disputes.dismiss_dispute, _("Contestation de %(name)s classée.")
    )


# --------------------------------------------------------------------------- suspension


@bp.post("/espaces/<int:tenant_id>/suspendre")
@operator_page
def suspend(tenant_id: int):
    tenant = _get_or_404(Tenant, tenant_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        spaces.suspend_now(tenant, actor_id=current_user.id)
    except VerificationError as error:
        return _refused(error, "platform_accounts.operator_home")
    return _done(
        _("%(name)s est suspendu : plus aucune modification n'est possible.", name=tenant.name),
        "platform_accounts.operator_home",
    )


@bp.post("/espaces/<int:tenant_id>/retablir")
@operator_page
def reinstate(tenant_id: int):
    tenant = _get_or_404(Tenant, tenant_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        spaces.lift_suspension(tenant, actor_id=current_user.id)
    except VerificationError as error:
        return _refused(error, "platform_accounts.operator_home")
    return _done(
        _("Suspension de %(name)s levée.", name=tenant.name), "platform_accounts.operator_home"
    )
