"""Citizen account pages of a tenant site: sign-up, log-in, password reset, profile,
notification preferences, RGPD rights, terms and charter, privacy page."""

from __future__ import annotations

import re
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core.db import db
from core.jobs import enqueue_after_commit
from core.mail import send_mail
from core.security.auth import end_session, start_session
from core.security.limits import (
    EMAIL_RESEND_LIMIT,
    LOGIN_ACCOUNT_LIMIT,
    LOGIN_LIMIT,
    RESET_ACCOUNT_LIMIT,
    RESET_LIMIT,
    SIGNUP_LIMIT,
    account_key,
    failed_login,
    limiter,
)
from core.security.passwords import verify_password
from core.security.redirects import safe_next_path
from participation.accounts import services, tasks
from participation.accounts.forms import (
    AGE_BRACKET_LABELS,
    FREQUENCY_LABELS,
    AcceptLegalForm,
    DeleteAccountForm,
    ExportForm,
    ForgotPasswordForm,
    LoginForm,
    NotificationsForm,
    ProfileForm,
    ResendConfirmationForm,
    ResetPasswordForm,
    SignupForm,
)
from participation.accounts.legal import render_markdown
from participation.accounts.models import LegalDocumentKind, User
from tenants.context import current_tenant, tenant_job_id
from tenants.models import TenantSetting

bp = Blueprint("accounts", __name__)

#: Hand-over to the staff two-factor challenge (participation/staff), before start_session.
PENDING_2FA_USER_KEY = "pending_2fa_user_id"
PENDING_2FA_NEXT_KEY = "pending_2fa_next"

BAD_CREDENTIALS = _l("Adresse e-mail ou mot de passe incorrect.")
LINK_INVALID = _l("Ce lien n'est pas valide : il a expiré, a déjà été utilisé ou a été mal copié.")

# Pages a logged-in user can reach before accepting a new version of the terms: the
# acceptance page itself, the texts, log-out, and the RGPD rights (never conditional).
LEGAL_EXEMPT_ENDPOINTS = frozenset(
    {
        "engagement.unsubscribe",
        "engagement.stylesheet",
        "accounts.accept_legal",
        "accounts.logout",
        "accounts.terms",
        "accounts.charter",
        "accounts.privacy",
        "accounts.data",
        "accounts.download_export",
        "accounts.delete_account",
        "static",
        "tenant_static",
    }
)
LEGAL_EXEMPT_BLUEPRINTS = frozenset({"tenant_i18n", "tenant_health", "tenant_api", "branding"})


def _home() -> str:
    return url_for("participation.home")


def _next(target: str | None, default: str | None = None) -> str:
    return safe_next_path(target, default or _home())


def _no_store(response):
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- legal gate


@bp.before_app_request
def _require_current_legal_acceptance():
    if current_tenant() is None or request.endpoint is None:
        return None
    if request.endpoint in LEGAL_EXEMPT_ENDPOINTS or request.endpoint.endswith("theme_css"):
        return None
    if request.blueprint in LEGAL_EXEMPT_BLUEPRINTS:
        return None
    if not current_user.is_authenticated:
        return None
    if not services.pending_legal_documents(current_user):
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("accounts.accept_legal", next=target), code=303)


# --------------------------------------------------------------------------- sign-up


