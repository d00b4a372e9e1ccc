"""Commitments of a network (platform domain): the board, a commitment's page, declaring
and updating (the member territory's platform accounts), comments (coordinators and
evaluators), and the evidence file."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from core import uploads
from core.db import db
from core.security.auth import two_factor_required
from core.security.body_limits import upload_view
from network.commitments import services
from network.commitments.forms import STATUS_LABELS, CommentForm, CommitmentForm
from network.commitments.models import CommitmentStatus
from network.commitments.services import CommitmentError
from network.core import access

bp = Blueprint("network_commitments", __name__, url_prefix="/reseaux/<slug>/engagements")


def _network(slug: str):
    return access.require_view(access.get_network(slug), "commitments")


def _commitment(network, commitment_id: int):
    commitment = services.get_commitment(network, commitment_id)
    if commitment is None:
        abort(404)
    return commitment


def commenter_role(network) -> str | None:
    if access.is_coordinator(current_user, network):
        return "coordinator"
    if access.is_evaluator(current_user, network):
        return "evaluator"
    return None


def _forbid(message: str):
    from participation.staff.permissions import forbid

    forbid(message)


@bp.route("")
def board(slug: str):
    network = _network(slug)
    commitments = services.board(network)
    by_tenant: dict = {}
    for commitment in commitments:
        by_tenant.setdefault(commitment.tenant, []).append(commitment)
    return render_template(
        "network/commitments/board.html",
        network=network,
        by_tenant=by_tenant,
        status_labels=STATUS_LABELS,
        own_tenant_id=access.member_tenant_id(current_user, network),
        total=len(commitments),
        done=sum(1 for c in commitments if c.status == CommitmentStatus.DONE),
    )


@bp.route("/<int:commitment_id>")
def show(slug: str, commitment_id: int):
    network = _network(slug)
    commitment = _commitment(network, commitment_id)
    return render_template(
        "network/commitments/show.html",
        network=network,
        commitment=commitment,
        status_labels=STATUS_LABELS,
        can_edit=access.member_tenant_id(current_user, network) == commitment.tenant_id,
        comment_form=CommentForm() if commenter_role(network) else None,
    )


def _values(form: CommitmentForm) -> dict:
    return {name: getattr(form, name).data for name in services.FIELDS}


def _upload(form: CommitmentForm):
    storage = form.evidence_file.data
    return services.read_evidence(storage), getattr(storage, "filename", "") or ""


@bp.route("/nouveau", methods=["GET", "POST"])
@upload_view(services.MAX_EVIDENCE_BYTES)
@two_factor_required
def new(slug: str):
    network = _network(slug)
    tenant_id = access.member_tenant_id(current_user, network)
    if tenant_id is None:
        _forbid(_("Seules les collectivités membres du réseau déclarent des engagements."))
    form = CommitmentForm()
    if form.validate_on_submit():
        try:
            upload, filename = _upload(form)
            commitment = services.create_commitment(
                network, tenant_id, current_user, _values(form), upload, filename
            )
        except CommitmentError as error:
            db.session.rollback()
            getattr(form, error.field or "title").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("L'engagement a été publié."), "success")
            return redirect(url_for(".show", slug=network.slug, commitment_id=commitment.id))
    return render_template(
        "network/commitments/form.html", network=network, form=form, commitment=None
    )


@bp.route("/<int:commitment_id>/modifier", methods=["GET", "POST"])
@upload_view(services.MAX_EVIDENCE_BYTES)
@two_factor_required
def edit(slug: str, commitment_id: int):
    network = _network(slug)
    commitment = _commitment(network, commitment_id)
    if access.member_tenant_id(current_user, network) != commitment.tenant_id:
        _forbid(_("Seule la collectivité qui a pris cet engagement peut le mettre à jour."))
    form = CommitmentForm(obj=commitment if request.method == "GET" else None)
    if request.method == "GET":
        form.status.data = commitment.status.value
    if form.validate_on_submit():
        try:
            upload, filename = _upload(form)
            services.update_commitment(commitment, current_user, _values(form), upload, filename)
        except CommitmentError as error:
            db.session.rollback()
            getattr(form, error.field or "title").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("L'avancement de l'engagement a été enregistré."), "success")
            return redirect(url_for(".show", slug=network.slug, commitment_id=commitment.id))
    return render_template(
        "network/commitments/form.html", network=network, form=form, commitment=commitment
    )


@bp.route("/<int:commitment_id>/commentaires", methods=["POST"])
@two_factor_required
def comment(slug: str, commitment_id: int):
    network = _network(slug)
    commitment = _commitment(network, commitment_id)
    role = commenter_role(network)
    if role is None:
        _forbid(_("Seules la coordination et l'évaluation du réseau commentent les engagements."))
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Le commentaire est vide ou trop long (5 000 caractères au plus)."), "error")
    else:
        services.add_comment(commitment, current_user, role, form.body.data)
        db.session.commit()
        flash(_("Votre commentaire a été publié."), "success")
    return redirect(url_for(".show", slug=network.slug, commitment_id=commitment.id))


@bp.route("/<int:commitment_id>/preuve")
def evidence(slug: str, commitment_id: int):
    network = _network(slug)
    commitment = _commitment(network, commitment_id)
    if not commitment.evidence_file:
        abort(404)
    # An attachment, privately cached (core.uploads).
    return uploads.send_document(
        commitment.evidence_file,
        folder=services.EVIDENCE_FOLDER,
        download_name=commitment.evidence_filename or commitment.evidence_file,
    )
