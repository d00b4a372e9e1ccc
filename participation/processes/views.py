"""Pages of the participatory processes ("démarches").

- ``processes``: the public list (``/demarches``), a process page, its image.
- ``staff_processes``: the staff side under ``/gestion`` (processes, their phases, themes).
  Admins and moderators create and edit; agents read.

Thin views: validate the form, call a service, commit once, flash, redirect. The day comes
from ``clock.paris_today()`` (tests monkeypatch it).
"""

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
from werkzeug.exceptions import RequestEntityTooLarge

from core import clock, uploads
from core.db import db
from core.errors import render_error
from core.markdown import render_markdown
from core.routing import arg_int
from core.security.auth import two_factor_verified
from core.security.body_limits import upload_view
from core.security.redirects import safe_next_path
from participation.accounts.models import StaffRole, User
from participation.processes import services
from participation.processes.forms import (
    NO_THEME,
    WHOLE_TERRITORY,
    PhaseForm,
    ProcessFilterForm,
    ProcessForm,
    ThemeForm,
)
from participation.processes.models import (
    InvalidProcessTransition,
    Phase,
    PhaseKind,
    Process,
    ProcessState,
    Theme,
)
from participation.processes.services import ProcessError
from participation.staff.forms import ConfirmForm
from participation.staff.permissions import is_staff_member, role_allows, staff_required
from tenants.context import current_tenant

bp = Blueprint(
    "processes",
    __name__,
    static_folder="static",
    static_url_path="/static/demarches",
)
staff_bp = Blueprint("staff_processes", __name__, url_prefix="/gestion")

PER_PAGE = 12
STAFF_PER_PAGE = 50
MAX_PAGE = 10_000
#: Who may change processes and themes (admins pass every role check); agents only read.
EDITORS = (StaffRole.MODERATOR,)


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id) if services.is_valid_id(object_id) else None
    if obj is None:
        abort(404)
    return obj


def _page_number() -> int:
    # Bounded: a page number far past the end is a 404 anyway, never a huge OFFSET.
    return arg_int("page", 1, maximum=MAX_PAGE, clamp=True)


def _actor() -> User:
    return current_user._get_current_object()


def _staff_can_see_drafts() -> bool:
    return is_staff_member(current_user) and two_factor_verified()


def _can_edit() -> bool:
    return role_allows(current_user, EDITORS)


# --------------------------------------------------------------------------- public


@bp.get("/demarches")
def index():
    today = clock.paris_today()
    form = ProcessFilterForm(formdata=request.args)
    themes = services.themes_in_use()
    form.set_themes(themes)
    status = services.STATUS_SLUGS.get(form.etat.data or "")
    theme_id = arg_int("theme")
    if theme_id not in {theme.id for theme in themes}:
        theme_id = None  # an unknown theme filters nothing
    page = services.public_processes(today, status, theme_id, _page_number(), PER_PAGE)
    if not page.items and page.page > 1:  # past the last page
        abort(404)
    return render_template(
        "processes/index.html",
        form=form,
        overviews=[services.process_overview(p, today) for p in page.items],
        page=page,
        filters={
            key: value for key, value in (("etat", form.etat.data), ("theme", theme_id)) if value
        },
        filtered=bool(status or theme_id),
    )


@bp.get("/demarches/<int:process_id>")
def show(process_id: int):
    process = services.get_process(process_id)
    if process is None:
        abort(404)
    if process.state == ProcessState.DRAFT and not _staff_can_see_drafts():
        abort(404)  # a draft does not exist for the public, not even as a 403
    today = clock.paris_today()
    return render_template(
        "processes/show.html",
        process=process,
        overview=services.process_overview(process, today),
        today=today,
        staff_view=_staff_can_see_drafts(),
    )


@bp.get("/medias/demarches/<filename>")
def image(filename: str):
    if not services.is_image_name(filename):
        abort(404)
    process = services.process_with_image(filename)
    if process is None:
        abort(404)
    if process.state == ProcessState.DRAFT:
        # A draft's picture is the staff's until publication, and never cached.
        if not _staff_can_see_drafts():
            abort(404)
        return uploads.send_image(current_tenant().id, filename, restricted=True)
    return uploads.send_image(current_tenant().id, filename, hideable=True)


