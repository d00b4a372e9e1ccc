"""Sign-up of a collectivité, on the platform site (docs/features/verification.md).

``/inscription-collectivite``: find the collectivité (a GET search form, enhanced into a
combobox by ``core/static/signup.js``), fill in the form, then follow the creation of the
space on a page named by a signed token. Everything works without JavaScript.
"""

from __future__ import annotations

import os

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from billing import signup, verification
from billing.signup_forms import (
    ConfirmEmailForm,
    ContactAdminsForm,
    DisputeForm,
    ProofUploadForm,
    SignupForm,
)
from core.db import db
from core.errors import abort_with
from core.security.body_limits import upload_view
from core.security.limits import SIGNUP_LIMIT, limiter
from core.uploads import UploadError
from tenants import invalidate_host_cache, official
from tenants.models import Tenant
from tenants.resolver import normalise_host

bp = Blueprint("signup", __name__)

# Typing in the combobox sends a request every few keystrokes.
LOOKUP_LIMIT = "60 per minute;600 per hour"
CONTACT_LIMIT = "3 per minute;10 per hour"
DISPUTE_LIMIT = "3 per minute;10 per hour"
CONFIRM_LIMIT = "10 per minute"
STATUS_LIMIT = "60 per minute"

KIND_LABELS = {
    "commune": _l("Commune"),
    "epci": _l("Intercommunalité"),
    "departement": _l("Département"),
    "region": _l("Région"),
}
EPCI_LABELS = {
    "CC": _l("Communauté de communes"),
    "CA": _l("Communauté d'agglomération"),
    "CU": _l("Communauté urbaine"),
    "METRO": _l("Métropole"),
    "MET69": _l("Métropole de Lyon"),
}
CODE_LABELS = {
    "commune": _l("Code INSEE"),
    "epci": _l("SIREN"),
    "departement": _l("Code du département"),
    "region": _l("Code de la région"),
}
PROGRESS_MESSAGES = {
    signup.Progress.PROVISIONING: _l("Création de l'espace…"),
    signup.Progress.PENDING: _l("Espace créé : vérification en cours."),
    signup.Progress.READY: _l("Prêt : votre espace est en ligne."),
    signup.Progress.FAILED: _l("La création de votre espace n'a pas abouti."),
}


def init_signup(app: Flask) -> None:
    """Register the sign-up pages on the platform site (no subdomain marker)."""
    platform_host = normalise_host(app.config.get("PLATFORM_DOMAIN")) or "pnyx.fr"
    app.config.setdefault(
        "SIGNUP_SUPPORT_EMAIL",
        os.environ.get("SIGNUP_SUPPORT_EMAIL") or f"contact@{platform_host}",
    )
    app.register_blueprint(bp)


def _collectivite_or_404(kind: str, code: str) -> official.Collectivite:
    collectivite = signup.get_collectivite(kind, code)
    if collectivite is None:
        abort_with(404, _("Aucune collectivité ne correspond à cette adresse."))
    return collectivite


def _kind_label(collectivite: official.Collectivite) -> str:
    if collectivite.kind == "epci" and collectivite.epci_type in EPCI_LABELS:
        return str(EPCI_LABELS[collectivite.epci_type])
    return str(KIND_LABELS[collectivite.kind])


def _collectivite_context(collectivite: official.Collectivite) -> dict:
    return {
        "collectivite": collectivite,
        "kind_label": _kind_label(collectivite),
        "code_label": CODE_LABELS[collectivite.kind],
    }


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- finding


@bp.get("/inscription-collectivite")
def start():
    query = request.args.get("q", "").strip()[: signup.MAX_QUERY_LENGTH]
    error = None
    if "choix" in request.args:
        choice = signup.parse_choice(request.args.get("choix"))
        if choice is not None:
            kind, code = choice
            return redirect(url_for("signup.collectivite", kind=kind, code=code), 303)
        error = _("Choisissez votre collectivité dans la liste.")
    results = signup.search_collectivites(query)
    return render_template(
        "billing/signup_start.html",
        query=query,
        results=results,
        too_short=bool(query) and len(query) < signup.MIN_QUERY_LENGTH,
        error=error,
        choice_value=signup.choice_value,
        trial_days=signup.trial_days(),
    )


