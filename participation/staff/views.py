"""Staff pages of a collectivité's space, under /gestion.

Thin views: validate the form, call a service, commit once, flash, redirect. Every page
but the invitation link and the second-factor pages is behind ``staff_required``.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from core import audit
from core.db import db
from core.errors import render_error
from core.routing import TENANT_SITE, arg_int
from core.security.auth import (
    mark_two_factor_verified,
    safe_next,
    start_session,
    two_factor_verified,
)
from core.security.body_limits import upload_view
from core.security.limits import LOGIN_LIMIT, TWO_FACTOR_LIMIT, client_key, limiter
from participation.accounts.models import Invitation, Neighbourhood, Service, StaffRole, User
from participation.staff import branding, services
from participation.staff.forms import (
    ROLE_LABELS,
    AcceptWithPasswordForm,
    ConfirmForm,
    CreateAccountForm,
    InviteForm,
    MemberForm,
    NeighbourhoodForm,
    RecoveryCodeForm,
    ServiceForm,
    SettingsForm,
    TotpCodeForm,
)
from participation.staff.home import staff_cards
from participation.staff.permissions import staff_member_required, staff_required
from participation.staff.services import InvitationState, StaffError
from tenants.context import current_tenant

bp = Blueprint("staff", __name__, url_prefix="/gestion", subdomain=TENANT_SITE)

# Set by accounts.login once the password of an enrolled staff member is right.
PENDING_USER_KEY = "pending_2fa_user_id"
PENDING_NEXT_KEY = "pending_2fa_next"

ADMIN = StaffRole.ADMIN
AUDIT_PER_PAGE = 50
#: Upper bound of a settings form with its logo (the logo itself: 1 MB, checked later).

BAD_CODE = _l("Ce code est incorrect ou a déjà été utilisé.")


def _actor() -> User:
    return current_user._get_current_object()


def _no_store(response):
    # Pages with secrets (TOTP secret, recovery codes) must not stay in any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _home_for(user: User) -> str:
    return url_for("staff.home") if user.is_staff else "/"


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound()
    return obj


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    return render_error(413, _("Le fichier envoyé est trop volumineux : 1 Mo au plus."))


# --------------------------------------------------------------------------- home


@bp.get("/")
@staff_required()
def home():
    return render_template(
        "staff/home.html",
        role_label=ROLE_LABELS[current_user.staff_role],
        cards=staff_cards(current_user),
    )


# --------------------------------------------------------------------------- second factor


def _pending_login() -> tuple[User | None, str | None]:
    """Who gave their password and now owes the code, and where to go afterwards."""
    pending_id = session.get(PENDING_USER_KEY)
    if pending_id is not None:
        try:
            user = db.session.get(User, int(pending_id))
        except (TypeError, ValueError):
            user = None
        if user is not None and user.is_active and user.totp_enabled:
            return user, session.get(PENDING_NEXT_KEY)
        return None, None
    # Logged in with the password only (the code is still owed).
    if (
        current_user.is_authenticated
        and getattr(current_user, "totp_enabled", False)
        and not two_factor_verified()
    ):
        return current_user._get_current_object(), request.args.get("next")
    return None, None


def _pending_account_key() -> str:
    pending_id = session.get(PENDING_USER_KEY)
    if pending_id is None and current_user.is_authenticated:
        pending_id = current_user.id
    tenant = current_tenant()
    if pending_id is not None:
        # The slug too: test databases are recreated with the same ids, never the same slugs.
        return f"staff-2fa-account|t{tenant.id}|{tenant.slug}|{pending_id}"
    return f"staff-2fa-host|{client_key()}"


@bp.route("/securite/verification", methods=["GET", "POST"])
@limiter.limit(TWO_FACTOR_LIMIT, methods=["POST"])
@limiter.limit(TWO_FACTOR_LIMIT, methods=["POST"], key_func=_pending_account_key)
def two_factor():
    if current_user.is_authenticated and two_factor_verified() and PENDING_USER_KEY not in session:
        return redirect(safe_next(request.args.get("next"), _home_for(current_user)))
    user, next_url = _pending_login()
    if user is None:
        flash(_("Votre connexion a expiré : merci de saisir à nouveau vos identifiants."), "info")
        return redirect(url_for("accounts.login"))
    totp_form = TotpCodeForm()
    recovery_form = RecoveryCodeForm()
    recovery = "recovery_code" in request.form
    form = recovery_form if recovery else totp_form
    error = None
    if request.method == "POST" and form.validate_on_submit():
        locked = services.lock_user(user.id)
        code = recovery_form.recovery_code.data if recovery else totp_form.code.data
        method = services.verify_second_factor(locked, code, recovery=recovery)
        db.session.commit()  # a failed attempt is audited too
        if method is None:
            error = str(BAD_CODE)
        else:
            start_session(locked, two_factor_verified=True)
            if method == "recovery_code":
                flash(
                    _(
                        "Code de secours accepté. Il vous en reste %(n)d : pensez à en générer "
                        "de nouveaux.",
                        n=len(locked.recovery_codes or []),
                    ),
                    "info",
                )
            return redirect(safe_next(next_url, _home_for(locked)))
    return render_template(
        "staff/two_factor.html",
        totp_form=totp_form,
        recovery_form=recovery_form,
        error=error,
        recovery_open=recovery,
    )


def _issuer() -> str:
    current = branding.current_branding()
    return f"{current['site_name'] if current else current_tenant().name} (Pnyx)"


@bp.route("/securite/double-authentification", methods=["GET", "POST"])
@staff_member_required
@limiter.limit(TWO_FACTOR_LIMIT, methods=["POST"])
def two_factor_enrol():
    user = _actor()
    next_url = request.args.get("next")
    if user.totp_enabled:
        if not two_factor_verified():
            return redirect(url_for("staff.two_factor", next=next_url))
        return _no_store(
            make_response(
                render_template(
                    "staff/security.html",
                    form=TotpCodeForm(),
                    codes_left=len(user.recovery_codes or []),
                )
            )
        )
    enrolment = services.begin_totp_enrolment(user, _issuer())
    db.session.commit()  # the secret stays the same if the page is reloaded
    form = TotpCodeForm()
    if form.validate_on_submit():
        locked = services.lock_user(user.id)
        codes = services.confirm_totp_enrolment(locked, form.code.data)
        db.session.commit()
        if codes is not None:
            mark_two_factor_verified()
            flash(_("La double authentification est activée sur votre compte."), "success")
            return _no_store(
                make_response(
                    render_template(
                        "staff/recovery_codes.html",
                        codes=codes,
                        continue_url=safe_next(next_url, url_for("staff.home")),
                    )
                )
            )
        form.code.errors.append(
            _("Ce code ne correspond pas. Vérifiez l'heure de votre téléphone et réessayez.")
        )
    return _no_store(
        make_response(render_template("staff/enrol.html", form=form, enrolment=enrolment))
    )


@bp.post("/securite/codes-de-secours")
@staff_required()
@limiter.limit(TWO_FACTOR_LIMIT)
def regenerate_recovery_codes():
    form = TotpCodeForm()
    if form.validate_on_submit():
        locked = services.lock_user(current_user.id)
        codes = services.regenerate_recovery_codes(locked, form.code.data)
        db.session.commit()
        if codes is not None:
            return _no_store(
                make_response(
                    render_template(
                        "staff/recovery_codes.html",
                        codes=codes,
                        continue_url=url_for("staff.two_factor_enrol"),
                        regenerated=True,
                    )
                )
            )
    flash(f"{BAD_CODE} " + _("Vos codes de secours n'ont pas changé."), "error")
    return redirect(url_for("staff.two_factor_enrol"))


# --------------------------------------------------------------------------- invitations


def _invitation_problem(state: InvitationState | None):
    code = 404 if state is None else 410
    message = (
        services.invitation_problem(state) if state else _("Ce lien d'invitation n'est pas valide.")
    )
    return render_template("staff/invitation_problem.html", message=message), code


def _after_acceptance(user: User):
    if user.totp_enabled and not two_factor_verified():
        session[PENDING_USER_KEY] = user.id
        session[PENDING_NEXT_KEY] = url_for("staff.home")
        return redirect(url_for("staff.two_factor"))
    if user.totp_enabled:
        return redirect(url_for("staff.home"))
    flash(
        _(
            "Bienvenue dans l'équipe ! Pour protéger l'espace, activez maintenant la double "
            "authentification."
        ),
        "success",
    )
    return redirect(url_for("staff.two_factor_enrol"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def accept_invitation(token: str):
    invitation = services.find_invitation(token, lock=request.method == "POST")
    if invitation is None:
        return _invitation_problem(None)
    state = services.invitation_state(invitation)
    if state != InvitationState.PENDING:
        return _invitation_problem(state)
    context = {
        "invitation": invitation,
        "role_label": ROLE_LABELS[StaffRole(invitation.role)],
        "service_names": [s.name for s in services.services_by_ids(invitation.service_ids or [])],
    }
    existing = services.get_user_by_email(invitation.email)

    if existing is not None and current_user.is_authenticated and current_user.id == existing.id:
        form = ConfirmForm()
        if form.validate_on_submit():
            services.accept_invitation(invitation, existing)
            db.session.commit()
            return _after_acceptance(existing)
        return render_template("staff/accept_invitation.html", mode="confirm", form=form, **context)

    if existing is not None:
        form = AcceptWithPasswordForm()
        if form.validate_on_submit():
            if services.check_password(existing, form.password.data):
                services.accept_invitation(invitation, existing)
                db.session.commit()
                start_session(existing, two_factor_verified=False)
                return _after_acceptance(existing)
            form.password.errors.append(_("Mot de passe incorrect."))
        return render_template("staff/accept_invitation.html", mode="login", form=form, **context)

    form = CreateAccountForm()
    if form.validate_on_submit():
        try:
            user = services.create_invited_account(
                invitation, form.display_name.data, form.password.data
            )
        except StaffError as exc:
            form[exc.field or "password"].errors.append(str(exc))
        else:
            db.session.commit()
            start_session(user, two_factor_verified=False)
            return _after_acceptance(user)
    return render_template("staff/accept_invitation.html", mode="create", form=form, **context)


# --------------------------------------------------------------------------- team


def _service_choices(form) -> None:
    form.services.choices = [(s.id, s.name) for s in services.all_services()]


@bp.get("/equipe")
@staff_required(ADMIN)
def team():
    return render_template(
        "staff/team.html",
        members=services.staff_members(),
        invitations=services.invitations_to_show(),
        invitation_state=services.invitation_state,
        role_labels=ROLE_LABELS,
        confirm_form=ConfirmForm(),
    )


@bp.route("/equipe/inviter", methods=["GET", "POST"])
@staff_required(ADMIN)
def invite():
    form = InviteForm()
    _service_choices(form)
    if request.method == "GET":
        form.role.data = StaffRole.AGENT.value
    if form.validate_on_submit():
        try:
            invitation, token = services.create_invitation(
                form.email.data,
                StaffRole(form.role.data),
                services.services_by_ids(form.services.data or []),
                _actor(),
            )
        except StaffError as exc:
            form[exc.field or "email"].errors.append(str(exc))
        else:
            link = url_for("staff.accept_invitation", token=token, _external=True)
            services.send_invitation(invitation, link, _actor())
            db.session.commit()
            flash(
                _(
                    "Invitation envoyée à %(email)s. Le lien est valable 7 jours.",
                    email=invitation.email,
                ),
                "success",
            )
            return redirect(url_for("staff.team"))
    return render_template("staff/invite.html", form=form, has_services=bool(form.services.choices))


@bp.post("/equipe/invitations/<int:invitation_id>/revoquer")
@staff_required(ADMIN)
def revoke_invitation(invitation_id: int):
    invitation = _get_or_404(Invitation, invitation_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.revoke_invitation(invitation, _actor())
        except StaffError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("L'invitation de %(email)s est annulée.", email=invitation.email), "success")
    return redirect(url_for("staff.team"))


@bp.route("/equipe/<int:user_id>", methods=["GET", "POST"])
@staff_required(ADMIN)
def edit_member(user_id: int):
    member = services.get_staff_member(user_id)
    if member is None:
        raise NotFound()
    form = MemberForm()
    _service_choices(form)
    if request.method == "GET":
        form.role.data = member.staff_role.value
        form.services.data = [s.id for s in member.services]
    if form.validate_on_submit():
        try:
            changed = services.update_member(
                member,
                StaffRole(form.role.data),
                services.services_by_ids(form.services.data or []),
                _actor(),
            )
        except StaffError as exc:
            form[exc.field or "role"].errors.append(str(exc))
        else:
            db.session.commit()
            if changed:
                flash(_("Le rôle de %(name)s est enregistré.", name=member.display_name), "success")
            return redirect(url_for("staff.team"))
    return render_template(
        "staff/member.html", form=form, member=member, confirm_form=ConfirmForm()
    )


@bp.post("/equipe/<int:user_id>/retirer")
@staff_required(ADMIN)
def remove_member(user_id: int):
    member = services.get_staff_member(user_id)
    if member is None:
        raise NotFound()
    if ConfirmForm().validate_on_submit():
        try:
            services.remove_member(member, _actor())
        except StaffError as exc:
            flash(str(exc), "error")
            return redirect(url_for("staff.edit_member", user_id=user_id))
        db.session.commit()
        flash(
            _(
                "%(name)s ne fait plus partie de l'équipe ; ses sessions sont fermées.",
                name=member.display_name,
            ),
            "success",
        )
    return redirect(url_for("staff.team"))


# --------------------------------------------------------------------------- services


@bp.route("/services", methods=["GET", "POST"])
@staff_required(ADMIN)
def services_list():
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            service = services.create_service(form.name.data, form.email.data, _actor())
        except StaffError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Le service « %(name)s » est créé.", name=service.name), "success")
            return redirect(url_for("staff.services_list"))
    return render_template("staff/services.html", form=form, services=services.all_services())


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@staff_required(ADMIN)
def edit_service(service_id: int):
    service = _get_or_404(Service, service_id)
    form = ServiceForm(obj=service)
    if form.validate_on_submit():
        try:
            services.update_service(service, form.name.data, form.email.data, _actor())
        except StaffError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Le service « %(name)s » est enregistré.", name=service.name), "success")
            return redirect(url_for("staff.services_list"))
    return render_template(
        "staff/service.html", form=form, service=service, confirm_form=ConfirmForm()
    )


@bp.post("/services/<int:service_id>/supprimer")
@staff_required(ADMIN)
def delete_service(service_id: int):
    service = _get_or_404(Service, service_id)
    if ConfirmForm().validate_on_submit():
        name = service.name
        try:
            services.delete_service(service, _actor())
        except StaffError as exc:
            flash(str(exc), "error")
            return redirect(url_for("staff.edit_service", service_id=service_id))
        db.session.commit()
        flash(_("Le service « %(name)s » est supprimé.", name=name), "success")
    return redirect(url_for("staff.services_list"))


# --------------------------------------------------------------------------- neighbourhoods


@bp.route("/quartiers", methods=["GET", "POST"])
@staff_required(ADMIN)
def neighbourhoods():
    form = NeighbourhoodForm()
    if form.validate_on_submit():
        try:
            neighbourhood = services.create_neighbourhood(
                form.name.data, form.position.data, _actor()
            )
        except StaffError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Le quartier « %(name)s » est ajouté.", name=neighbourhood.name), "success")
            return redirect(url_for("staff.neighbourhoods"))
    return render_template(
        "staff/neighbourhoods.html", form=form, neighbourhoods=services.all_neighbourhoods()
    )


@bp.route("/quartiers/<int:neighbourhood_id>", methods=["GET", "POST"])
@staff_required(ADMIN)
def edit_neighbourhood(neighbourhood_id: int):
    neighbourhood = _get_or_404(Neighbourhood, neighbourhood_id)
    form = NeighbourhoodForm(obj=neighbourhood)
    if form.validate_on_submit():
        try:
            services.update_neighbourhood(
                neighbourhood, form.name.data, form.position.data, _actor()
            )
        except StaffError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Le quartier « %(name)s » est enregistré.", name=neighbourhood.name), "success")
            return redirect(url_for("staff.neighbourhoods"))
    return render_template(
        "staff/neighbourhood.html",
        form=form,
        neighbourhood=neighbourhood,
        confirm_form=ConfirmForm(),
    )


@bp.post("/quartiers/<int:neighbourhood_id>/supprimer")
@staff_required(ADMIN)
def delete_neighbourhood(neighbourhood_id: int):
    neighbourhood = _get_or_404(Neighbourhood, neighbourhood_id)
    if ConfirmForm().validate_on_submit():
        name = neighbourhood.name
        services.delete_neighbourhood(neighbourhood, _actor())
        db.session.commit()
        flash(_("Le quartier « %(name)s » est supprimé.", name=name), "success")
    return redirect(url_for("staff.neighbourhoods"))


# --------------------------------------------------------------------------- audit log


@bp.get("/journal")
@staff_required(ADMIN)
def audit_log():
    page = arg_int("page", 1)
    page = max(page, 1)
    entries, total = services.audit_page(page, AUDIT_PER_PAGE)
    pages = max(1, -(-total // AUDIT_PER_PAGE))
    if page > pages:
        raise NotFound()
    return render_template(
        "staff/audit_log.html",
        entries=entries,
        page=page,
        pages=pages,
        total=total,
        action_label=audit.action_label,
        target_label=audit.target_label,
    )


# --------------------------------------------------------------------------- settings

SETTINGS_KEYS = (
    branding.SITE_NAME,
    branding.PRIMARY_COLOUR,
    branding.LOGO_URL,
    branding.LOGO_FILE,
    branding.DPO_CONTACT,
)


@bp.route("/parametres", methods=["GET", "POST"])
@upload_view(branding.MAX_LOGO_BYTES)
@staff_required(ADMIN)
def settings():
    current = services.read_settings(SETTINGS_KEYS)
    form = SettingsForm()
    if request.method == "GET":
        form.site_name.data = current[branding.SITE_NAME] or current_tenant().name
        form.primary_colour.data = current[branding.PRIMARY_COLOUR] or ""
        form.logo_url.data = current[branding.LOGO_URL] or ""
        form.dpo_contact.data = current[branding.DPO_CONTACT] or ""
    if form.validate_on_submit():
        changes, upload = _settings_changes(form, current)
        if changes is not None:
            if upload is not None:
                changes[branding.LOGO_FILE] = branding.store_logo(current_tenant().id, *upload)
                changes[branding.LOGO_URL] = None
            changed = services.update_settings(changes, _actor())
            db.session.commit()
            if branding.LOGO_FILE in changed:
                branding.delete_logo(current_tenant().id, changed[branding.LOGO_FILE][0])
            branding.forget_branding()
            if changed:
                flash(_("Les paramètres sont enregistrés."), "success")
            else:
                flash(_("Aucun changement à enregistrer."), "info")
            return redirect(url_for("staff.settings"))
    return render_template(
        "staff/settings.html",
        form=form,
        logo_src=(branding.current_branding() or {}).get("logo_src"),
        max_logo_mb=branding.MAX_LOGO_BYTES // (1024 * 1024),
    )


def _settings_changes(form: SettingsForm, current: dict) -> tuple[dict | None, tuple | None]:
    """The settings to save and the logo to store, or (None, None) with form errors."""
    changes: dict = {
        branding.SITE_NAME: " ".join(form.site_name.data.split()),
        branding.DPO_CONTACT: (form.dpo_contact.data or "").strip() or None,
    }
    ok = True
    try:
        changes[branding.PRIMARY_COLOUR] = branding.check_primary_colour(form.primary_colour.data)
    except branding.BrandingError as exc:
        form.primary_colour.errors.append(str(exc))
        ok = False
    try:
        logo_url = branding.check_logo_url(form.logo_url.data)
    except branding.BrandingError as exc:
        form.logo_url.errors.append(str(exc))
        ok = False
        logo_url = None
    upload = None
    file = form.logo_file.data
    if file is not None and getattr(file, "filename", ""):
        try:
            upload = branding.read_logo(file.stream, file.filename)
        except branding.BrandingError as exc:
            form.logo_file.errors.append(str(exc))
            ok = False
    if not ok:
        return None, None
    if form.remove_logo.data:
        changes[branding.LOGO_URL] = None
        changes[branding.LOGO_FILE] = None
        upload = None
    elif upload is None:
        changes[branding.LOGO_URL] = logo_url
        if logo_url:
            changes[branding.LOGO_FILE] = None
    return changes, upload