# --------------------------------------------------------------------------- staff: setup


@staff_bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    size = uploads.format_megabytes(uploads.max_image_bytes())
    return render_error(
        413,
        _("Le fichier envoyé est trop volumineux : une image fait %(size)s Mo au plus.", size=size),
        back_url=safe_next_path(request.path, "/"),
    )


@staff_bp.context_processor
def _staff_context():
    return {
        "can_edit": _can_edit(),
        "state_labels": services.STATE_LABELS,
        "phase_kind_labels": services.PHASE_KIND_LABELS,
    }


def _process_or_404(process_id: int, lock: bool = False) -> Process:
    process = services.get_process(process_id, lock=lock)
    if process is None:
        abort(404)
    return process


def _phase_or_404(process: Process, phase_id: int) -> Phase:
    phase = next((p for p in process.phases if p.id == phase_id), None)
    if phase is None:
        abort(404)
    return phase


# --------------------------------------------------------------------------- staff: processes


@staff_bp.get("/demarches", endpoint="index")
@staff_required()
def index_staff():
    state = request.args.get("etat")
    state = state if state in {s.value for s in ProcessState} else None
    page = services.staff_process_page(state, _page_number(), STAFF_PER_PAGE)
    if not page.items and page.page > 1:  # past the last page
        abort(404)
    today = clock.paris_today()
    return render_template(
        "staff/processes/index.html",
        overviews=[services.process_overview(p, today) for p in page.items],
        state=state,
        states=list(ProcessState),
        page=page,
    )


def _process_fields(form: ProcessForm) -> services.ProcessFields:
    return services.ProcessFields(
        title=form.title.data,
        summary=form.summary.data,
        description=form.description.data or "",
        theme_id=form.theme_id.data or None,
        neighbourhood_id=form.neighbourhood_id.data or None,
        image_alt=form.image_alt.data,
        support_threshold=form.support_threshold.data,
    )


def _uploaded_image(form: ProcessForm) -> tuple[bytes, str] | None:
    file = form.image.data
    if file is None or not getattr(file, "filename", ""):
        return None
    return services.read_image(file.stream, file.filename)


def _process_form(process: Process | None):
    """The create and edit page (with the description's preview)."""
    form = ProcessForm()
    form.set_choices(services.all_themes(), services.all_neighbourhoods())
    if request.method == "GET" and process is not None:
        form.title.data = process.title
        form.summary.data = process.summary
        form.description.data = process.description
        form.theme_id.data = process.theme_id or NO_THEME
        form.neighbourhood_id.data = process.neighbourhood_id or WHOLE_TERRITORY
        form.image_alt.data = process.image_alt
        form.support_threshold.data = process.support_threshold
    preview = None
    if request.method == "POST" and "preview" in request.form:
        # Nothing is saved: the page comes back with the rendered description.
        preview = render_markdown(form.description.data)
    elif form.validate_on_submit():
        tenant_id = current_tenant().id
        try:
            upload = _uploaded_image(form)
            if process is None:
                process = services.create_process(
                    _process_fields(form), _actor(), tenant_id=tenant_id, image=upload
                )
                old_image, message = None, _("La démarche est créée en brouillon.")
            else:
                changed, old_image = services.update_process(
                    process,
                    _process_fields(form),
                    _actor(),
                    tenant_id=tenant_id,
                    image=upload,
                    remove_image=form.remove_image.data,
                )
                message = (
                    _("La démarche est enregistrée.")
                    if changed
                    else _("Aucun changement à enregistrer.")
                )
        except ProcessError as exc:
            form[exc.field or "title"].errors.append(str(exc))
        else:
            db.session.commit()
            services.delete_image(tenant_id, old_image)
            flash(message, "success")
            return redirect(url_for("staff_processes.show", process_id=process.id))
    return render_template(
        "staff/processes/form.html",
        form=form,
        process=process,
        preview=preview,
        max_image_mb=uploads.max_image_bytes() // (1024 * 1024),
    )