@bp.get("/inscription-collectivite/recherche")
@limiter.limit(LOOKUP_LIMIT)
def search_json():
    results = signup.search_collectivites(request.args.get("q"))
    return jsonify(
        count=len(results),
        results=[
            {
                "value": signup.choice_value(c),
                "label": c.label,
                "url": url_for("signup.collectivite", kind=c.kind, code=c.code),
            }
            for c in results
        ],
    )


@bp.get("/inscription-collectivite/sous-domaine")
@limiter.limit(LOOKUP_LIMIT)
def slug_check():
    raw = request.args.get("slug", "")
    choice = signup.parse_choice(request.args.get("collectivite"))
    collectivite = signup.get_collectivite(*choice) if choice else None
    try:
        slug = signup.check_slug(raw, collectivite)
    except signup.SignupError as error:
        return jsonify(slug=raw.strip().lower(), available=False, message=str(error))
    return jsonify(
        slug=slug,
        available=True,
        host=signup.space_host(slug),
        message=_("L'adresse %(host)s est disponible.", host=signup.space_host(slug)),
    )


# --------------------------------------------------------------------------- signing up


def _already_signed_up(collectivite, tenant, form: ContactAdminsForm, status: int = 200):
    return render_template(
        "billing/signup_exists.html",
        dispute_url=url_for("signup.dispute", kind=collectivite.kind, code=collectivite.code),
        space=tenant,
        space_host=f"{tenant.primary_host}{_port()}" if tenant.primary_host else None,
        url_scheme=current_app.config["PREFERRED_URL_SCHEME"],
        form=form,
        **_collectivite_context(collectivite),
    ), status


def _port() -> str:
    domain = current_app.config["PLATFORM_DOMAIN"]
    return ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""


def _max_document_mb() -> str:
    from core.uploads import format_megabytes, max_document_bytes

    return format_megabytes(max_document_bytes())


def _signup_form(collectivite) -> SignupForm:
    form = SignupForm(collectivite=collectivite)
    choices = signup.available_slugs(collectivite)
    posted = (form.slug.data or "").strip().lower()
    if posted and posted not in choices:
        # Kept visible so the error next to it makes sense (taken meanwhile, or forged).
        choices = [*choices, posted]
    form.slug.choices = [(slug, f"{slug}.{_platform_host()}") for slug in choices]
    return form


def _platform_host() -> str:
    return normalise_host(current_app.config["PLATFORM_DOMAIN"]) + _port()


def _render_form(collectivite, form: SignupForm, status: int = 200, error: str | None = None):
    return render_template(
        "billing/signup_form.html",
        form=form,
        error=error,
        max_document_mb=_max_document_mb(),
        platform_host=current_app.config["PLATFORM_DOMAIN"],
        url_scheme=current_app.config["PREFERRED_URL_SCHEME"],
        **_collectivite_context(collectivite),
    ), status


@bp.route("/inscription-collectivite/<kind>/<code>", methods=["GET", "POST"])
@limiter.limit(SIGNUP_LIMIT, methods=["POST"])
@upload_view("MAX_DOCUMENT_BYTES")
def collectivite(kind: str, code: str):
    collectivite = _collectivite_or_404(kind, code)
    if (tenant := signup.existing_tenant(collectivite)) is not None:
        status = 409 if request.method == "POST" else 200
        return _already_signed_up(collectivite, tenant, ContactAdminsForm(formdata=None), status)
    form = _signup_form(collectivite)
    if request.method == "GET":
        if form.slug.choices:
            form.slug.data = form.slug.choices[0][0]
        return _render_form(collectivite, form)
    if form.is_robot:
        return _render_form(
            collectivite, form, 400, _("Votre demande n'a pas pu être enregistrée.")
        )
    if not form.validate_on_submit():
        return _render_form(collectivite, form)
    agent = signup.Agent(
        name=form.agent_name.data,
        role=form.agent_role.data,
        email=form.email.data,
        phone=form.agent_phone.data,
    )
    proof = signup.Proof(form.proof_kind.data, form.proof.data) if form.proof.data else None
    try:
        tenant = signup.sign_up_collectivite(collectivite, agent, form.slug.data, proof)
        tenant_id = tenant.id
        db.session.commit()
    except UploadError as error:
        db.session.rollback()
        form.proof.errors = [str(error)]
        return _render_form(collectivite, form)
    except signup.AlreadySignedUp as error:
        db.session.rollback()
        return _already_signed_up(collectivite, error.tenant, ContactAdminsForm(formdata=None), 409)
    except signup.SubdomainUnavailable as error:
        db.session.rollback()
        form.slug.errors = [str(error)]
        return _render_form(collectivite, form)
    except signup.SignupError as error:
        db.session.rollback()
        return _render_form(collectivite, form, 409, str(error))
    except IntegrityError:
        # Another sign-up won the race for this collectivité or this subdomain.
        db.session.rollback()
        if (tenant := signup.existing_tenant(collectivite)) is not None:
            return _already_signed_up(collectivite, tenant, ContactAdminsForm(formdata=None), 409)
        form.slug.errors = [_("Cette adresse vient d'être prise. Merci d'en choisir une autre.")]
        return _render_form(collectivite, form)
    return redirect(url_for("signup.progress", token=signup.progress_token(tenant_id)), 303)


