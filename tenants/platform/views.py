"""Log-in, two-factor authentication and home pages of the platform accounts."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
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
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from core.db import db
from core.i18n import SESSION_KEY as LANGUAGE_KEY
from core.personal_data import build_json_archive
from core.security.auth import (
    end_session,
    mark_two_factor_verified,
    safe_next,
    start_session,
    two_factor_required,
    two_factor_verified,
)
from core.security.limits import (
    LOGIN_ACCOUNT_LIMIT,
    LOGIN_LIMIT,
    TWO_FACTOR_LIMIT,
    account_key,
    client_key,
    failed_login,
    limiter,
)
from tenants import verification_status
from tenants.models import MigrationState, Tenant, TenantKind, TenantStatus
from tenants.platform import services
from tenants.platform.forms import ActionForm, LoginForm, RecoveryCodeForm, TotpCodeForm
from tenants.platform.models import PlatformRole, PlatformUser
from tenants.urls import tenant_url

bp = Blueprint("platform_accounts", __name__)

# Between the password and the code: who is logging in (not logged in yet).
PENDING_LOGIN_KEY = "pnyx_platform_pending"
PENDING_LOGIN_SECONDS = 10 * 60
# Between showing a TOTP secret and its confirmation by a code.
PENDING_ENROLMENT_KEY = "pnyx_totp_pending"

BAD_CREDENTIALS = _l("E-mail ou mot de passe incorrect.")
BAD_CODE = _l("Ce code est incorrect ou a déjà été utilisé.")

ROLE_LABELS = {
    PlatformRole.OPERATOR: _l("Opérateur de la plateforme"),
    PlatformRole.COORDINATOR: _l("Coordination de réseau"),
    PlatformRole.MEMBER: _l("Membre d'un réseau, au nom de sa collectivité"),
}
STATUS_LABELS = {
    TenantStatus.PROVISIONING: _l("En préparation"),
    TenantStatus.PENDING_VERIFICATION: _l("En attente de vérification"),
    TenantStatus.ACTIVE: _l("Actif"),
    TenantStatus.SUSPENDED: _l("Suspendu"),
    TenantStatus.ARCHIVED: _l("Archivé"),
}
KIND_LABELS = {
    TenantKind.COMMUNE: _l("Commune"),
    TenantKind.EPCI: _l("Intercommunalité"),
    TenantKind.DEPARTEMENT: _l("Département"),
    TenantKind.REGION: _l("Région"),
}
MIGRATION_LABELS = {
    MigrationState.OK: _l("À jour"),
    MigrationState.FAILED: _l("En échec"),
}


def load_platform_user(user_id: int) -> PlatformUser | None:
    return services.get_platform_user(user_id)


def _client_details() -> dict:
    return {"ip": request.remote_addr}


def _home_for(user: PlatformUser) -> str:
    if user.role == PlatformRole.OPERATOR:
        return url_for("platform_accounts.operator_home")
    return url_for("platform_accounts.network_home")


def roles_required(*roles: PlatformRole) -> Callable:
    """After ``two_factor_required``: the account must have one of ``roles`` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _no_store(response):
    # Pages with secrets (TOTP secret, recovery codes) must not stay in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- log-in


def _set_pending_login(user: PlatformUser, next_url: str | None) -> None:
    # Nothing from before the password survives, except the visitor's language.
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    session[PENDING_LOGIN_KEY] = {
        "user_id": user.id,
        "email": user.email,
        "version": user.session_version,
        "at": int(time.time()),
        "next": next_url or "",
    }


def _pending_login() -> tuple[PlatformUser | None, str | None]:
    """The account that gave its password and now owes the code, with where to go next."""
    pending = session.get(PENDING_LOGIN_KEY)
    if isinstance(pending, dict):
        if time.time() - pending.get("at", 0) > PENDING_LOGIN_SECONDS:
            session.pop(PENDING_LOGIN_KEY, None)
            return None, None
        user = services.get_platform_user(int(pending.get("user_id", 0)))
        if (
            user is not None
            and user.is_active
            and user.totp_enabled
            and user.session_version == pending.get("version")
        ):
            return user, pending.get("next") or None
        return None, None
    # Logged in before enrolling elsewhere: the code is still owed.
    if current_user.is_authenticated and current_user.totp_enabled and not two_factor_verified():
        return current_user._get_current_object(), request.args.get("next")
    return None, None


def _pending_account_key() -> str:
    pending = session.get(PENDING_LOGIN_KEY)
    if isinstance(pending, dict) and pending.get("email"):
        # Per account whatever the address: guessing codes from many addresses is slow too.
        return f"platform-2fa-account|{pending['email']}"
    return f"platform-2fa-host|{client_key()}"


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(
    LOGIN_ACCOUNT_LIMIT, methods=["POST"], key_func=account_key, deduct_when=failed_login
)
def login():
    if current_user.is_authenticated and two_factor_verified():
        return redirect(safe_next(request.args.get("next"), _home_for(current_user)))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data, **_client_details())
        if user is None:
            db.session.commit()  # the audit line of a failed attempt on a real account
            error = BAD_CREDENTIALS
        elif user.totp_enabled:
            _set_pending_login(user, form.next.data)
            return redirect(url_for("platform_accounts.two_factor"))
        else:
            # Password only: the session can do nothing but enrol (two_factor_required).
            start_session(user, two_factor_verified=False)
            services.record_login(user, None, **_client_details())
            db.session.commit()
            return redirect(
                url_for("platform_accounts.two_factor_enrol", next=form.next.data or None)
            )
    return render_template("platform_accounts/login.html", form=form, error=error)