@staff_bp.route("/demarches/nouvelle", methods=["GET", "POST"])
@staff_required(*EDITORS)
@upload_view("MAX_IMAGE_BYTES")
def create():
    return _process_form(None)


@staff_bp.get("/demarches/<int:process_id>", endpoint="show")
@staff_required()
def show_staff(process_id: int):
    process = _process_or_404(process_id)
    return render_template(
        "staff/processes/show.html",
        process=process,
        overview=services.process_overview(process, clock.paris_today()),
    )


@staff_bp.route("/demarches/<int:process_id>/modifier", methods=["GET", "POST"])
@staff_required(*EDITORS)
@upload_view("MAX_IMAGE_BYTES")
def edit(process_id: int):
    return _process_form(_process_or_404(process_id, lock=request.method == "POST"))


@staff_bp.post("/demarches/<int:process_id>/publier")
@staff_required(*EDITORS)
def publish(process_id: int):
    return _change_state(
        process_id,
        services.publish_process,
        _("La démarche « %(title)s » est publiée : elle apparaît maintenant sur l'espace public."),
    )


@staff_bp.post("/demarches/<int:process_id>/archiver")
@staff_required(*EDITORS)
def archive(process_id: int):
    return _change_state(
        process_id,
        services.archive_process,
        _(
            "La démarche « %(title)s » est archivée : elle reste consultable parmi "
            "les démarches terminées."
        ),
    )


def _change_state(process_id: int, change, done: str):
    """Publish or archive (``change``) once confirmed; ``done`` names the process."""
    process = _process_or_404(process_id, lock=True)
    if ConfirmForm().validate_on_submit():
        try:
            change(process, _actor())
        except InvalidProcessTransition as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(done % {"title": process.title}, "success")
    return redirect(url_for("staff_processes.show", process_id=process_id))


@staff_bp.post("/demarches/<int:process_id>/supprimer")
@staff_required(*EDITORS)
def delete(process_id: int):
    process = _process_or_404(process_id, lock=True)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("staff_processes.show", process_id=process_id))
    title = process.title
    try:
        image_name = services.delete_draft(process, _actor())
    except ProcessError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff_processes.show", process_id=process_id))
    db.session.commit()
    services.delete_image(current_tenant().id, image_name)
    flash(_("Le brouillon « %(title)s » est supprimé.", title=title), "success")
    return redirect(url_for("staff_processes.index"))


# --------------------------------------------------------------------------- staff: phases


def _phase_fields(form: PhaseForm) -> services.PhaseFields:
    return services.PhaseFields(
        kind=PhaseKind(form.kind.data),
        title=form.title.data,
        description=form.description.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        allows_propose=form.allows_propose.data,
        allows_support=form.allows_support.data,
        allows_comment=form.allows_comment.data,
        allows_debate=form.allows_debate.data,
    )


def _phase_error(form: PhaseForm, exc: ProcessError) -> None:
    if exc.field and exc.field in form:
        form[exc.field].errors.append(str(exc))
    else:
        flash(str(exc), "error")


@staff_bp.route("/demarches/<int:process_id>/phases", methods=["GET", "POST"])
@staff_required(*EDITORS)
def phases(process_id: int):
    process = _process_or_404(process_id, lock=request.method == "POST")
    form = PhaseForm()
    if request.method == "GET":
        form.starts_on.data, form.ends_on.data = services.default_phase_dates(
            process, clock.paris_today()
        )
    if form.validate_on_submit():
        try:
            phase = services.add_phase(process, _phase_fields(form), _actor())
        except ProcessError as exc:
            _phase_error(form, exc)
        else:
            db.session.commit()
            flash(_("La phase « %(title)s » est ajoutée.", title=phase.title), "success")
            return redirect(url_for("staff_processes.phases", process_id=process_id))
    return render_template(
        "staff/processes/phases.html",
        process=process,
        overview=services.process_overview(process, clock.paris_today()),
        form=form,
    )