def _legal_links() -> dict:
    return {
        "terms_url": url_for("accounts.terms"),
        "charter_url": url_for("accounts.charter"),
    }


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit(SIGNUP_LIMIT, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(_home())
    form = SignupForm()
    if form.validate_on_submit():
        try:
            services.register_user(
                form.display_name.data,
                form.email.data,
                form.password.data,
                accepted_terms=form.accept_terms.data,
                accepted_charter=form.accept_charter.data,
            )
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            # The same page whether the address was new or not (no account enumeration).
            session["signup_email"] = services.normalise_email(form.email.data)
            return redirect(url_for("accounts.signup_sent"))
    return render_template("accounts/signup.html", form=form, **_legal_links())


@bp.route("/inscription/confirmation", methods=["GET", "POST"])
@limiter.limit(EMAIL_RESEND_LIMIT, methods=["POST"])
def signup_sent():
    form = ResendConfirmationForm()
    if request.method == "GET" and not form.email.data:
        form.email.data = request.args.get("email") or session.get("signup_email") or ""
    if form.validate_on_submit():
        services.resend_confirmation(form.email.data)
        db.session.commit()
        flash(
            _(
                "Si un compte en attente de confirmation correspond à cette adresse, un "
                "nouveau lien vient d'y être envoyé."
            ),
            "success",
        )
        return redirect(url_for("accounts.signup_sent"))
    return render_template("accounts/signup_sent.html", form=form)


@bp.get("/confirmer/<token>")
def confirm_email(token: str):
    user = services.confirm_email(token)
    if user is None:
        db.session.rollback()
        return render_template(
            "accounts/link_invalid.html",
            message=LINK_INVALID,
            retry_url=url_for("accounts.signup_sent"),
            retry_label=_("Recevoir un nouveau lien de confirmation"),
        ), 400
    db.session.commit()
    flash(_("Votre adresse e-mail est confirmée. Vous pouvez vous connecter."), "success")
    return redirect(url_for("accounts.login"))


# --------------------------------------------------------------------------- log-in


def _hand_over_to_two_factor(user: User, next_url: str | None) -> None:
    end_session()  # nothing from before the password survives (keeps the language)
    session[PENDING_2FA_USER_KEY] = user.id
    session[PENDING_2FA_NEXT_KEY] = next_url or ""


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(
    LOGIN_ACCOUNT_LIMIT, methods=["POST"], key_func=account_key, deduct_when=failed_login
)
def login():
    if current_user.is_authenticated:
        return redirect(_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    unconfirmed_email = None
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data)
        next_url = _next(form.next.data)
        if result.ok:
            user = result.user
            if user.is_staff and user.totp_enabled:
                # The staff challenge (participation/staff) calls start_session itself.
                db.session.commit()
                if "staff.two_factor" not in current_app.view_functions:
                    abort(503)  # never log a staff member in without their second factor
                _hand_over_to_two_factor(user, next_url)
                return redirect(url_for("staff.two_factor"))
            services.record_login(user)
            db.session.commit()
            # Staff without TOTP yet: the staff pages make them enrol before anything else.
            start_session(user, two_factor_verified=False)
            return redirect(next_url)
        db.session.rollback()
        if result.status == services.LoginStatus.UNCONFIRMED:
            error = _(
                "Votre adresse e-mail n'est pas encore confirmée. Cliquez sur le lien reçu "
                "par e-mail, ou demandez-en un nouveau."
            )
            unconfirmed_email = services.normalise_email(form.email.data)
        elif result.status == services.LoginStatus.INACTIVE:
            error = _("Ce compte a été désactivé. Contactez la collectivité pour en savoir plus.")
        else:
            error = str(BAD_CREDENTIALS)
    resend_form = ResendConfirmationForm(formdata=None, email=unconfirmed_email)
    return render_template(
        "accounts/login.html",
        form=form,
        error=error,
        unconfirmed_email=unconfirmed_email,
        resend_form=resend_form,
    )


@bp.post("/deconnexion")
def logout():
    end_session()
    flash(_("Vous êtes déconnecté·e. À bientôt !"), "success")
    return redirect(_home())


# --------------------------------------------------------------------------- password reset


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"])
@limiter.limit(RESET_ACCOUNT_LIMIT, methods=["POST"], key_func=account_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            _(
                "Si un compte correspond à cette adresse, un e-mail vient d'y être envoyé "
                "avec un lien pour choisir un nouveau mot de passe. Ce lien est valable "
                "une heure."
            ),
            "success",
        )
        return redirect(url_for("accounts.forgot_password"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reinitialiser/<token>", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"])
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        return _no_store(
            (
                render_template(
                    "accounts/link_invalid.html",
                    message=LINK_INVALID,
                    retry_url=url_for("accounts.forgot_password"),
                    retry_label=_("Recevoir un nouveau lien"),
                ),
                400,
            )
        )
    form = ResetPasswordForm()
    form.policy_inputs = [user.email, user.display_name]
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            end_session()  # whoever was logged in here, all sessions of the account end
            flash(
                _(
                    "Votre mot de passe a été modifié et vos autres sessions ont été "
                    "fermées. Vous pouvez vous connecter."
                ),
                "success",
            )
            return redirect(url_for("accounts.login"))
    # The token is in the URL: keep it out of caches and out of Referer headers.
    response = _no_store(render_template("accounts/reset_password.html", form=form))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --------------------------------------------------------------------------- profile


@bp.route("/compte", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    neighbourhoods = services.neighbourhoods()
    form = ProfileForm(
        data={
            "display_name": user.display_name,
            "demographics_consent": user.demographics_consent_at is not None,
            "age_bracket": user.age_bracket.value if user.age_bracket else "",
            "neighbourhood_id": user.neighbourhood_id,
        }
    )
    form.set_neighbourhoods(neighbourhoods)
    if form.validate_on_submit():
        services.update_profile(
            user,
            display_name=form.display_name.data,
            demographics_consent=form.demographics_consent.data,
            age_bracket=form.age_bracket.data or None,
            neighbourhood_id=form.neighbourhood_id.data,
        )
        db.session.commit()
        flash(_("Votre profil a été enregistré."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/profile.html",
        form=form,
        user=user,
        has_neighbourhoods=bool(neighbourhoods),
        age_labels=AGE_BRACKET_LABELS,
    )


@bp.route("/compte/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    user = current_user._get_current_object()
    form = NotificationsForm(
        data={
            "frequency": user.notification_frequency.value,
            "notify_answers": user.notify_answers,
            "notify_comments": user.notify_comments,
            "notify_processes": user.notify_processes,
        }
    )
    if form.validate_on_submit():
        services.update_notification_preferences(
            user,
            frequency=form.frequency.data,
            notify_answers=form.notify_answers.data,
            notify_comments=form.notify_comments.data,
            notify_processes=form.notify_processes.data,
        )
        db.session.commit()
        flash(_("Vos préférences de notification ont été enregistrées."), "success")
        return redirect(url_for("accounts.notifications"))
    return render_template("accounts/notifications.html", form=form, labels=FREQUENCY_LABELS)


# --------------------------------------------------------------------------- RGPD


@bp.route("/compte/donnees", methods=["GET", "POST"])
@login_required
@limiter.limit(EMAIL_RESEND_LIMIT, methods=["POST"])
def data():
    form = ExportForm()
    if form.validate_on_submit():
        tenant = current_tenant()
        enqueue_after_commit(
            tasks.export_user_data,
            tenant.id,
            current_user.id,
            queue="low",
            job_id=tenant_job_id(
                tenant.id, "account-export", f"{current_user.id}-{time.time_ns()}"
            ),
        )
        db.session.commit()
        flash(
            _(
                "Votre demande est enregistrée. Vous recevrez un e-mail avec un lien de "
                "téléchargement dès que l'archive sera prête (en général en quelques minutes)."
            ),
            "success",
        )
        return redirect(url_for("accounts.data"))
    return render_template("accounts/data.html", form=form)


@bp.get("/compte/donnees/<token>")
@login_required
def download_export(token: str):
    found = services.read_export_token(token)
    path = None
    if found is not None and found[0] == current_user.id:
        path = tasks.export_path(current_tenant().id, current_user.id, found[1])
    if path is None:
        # Someone else's link, a forged one or an expired archive: nothing to tell apart.
        return render_template(
            "accounts/link_invalid.html",
            message=_(
                "Ce lien de téléchargement n'est pas valable pour votre compte ou a expiré "
                "(les archives sont conservées 7 jours)."
            ),
            retry_url=url_for("accounts.data"),
            retry_label=_("Demander une nouvelle archive"),
        ), 404
    response = send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"mes-donnees-{current_tenant().slug}.zip",
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/compte/supprimer", methods=["GET", "POST"])
@login_required
def delete_account():
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.password.data):
            form.password.errors.append(_("Ce mot de passe est incorrect."))
        else:
            email, tenant = user.email, current_tenant()
            try:
                services.delete_account(user)
            except services.AccountError as error:
                db.session.rollback()
                flash(str(error), "error")
                return redirect(url_for("accounts.delete_account"))
            if email:
                send_mail(email, "account_deleted", tenant=tenant)
            db.session.commit()
            tasks.delete_user_exports(tenant.id, user.id)
            end_session()
            flash(
                _(
                    "Votre compte a été supprimé. Vos contributions publiques restent "
                    "visibles sous le nom « %(name)s ».",
                    name=User.ANONYMOUS_NAME,
                ),
                "success",
            )
            return redirect(_home())
    return render_template("accounts/delete.html", form=form, anonymous_name=User.ANONYMOUS_NAME)


# --------------------------------------------------------------------------- legal pages


def _legal_page(kind: LegalDocumentKind):
    document = services.current_legal_documents().get(kind)
    if document is None:
        abort(404)
    return render_template(
        "accounts/legal_document.html", document=document, body=render_markdown(document.body)
    )


@bp.get("/conditions")
def terms():
    return _legal_page(LegalDocumentKind.TERMS)


@bp.get("/charte")
def charter():
    return _legal_page(LegalDocumentKind.CHARTER)


@bp.route("/conditions/accepter", methods=["GET", "POST"])
@login_required
def accept_legal():
    user = current_user._get_current_object()
    pending = services.pending_legal_documents(user)
    form = AcceptLegalForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not pending:
        return redirect(_next(form.next.data))
    if form.validate_on_submit():
        services.accept_current_legal_documents(user)
        db.session.commit()
        flash(_("Merci ! Vous pouvez continuer votre visite."), "success")
        return redirect(_next(form.next.data))
    documents = services.current_legal_documents()
    return render_template(
        "accounts/accept_legal.html",
        form=form,
        documents=[documents[kind] for kind in pending],
        LegalDocumentKind=LegalDocumentKind,
    )


@bp.get("/confidentialite")
def privacy():
    setting = db.session.get(TenantSetting, "dpo_contact")
    return render_template(
        "accounts/privacy.html",
        dpo_lines=_contact_lines(setting.value if setting is not None else None),
        anonymous_name=User.ANONYMOUS_NAME,
        export_days=services.EXPORT_MAX_AGE // 86400,
        retention=_retention_periods(),
    )


def _retention_periods():
    from types import SimpleNamespace

    from participation.accounts.personal_data import retention_periods

    # The same settings as the retention jobs (participation/accounts/retention.py).
    return SimpleNamespace(**retention_periods())


_EMAIL_ONLY = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")


def _contact_lines(value) -> list[tuple[str, str | None]]:
    """The DPO contact (free text from the staff settings, one item per line, or a dict)
    as ``(text, mailto address or None)`` lines."""
    if isinstance(value, dict):
        value = "\n".join(str(v) for v in value.values() if v)
    if not isinstance(value, str):
        return []
    lines = []
    for line in value.splitlines():
        line = line.strip()
        if line:
            email = line.removeprefix("E-mail :").removeprefix("E-mail:").strip()
            lines.append((line, email if _EMAIL_ONLY.fullmatch(email) else None))
    return lines