@bp.route("/inscription-collectivite/<kind>/<code>/contact", methods=["GET", "POST"])
@limiter.limit(CONTACT_LIMIT, methods=["POST"])
def contact_admins(kind: str, code: str):
    collectivite = _collectivite_or_404(kind, code)
    back = url_for("signup.collectivite", kind=collectivite.kind, code=collectivite.code)
    tenant = signup.existing_tenant(collectivite)
    if tenant is None or request.method == "GET":
        return redirect(back, 303)
    form = ContactAdminsForm()
    if form.is_robot:
        return _already_signed_up(collectivite, tenant, form, 400)
    if not form.validate_on_submit():
        return _already_signed_up(collectivite, tenant, form)
    # The administrators are read inside the tenant, which needs a session with no open
    # transaction (loading a logged-in platform account opens one); nothing is written yet.
    db.session.rollback()
    signup.contact_admins(
        collectivite,
        tenant,
        name=form.name.data,
        email=form.email.data,
        message=form.message.data,
    )
    db.session.commit()
    flash(
        _(
            "Votre message a été transmis à l'administration de l'espace de %(name)s, qui "
            "vous répondra directement par e-mail.",
            name=tenant.name,
        ),
        "success",
    )
    return redirect(back, 303)


# --------------------------------------------------------------------------- following


def _tenant_from_token(token: str) -> Tenant:
    tenant_id = signup.tenant_id_from_token(token)
    tenant = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
    if tenant is None:
        abort_with(404, _("Ce lien de suivi n'est pas valide ou a expiré."))
    return tenant


@bp.get("/inscription-collectivite/suivi/<token>")
def progress(token: str):
    tenant = _tenant_from_token(token)
    return _render_progress(token, tenant, ProofUploadForm(formdata=None))


@bp.post("/inscription-collectivite/suivi/<token>/justificatif")
@limiter.limit(SIGNUP_LIMIT)
@upload_view("MAX_DOCUMENT_BYTES")
def add_proof(token: str):
    """The requester adds a proof while the request is open (the operator may ask)."""
    tenant = _tenant_from_token(token)
    request_row = verification.request_for_tenant(tenant.id)
    if request_row is None or not request_row.is_open:
        flash(_("Cette demande a déjà été traitée : aucun justificatif n'est attendu."), "info")
        return redirect(url_for("signup.progress", token=token), 303)
    form = ProofUploadForm()
    if not form.validate_on_submit():
        return _render_progress(token, tenant, form, 400)
    try:
        verification.add_proof(request_row, form.proof_kind.data, form.proof.data)
    except (UploadError, verification.VerificationError) as error:
        db.session.rollback()
        form.proof.errors = [str(error)]
        return _render_progress(token, tenant, form, 400)
    if request_row.state == "more_info":
        request_row.state = "pending"  # back in the operator's queue
    verification.notify_operator_of_request(request_row)
    db.session.commit()
    flash(_("Justificatif reçu. L'équipe Pnyx l'examine et vous répond par e-mail."), "success")
    return redirect(url_for("signup.progress", token=token), 303)


