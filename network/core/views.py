"""Network pages on the platform domain: list, presentation, members and map, coordination,
and the operator's pages (create networks, name coordinators and evaluators)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import db
from core.errors import abort_with
from core.security.auth import two_factor_required
from network.core import access, services
from network.core.forms import (
    ConfirmForm,
    InviteForm,
    NetworkForm,
    RoleForm,
    SectionsForm,
    TenantSearchForm,
)
from network.core.maps import members_map
from network.core.models import MembershipStatus, NetworkRoleKind
from network.core.services import NetworkError
from tenants.platform.models import PlatformRole, PlatformUser
from tenants.platform.views import roles_required

bp = Blueprint(
    "network",
    __name__,
    static_folder="static",
    static_url_path="/reseaux-static",
)


def _network_or_404(slug: str):
    network = access.get_network(slug)
    if network is None:
        abort_with(404, _("Ce réseau n'existe pas."))
    return network


# --------------------------------------------------------------------------- public pages


@bp.route("/reseaux")
def index():
    networks = services.all_networks()
    counts = services.member_counts()
    return render_template("network/index.html", networks=networks, counts=counts)


@bp.route("/reseaux/<slug>")
def show(slug: str):
    network = access.require_view(access.get_network(slug), "home")
    return render_template(
        "network/show.html",
        network=network,
        member_count=len(access.active_member_ids(network)),
        coordinators=services.role_holders(network, NetworkRoleKind.COORDINATOR),
    )


@bp.route("/reseaux/<slug>/membres")
def members(slug: str):
    network = access.require_view(access.get_network(slug), "members")
    tenants = services.active_members(network)
    return render_template(
        "network/members.html",
        network=network,
        tenants=tenants,
        members_map=members_map(tenants),
    )


# --------------------------------------------------------------------------- coordination


def _managed_network(slug: str):
    network = _network_or_404(slug)
    if not access.can_manage(current_user, network):
        abort_with(403, _("Cette page est réservée à la coordination du réseau."))
    return network


@bp.route("/reseaux/<slug>/coordination")
@two_factor_required
def manage(slug: str):
    network = _managed_network(slug)
    search_form = TenantSearchForm(request.args)
    results = []
    if search_form.q.data and search_form.validate():
        results = services.search_tenants(network, search_form.q.data)
    sections_form = SectionsForm(sections=list(network.public_sections or []))
    return render_template(
        "network/manage.html",
        network=network,
        search_form=search_form,
        results=results,
        sections_form=sections_form,
        invite_form=InviteForm(),
        confirm_form=ConfirmForm(),
        memberships=services.memberships(network),
        MembershipStatus=MembershipStatus,
    )


@bp.route("/reseaux/<slug>/coordination/rubriques", methods=["POST"])
@two_factor_required
def manage_sections(slug: str):
    network = _managed_network(slug)
    form = SectionsForm()
    if form.validate_on_submit():
        services.set_public_sections(network, form.sections.data or [], current_user)
        db.session.commit()
        flash(_("Les rubriques publiques ont été enregistrées."), "success")
    else:
        flash(_("Ces rubriques n'existent pas."), "error")
    return redirect(url_for("network.manage", slug=network.slug))


@bp.route("/reseaux/<slug>/coordination/inviter", methods=["POST"])
@two_factor_required
def invite(slug: str):
    network = _managed_network(slug)
    form = InviteForm()
    if not form.validate_on_submit() or not (form.tenant_id.data or "").isdigit():
        abort_with(400, _("Choisissez une collectivité dans la liste."))
    try:
        membership = services.invite_tenant(network, int(form.tenant_id.data), current_user)
    except NetworkError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        name = membership.tenant.name
        db.session.commit()
        flash(
            _(
                "%(name)s est invitée : son équipe d'administration peut accepter depuis "
                "son espace de gestion.",
                name=name,
            ),
            "success",
        )
    return redirect(url_for("network.manage", slug=network.slug))


@bp.route("/reseaux/<slug>/coordination/invitations/<int:tenant_id>/annuler", methods=["POST"])
@two_factor_required
def cancel_invitation(slug: str, tenant_id: int):
    network = _managed_network(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.cancel_invitation(network, tenant_id, current_user)
    except NetworkError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("L'invitation est annulée."), "success")
    return redirect(url_for("network.manage", slug=network.slug))


# --------------------------------------------------------------------------- operator


def _role_form(network) -> RoleForm:
    form = RoleForm()
    accounts = {
        user.id: user for role in NetworkRoleKind for user in services.eligible_for_role(role)
    }
    form.user_id.choices = [
        (user.id, f"{user.display_name} ({user.email})")
        for user in sorted(accounts.values(), key=lambda u: u.display_name)
    ]
    return form


@bp.route("/operateur/reseaux")
@two_factor_required
@roles_required(PlatformRole.OPERATOR)
def operator_index():
    return render_template(
        "network/operator_index.html",
        networks=services.all_networks(),
        counts=services.member_counts(),
    )


@bp.route("/operateur/reseaux/nouveau", methods=["GET", "POST"])
@two_factor_required
@roles_required(PlatformRole.OPERATOR)
def operator_new():
    form = NetworkForm()
    if form.validate_on_submit():
        fields = services.NetworkFields(
            name=form.name.data,
            description=form.description.data,
            charter=form.charter.data,
            slug=form.slug.data,
        )
        try:
            network = services.create_network(fields, current_user)
        except NetworkError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Le réseau est créé. Nommez maintenant sa coordination."), "success")
            return redirect(url_for("network.operator_edit", slug=network.slug))
    return render_template("network/operator_form.html", form=form, network=None)


@bp.route("/operateur/reseaux/<slug>", methods=["GET", "POST"])
@two_factor_required
@roles_required(PlatformRole.OPERATOR)
def operator_edit(slug: str):
    network = _network_or_404(slug)
    form = NetworkForm(obj=network)
    if form.validate_on_submit():
        fields = services.NetworkFields(
            name=form.name.data, description=form.description.data, charter=form.charter.data
        )
        try:
            changed = services.update_network(network, fields, current_user)
        except NetworkError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            db.session.commit()
            if changed:
                flash(_("Le réseau est enregistré."), "success")
            return redirect(url_for("network.operator_edit", slug=network.slug))
    return render_template(
        "network/operator_form.html",
        form=form,
        network=network,
        role_form=_role_form(network),
        confirm_form=ConfirmForm(),
        coordinators=services.role_holders(network, NetworkRoleKind.COORDINATOR),
        evaluators=services.role_holders(network, NetworkRoleKind.EVALUATOR),
    )


@bp.route("/operateur/reseaux/<slug>/roles", methods=["POST"])
@two_factor_required
@roles_required(PlatformRole.OPERATOR)
def operator_grant(slug: str):
    network = _network_or_404(slug)
    form = _role_form(network)
    if not form.validate_on_submit():
        flash(_("Choisissez un compte et un rôle."), "error")
        return redirect(url_for("network.operator_edit", slug=network.slug))
    user = db.session.get(PlatformUser, form.user_id.data)
    try:
        services.grant_role(network, user, NetworkRoleKind(form.role.data), current_user)
    except NetworkError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Le rôle est attribué."), "success")
    return redirect(url_for("network.operator_edit", slug=network.slug))


@bp.route("/operateur/reseaux/<slug>/roles/<int:user_id>/<role>/retirer", methods=["POST"])
@two_factor_required
@roles_required(PlatformRole.OPERATOR)
def operator_revoke(slug: str, user_id: int, role: str):
    network = _network_or_404(slug)
    if role not in {r.value for r in NetworkRoleKind}:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.revoke_role(network, user_id, NetworkRoleKind(role), current_user)
    except NetworkError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Le rôle est retiré."), "success")
    return redirect(url_for("network.operator_edit", slug=network.slug))