@bp.route("/connexion/verification", methods=["GET", "POST"])
@limiter.limit(TWO_FACTOR_LIMIT, methods=["POST"])
@limiter.limit(TWO_FACTOR_LIMIT, methods=["POST"], key_func=_pending_account_key)
def two_factor():
    user, next_url = _pending_login()
    if user is None:
        flash(_("Votre connexion a expiré : merci de saisir à nouveau vos identifiants."), "info")
        return redirect(url_for("platform_accounts.login"))
    totp_form = TotpCodeForm()
    recovery_form = RecoveryCodeForm()
    form = recovery_form if "recovery_code" in request.form else totp_form
    error = None
    if request.method == "POST" and form.validate_on_submit():
        code = form.recovery_code.data if form is recovery_form else form.code.data
        method = services.verify_second_factor(user, code, **_client_details())
        if method is None:
            db.session.commit()  # the failed attempt is audited
            error = BAD_CODE
        else:
            start_session(user, two_factor_verified=True)
            services.record_login(user, method, **_client_details())
            remaining = user.recovery_codes_left
            db.session.commit()
            if method == "recovery_code":
                flash(_("Code de secours accepté. Il vous en reste %(n)d.", n=remaining), "info")
            return redirect(safe_next(next_url, _home_for(user)))
    return render_template(
        "platform_accounts/verification.html",
        totp_form=totp_form,
        recovery_form=recovery_form,
        error=error,
        recovery_open=form is recovery_form,
    )


@bp.route("/compte/double-authentification", methods=["GET", "POST"])
@login_required
@limiter.limit(TWO_FACTOR_LIMIT, methods=["POST"])
def two_factor_enrol():
    user: PlatformUser = current_user._get_current_object()
    next_url = request.args.get("next")
    if user.totp_enabled:
        if not two_factor_verified():
            return redirect(url_for("platform_accounts.two_factor", next=next_url))
        flash(_("La double authentification est déjà activée sur votre compte."), "info")
        return redirect(safe_next(next_url, _home_for(user)))
    secret = session.get(PENDING_ENROLMENT_KEY)
    enrolment = services.begin_totp_enrolment(user, secret if isinstance(secret, str) else None)
    session[PENDING_ENROLMENT_KEY] = enrolment.secret
    form = TotpCodeForm()
    if form.validate_on_submit():
        codes = services.confirm_totp_enrolment(
            user, enrolment.secret, form.code.data, **_client_details()
        )
        if codes is None:
            db.session.commit()
            form.code.errors.append(
                _("Ce code ne correspond pas. Vérifiez l'heure de votre téléphone et réessayez.")
            )
        else:
            session.pop(PENDING_ENROLMENT_KEY, None)
            mark_two_factor_verified()
            db.session.commit()
            # Shown in this response only: the codes are not kept anywhere in clear.
            return _no_store(
                make_response(
                    render_template(
                        "platform_accounts/recovery_codes.html",
                        codes=codes,
                        continue_url=safe_next(next_url, _home_for(user)),
                    )
                )
            )
    return _no_store(
        make_response(
            render_template("platform_accounts/enrol.html", form=form, enrolment=enrolment)
        )
    )


@bp.post("/deconnexion")
def logout():
    if current_user.is_authenticated:
        services.record_logout(current_user._get_current_object(), **_client_details())
        db.session.commit()
    end_session()
    flash(_("Vous êtes déconnecté."), "success")
    return redirect(url_for("platform_accounts.login"))


# --------------------------------------------------------------------------- homes


@bp.get("/operateur")
@two_factor_required
@roles_required(PlatformRole.OPERATOR)
def operator_home():
    tenants = db.session.scalars(
        sa.select(Tenant).options(selectinload(Tenant.domains)).order_by(Tenant.name, Tenant.id)
    ).all()
    by_status = dict(
        db.session.execute(sa.select(Tenant.status, sa.func.count()).group_by(Tenant.status)).all()
    )
    counts = [(status, label, by_status.get(status, 0)) for status, label in STATUS_LABELS.items()]
    requests = verification_status.latest_requests_by_tenant()
    rows = [
        {
            "tenant": tenant,
            "request": requests.get(tenant.id),
            "kind": KIND_LABELS.get(tenant.kind, tenant.kind),
            "status": STATUS_LABELS.get(tenant.status, tenant.status),
            "migration": MIGRATION_LABELS.get(tenant.migration_state, tenant.migration_state),
            "url": tenant_url(tenant, "participation.home") if tenant.primary_host else None,
        }
        for tenant in tenants
    ]
    return render_template(
        "platform_accounts/operator_home.html",
        rows=rows,
        counts=counts,
        total=sum(by_status.values()),
        action_form=ActionForm(),
        verification_labels=verification_status.STATE_LABELS,
        method_labels=verification_status.METHOD_LABELS,
        open_requests=len(verification_status.open_requests()),
        open_disputes=len(verification_status.open_disputes()),
    )


@bp.get("/espace/mes-donnees")
@two_factor_required
def download_my_data():
    """RGPD right of access for a platform account: every section the features registered
    (core.personal_data.platform_registry), one JSON file each, in a zip built on the spot
    (a platform account holds little: no job, no stored archive)."""
    from tenants.platform.personal_data import export_platform_user

    archive = build_json_archive(export_platform_user(current_user._get_current_object()))
    response = make_response(archive)
    response.headers["Content-Type"] = "application/zip"
    response.headers["Content-Disposition"] = 'attachment; filename="mes-donnees-pnyx.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/espace")
@two_factor_required
def network_home():
    if current_user.role == PlatformRole.OPERATOR:
        return redirect(url_for("platform_accounts.operator_home"))
    return render_template(
        "platform_accounts/network_home.html",
        role_label=ROLE_LABELS[current_user.role],
    )
