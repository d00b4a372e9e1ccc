"""Practice library pages: ``/reseaux/<slug>/pratiques`` on the platform domain."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from core.db import db
from core.errors import abort_with
from core.security.auth import two_factor_required
from core.security.body_limits import upload_view
from network.core import access
from network.core.access import posting_limit
from network.library import services
from network.library.forms import (
    TEMPLATE_ROWS,
    AttachmentForm,
    CommentForm,
    PracticeForm,
    SearchForm,
)
from network.library.models import AdoptionStatus
from network.library.schedule import adoption_start, template_schedule
from network.library.services import LibraryError

bp = Blueprint("network_library", __name__, url_prefix="/reseaux/<slug>/pratiques")


def _network(slug: str):
    return access.require_view(access.get_network(slug), "library")


def _practice(network, practice_id: int):
    practice = services.get_practice(network, practice_id)
    if practice is None:
        abort_with(404, _("Cette pratique n'existe pas."))
    return practice


def _fields(form: PracticeForm) -> services.PracticeFields:
    return services.PracticeFields(
        category=form.category.data or "",
        title=form.title.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        outcome=form.outcome.data or None,
        lessons=form.lessons.data or "",
        tags=form.tags.data or "",
        template_title=form.template_title.data or "",
        template_summary=form.template_summary.data or "",
        template_phases=[
            services.TemplatePhase(
                kind=entry.form.kind.data,
                title=entry.form.title.data or "",
                weeks=entry.form.weeks.data or 0,
                actions=list(entry.form.actions.data or []),
            )
            for entry in form.template_phases
        ],
    )


def _form_error(form: PracticeForm, error: LibraryError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is None or error.field == "template_phases":
        target = form.template_title if error.field == "template_phases" else form.title
    target.errors = [*list(target.errors or []), error.message]


@bp.route("")
def index(slug: str):
    network = _network(slug)
    form = SearchForm(request.args)
    form.validate()
    query = services.SearchQuery(
        text=form.q.data or "",
        category=form.category.data or "",
        outcome=form.outcome.data or "",
        tag=form.tag.data or "",
    )
    practices = services.search_practices(network, query)
    return render_template(
        "network/library/index.html",
        network=network,
        form=form,
        practices=practices,
        searching=bool(query.text or query.category or query.outcome or query.tag),
        tags=services.network_tags(network),
        can_contribute=services.can_contribute(current_user, network),
        category_labels=services.CATEGORY_LABELS,
        outcome_labels=services.OUTCOME_LABELS,
    )


@bp.route("/nouvelle", methods=["GET", "POST"])
@two_factor_required
@posting_limit
def new(slug: str):
    network = _network(slug)
    allowed, tenant_id = services.contributor_tenant(current_user, network)
    if not allowed:
        abort_with(403, _("Seuls les membres du réseau peuvent partager une pratique."))
    form = PracticeForm()
    if form.validate_on_submit():
        try:
            practice = services.create_practice(network, _fields(form), current_user, tenant_id)
        except LibraryError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("Merci ! La pratique est partagée avec le réseau."), "success")
            return redirect(url_for(".show", slug=network.slug, practice_id=practice.id))
    return render_template("network/library/form.html", network=network, form=form, practice=None)


@bp.route("/<int:practice_id>")
def show(slug: str, practice_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    member_tenant = access.member_tenant_id(current_user, network)
    return render_template(
        "network/library/show.html",
        network=network,
        practice=practice,
        category_labels=services.CATEGORY_LABELS,
        outcome_labels=services.OUTCOME_LABELS,
        can_edit=services.can_edit(current_user, practice),
        can_delete=services.can_delete(current_user, practice),
        can_delete_comment=lambda comment: services.can_delete_comment(current_user, comment),
        can_comment=services.can_comment(current_user, network),
        can_adopt=services.can_adopt(current_user, practice),
        adoptions=services.adoptions_for(practice, member_tenant),
        AdoptionStatus=AdoptionStatus,
        comment_form=CommentForm(),
        attachment_form=AttachmentForm(),
        schedule=template_schedule(practice.process_template, adoption_start())
        if practice.process_template
        else [],
    )


@bp.route("/<int:practice_id>/modifier", methods=["GET", "POST"])
@two_factor_required
@posting_limit
def edit(slug: str, practice_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    if not services.can_edit(current_user, practice):
        abort_with(403, _("Seuls ses auteurs et la coordination peuvent modifier cette fiche."))
    form = PracticeForm(obj=practice)
    if request.method == "GET":
        form.category.data = practice.category.value
        form.outcome.data = practice.outcome.value if practice.outcome else None
        form.tags.data = ", ".join(practice.tags or [])
        template = practice.process_template or {}
        form.template_title.data = template.get("title", "")
        form.template_summary.data = template.get("summary", "")
        phases = template.get("phases", [])
        while len(form.template_phases) < max(TEMPLATE_ROWS, len(phases)):
            form.template_phases.append_entry()
        for entry, phase in zip(form.template_phases, phases, strict=False):
            entry.form.kind.data = phase["kind"]
            entry.form.title.data = phase["title"]
            entry.form.weeks.data = phase["weeks"]
            entry.form.actions.data = phase.get("actions", [])
    if form.validate_on_submit():
        try:
            services.update_practice(practice, _fields(form), current_user)
        except LibraryError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("La fiche est enregistrée."), "success")
            return redirect(url_for(".show", slug=network.slug, practice_id=practice.id))
    return render_template(
        "network/library/form.html", network=network, form=form, practice=practice
    )


@bp.route("/<int:practice_id>/commentaires", methods=["POST"])
@two_factor_required
@posting_limit
def comment(slug: str, practice_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    if not services.can_comment(current_user, network):
        abort_with(403, _("Seuls les membres du réseau peuvent commenter."))
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)
    tenant_id = access.member_tenant_id(current_user, network)
    try:
        services.add_comment(practice, form.body.data, current_user, tenant_id)
    except LibraryError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Votre commentaire est publié."), "success")
    return redirect(url_for(".show", slug=network.slug, practice_id=practice.id) + "#commentaires")


@bp.route("/<int:practice_id>/pieces-jointes", methods=["POST"])
@upload_view(services.max_attachment_bytes)
@two_factor_required
@posting_limit
def upload(slug: str, practice_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    if not services.can_edit(current_user, practice):
        abort_with(403, _("Seuls ses auteurs et la coordination peuvent joindre des fichiers."))
    form = AttachmentForm()
    if not form.validate_on_submit() or not form.file.data:
        flash(_("Choisissez un fichier."), "error")
        return redirect(url_for(".show", slug=network.slug, practice_id=practice.id))
    try:
        services.add_attachment(practice, form.file.data, current_user)
    except LibraryError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Le fichier est joint à la fiche."), "success")
    return redirect(url_for(".show", slug=network.slug, practice_id=practice.id))


@bp.route("/<int:practice_id>/pieces-jointes/<int:attachment_id>")
def download(slug: str, practice_id: int, attachment_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    attachment = next((a for a in practice.attachments if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    path = services.attachment_path(attachment)
    if path is None:
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:practice_id>/pieces-jointes/<int:attachment_id>/supprimer", methods=["POST"])
@two_factor_required
def delete_attachment(slug: str, practice_id: int, attachment_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    if not services.can_edit(current_user, practice):
        abort(403)
    if not _csrf_ok():
        abort(400)
    attachment = next((a for a in practice.attachments if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    stored = services.delete_attachment(attachment, current_user)
    db.session.commit()
    services.unlink_attachment(network.id, stored)
    flash(_("La pièce jointe est supprimée."), "success")
    return redirect(url_for(".show", slug=network.slug, practice_id=practice.id))


def _csrf_ok() -> bool:
    from flask_wtf.csrf import ValidationError, validate_csrf

    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


@bp.route("/<int:practice_id>/supprimer", methods=["POST"])
@two_factor_required
def delete(slug: str, practice_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    if not services.can_delete(current_user, practice):
        abort_with(403, _("Seuls ses auteurs et la coordination peuvent supprimer cette fiche."))
    if not _csrf_ok():
        abort(400)
    stored = services.delete_practice(practice, current_user)
    db.session.commit()
    for name in stored:
        services.unlink_attachment(network.id, name)
    flash(_("La fiche est supprimée."), "success")
    return redirect(url_for(".index", slug=network.slug))


@bp.route("/<int:practice_id>/commentaires/<int:comment_id>/supprimer", methods=["POST"])
@two_factor_required
def delete_comment(slug: str, practice_id: int, comment_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    comment = next((c for c in practice.comments if c.id == comment_id), None)
    if comment is None:
        abort(404)
    if not services.can_delete_comment(current_user, comment):
        abort_with(403, _("Seuls son auteur et la coordination peuvent supprimer ce commentaire."))
    if not _csrf_ok():
        abort(400)
    services.delete_comment(comment, current_user)
    db.session.commit()
    flash(_("Le commentaire est supprimé."), "success")
    return redirect(url_for(".show", slug=network.slug, practice_id=practice.id) + "#commentaires")


@bp.route("/<int:practice_id>/adopter", methods=["POST"])
@two_factor_required
@posting_limit
def adopt(slug: str, practice_id: int):
    network = _network(slug)
    practice = _practice(network, practice_id)
    if not services.can_adopt(current_user, practice):
        abort_with(
            403,
            _("Seuls les membres d'une collectivité du réseau peuvent adopter une pratique."),
        )
    if not _csrf_ok():
        abort(400)
    try:
        services.adopt_practice(practice, current_user)
    except LibraryError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            _(
                "C'est parti : la démarche modèle est copiée en brouillon dans l'espace de "
                "votre collectivité, où vous pourrez l'adapter avant de la publier."
            ),
            "success",
        )
    return redirect(url_for(".show", slug=network.slug, practice_id=practice.id))