def _render_progress(token: str, tenant: Tenant, proof_form, status: int = 200):
    state = signup.progress_of(tenant)
    host = f"{tenant.primary_host}{_port()}"
    request_row = verification.request_for_tenant(tenant.id)
    response = current_app.make_response(
        (
            render_template(
                "billing/signup_progress.html",
                verification_request=request_row,
                proof_form=proof_form,
                proof_url=url_for("signup.add_proof", token=token),
                max_document_mb=_max_document_mb(),
                space=tenant,
                space_host=host,
                space_url=f"{current_app.config['PREFERRED_URL_SCHEME']}://{host}/",
                state=state.value,
                status_url=url_for("signup.progress_status", token=token),
                support_email=current_app.config["SIGNUP_SUPPORT_EMAIL"],
                trial_days=signup.trial_days(),
            ),
            status,
        )
    )
    return _no_store(response)


@bp.get("/inscription-collectivite/suivi/<token>/etat")
@limiter.limit(STATUS_LIMIT)
def progress_status(token: str):
    tenant = _tenant_from_token(token)
    state = signup.progress_of(tenant)
    return _no_store(jsonify(state=state.value, message=str(PROGRESS_MESSAGES[state])))


# --------------------------------------------------------------------------- verification


@bp.route("/inscription-collectivite/verification/<token>", methods=["GET", "POST"])
@limiter.limit(CONFIRM_LIMIT, methods=["POST"])
def confirm_email(token: str):
    """The requester confirms their address; at an official domain, the space opens."""
    request_row = verification.request_from_email_token(token)
    if request_row is None:
        abort_with(404, _("Ce lien de confirmation n'est pas valide ou a expiré."))
    form = ConfirmEmailForm()
    approved = False
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        approved = verification.confirm_email(request_row)
        db.session.commit()
        if approved:
            invalidate_host_cache()
    response = current_app.make_response(
        render_template(
            "billing/signup_confirm_email.html",
            verification_request=request_row,
            form=form,
            confirmed=request_row.email_confirmed_at is not None,
            approved=approved or request_row.state == "approved",
        )
    )
    return _no_store(response)


@bp.route("/inscription-collectivite/<kind>/<code>/contestation", methods=["GET", "POST"])
@limiter.limit(DISPUTE_LIMIT, methods=["POST"])
@upload_view("MAX_DOCUMENT_BYTES")
def dispute(kind: str, code: str):
    """A collectivité whose name is taken asks the operator — never the space's admins."""
    collectivite = _collectivite_or_404(kind, code)
    tenant = signup.existing_tenant(collectivite)
    if tenant is None:
        return redirect(url_for("signup.collectivite", kind=kind, code=code), 303)
    form = DisputeForm()

    def render(status: int = 200):
        return render_template(
            "billing/signup_dispute.html",
            form=form,
            space=tenant,
            max_document_mb=_max_document_mb(),
            **_collectivite_context(collectivite),
        ), status

    if request.method == "GET":
        return render()
    if form.is_robot:
        return render(400)
    if not form.validate_on_submit():
        return render()
    db.session.rollback()
    try:
        claim = verification.create_dispute(
            collectivite,
            tenant.id,
            name=form.name.data,
            role=form.role.data,
            email=form.email.data,
            phone=form.phone.data,
            message=form.message.data,
        )
        if form.proof.data:
            verification.add_proof(claim, form.proof_kind.data, form.proof.data)
    except (UploadError, verification.VerificationError) as error:
        db.session.rollback()
        form.proof.errors = [str(error)]
        return render()
    verification.notify_dispute(claim)
    db.session.commit()
    flash(
        _(
            "Votre contestation a été transmise à l'équipe de la plateforme Pnyx (et à elle "
            "seule). Elle vous contactera par e-mail ou par téléphone."
        ),
        "success",
    )
    return redirect(url_for("signup.collectivite", kind=kind, code=code), 303)


# --------------------------------------------------------------------------- terms


@bp.get("/conditions-plateforme")
def platform_terms():
    return render_template(
        "billing/signup_terms.html",
        terms_version=signup.PLATFORM_TERMS_VERSION,
        trial_days=signup.trial_days(),
    )