@staff_bp.route("/demarches/<int:process_id>/phases/<int:phase_id>", methods=["GET", "POST"])
@staff_required(*EDITORS)
def edit_phase(process_id: int, phase_id: int):
    process = _process_or_404(process_id, lock=request.method == "POST")
    phase = _phase_or_404(process, phase_id)
    form = PhaseForm(obj=phase if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = phase.kind.value
    if form.validate_on_submit():
        try:
            changed = services.update_phase(phase, _phase_fields(form), _actor())
        except ProcessError as exc:
            _phase_error(form, exc)
        else:
            db.session.commit()
            if changed:
                flash(_("La phase « %(title)s » est enregistrée.", title=phase.title), "success")
            else:
                flash(_("Aucun changement à enregistrer."), "info")
            return redirect(url_for("staff_processes.phases", process_id=process_id))
    return render_template(
        "staff/processes/phase.html",
        process=process,
        phase=phase,
        form=form,
    )


@staff_bp.post("/demarches/<int:process_id>/phases/<int:phase_id>/supprimer")
@staff_required(*EDITORS)
def delete_phase(process_id: int, phase_id: int):
    process = _process_or_404(process_id, lock=True)
    phase = _phase_or_404(process, phase_id)
    if ConfirmForm().validate_on_submit():
        title = phase.title
        try:
            services.delete_phase(phase, _actor())
        except ProcessError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("La phase « %(title)s » est supprimée.", title=title), "success")
    return redirect(url_for("staff_processes.phases", process_id=process_id))


@staff_bp.post("/demarches/<int:process_id>/phases/<int:phase_id>/deplacer")
@staff_required(*EDITORS)
def move_phase(process_id: int, phase_id: int):
    process = _process_or_404(process_id, lock=True)
    phase = _phase_or_404(process, phase_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.move_phase(phase, request.form.get("direction", ""), _actor())
        except ProcessError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(
                _(
                    "La phase « %(title)s » est déplacée (%(period)s).",
                    title=phase.title,
                    period=services.period_label(phase.starts_on, phase.ends_on),
                ),
                "success",
            )
    return redirect(url_for("staff_processes.phases", process_id=process_id))


# --------------------------------------------------------------------------- staff: themes


def _themes_page(form: ThemeForm, status: int = 200):
    return (
        render_template("staff/processes/themes.html", form=form, themes=services.all_themes()),
        status,
    )


@staff_bp.get("/themes")
@staff_required()
def themes():
    return _themes_page(ThemeForm())


@staff_bp.post("/themes")
@staff_required(*EDITORS)
def create_theme():
    form = ThemeForm()
    if form.validate_on_submit():
        try:
            theme = services.create_theme(form.name.data, form.position.data, _actor())
        except ProcessError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Le thème « %(name)s » est ajouté.", name=theme.name), "success")
            return redirect(url_for("staff_processes.themes"))
    return _themes_page(form)


@staff_bp.route("/themes/<int:theme_id>", methods=["GET", "POST"])
@staff_required(*EDITORS)
def edit_theme(theme_id: int):
    theme = _get_or_404(Theme, theme_id)
    form = ThemeForm(obj=theme)
    if form.validate_on_submit():
        try:
            services.update_theme(theme, form.name.data, form.position.data, _actor())
        except ProcessError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Le thème « %(name)s » est enregistré.", name=theme.name), "success")
            return redirect(url_for("staff_processes.themes"))
    return render_template("staff/processes/theme.html", form=form, theme=theme)


@staff_bp.post("/themes/<int:theme_id>/supprimer")
@staff_required(*EDITORS)
def delete_theme(theme_id: int):
    theme = _get_or_404(Theme, theme_id)
    if ConfirmForm().validate_on_submit():
        name = theme.name
        services.delete_theme(theme, _actor())
        db.session.commit()
        flash(_("Le thème « %(name)s » est supprimé.", name=name), "success")
    return redirect(url_for("staff_processes.themes"))
