"""The tenant's side of networks, on the tenant host: invitations to answer, memberships to
leave (``/gestion/reseaux``). Writes the public membership rows and the tenant's audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import db
from core.errors import abort_with
from network.core import services
from network.core.forms import ConfirmForm
from network.core.models import MembershipStatus
from network.core.services import NetworkError
from participation.accounts.models import StaffRole
from participation.staff.permissions import role_allows, staff_required
from participation.staff.services import audit
from tenants.context import current_tenant
from tenants.urls import platform_url

staff_bp = Blueprint("staff_network", __name__, url_prefix="/gestion/reseaux")

ANSWERS = {
    "accepter": ("accept", "network.invitation_accepted"),
    "refuser": ("decline", "network.invitation_declined"),
    "quitter": ("leave", "network.left"),
}


@staff_bp.route("")
@staff_required()
def index():
    tenant = current_tenant()
    rows = services.tenant_memberships(tenant.id)
    return render_template(
        "staff/network/index.html",
        invited=[m for m in rows if m.status == MembershipStatus.INVITED],
        active=[m for m in rows if m.status == MembershipStatus.ACTIVE],
        past=[m for m in rows if m.status in (MembershipStatus.DECLINED, MembershipStatus.LEFT)],
        can_answer=role_allows(current_user, (StaffRole.ADMIN,)),
        form=ConfirmForm(),
        network_url=lambda network: platform_url("network.show", slug=network.slug),
    )


@staff_bp.route("/<int:membership_id>/<answer>", methods=["POST"])
@staff_required(StaffRole.ADMIN)
def respond(membership_id: int, answer: str):
    if answer not in ANSWERS:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tenant = current_tenant()
    membership = services.tenant_membership(tenant.id, membership_id, lock=True)
    if membership is None:
        abort_with(404, _("Cette invitation n'existe pas."))
    verb, action = ANSWERS[answer]
    network_name = membership.network.name
    try:
        services.respond(membership, verb)
    except NetworkError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("staff_network.index"))
    audit(
        action,
        current_user,
        "network",
        membership.network_id,
        network=network_name,
        membership_id=membership.id,
    )
    db.session.commit()
    messages = {
        "accept": _("Votre collectivité a rejoint le réseau « %(name)s ».", name=network_name),
        "decline": _("Vous avez décliné l'invitation de « %(name)s ».", name=network_name),
        "leave": _("Votre collectivité a quitté le réseau « %(name)s ».", name=network_name),
    }
    flash(messages[verb], "success")
    return redirect(url_for("staff_network.index"))
