"""Signalement pages: the public side (map and list, a report's page, the report form,
its photo) and the staff side under /gestion/signalements (triage list, a report with its
status steps, service and moderation, the categories).

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from core import uploads
from core.db import db
from core.errors import abort_with, render_error
from core.security.body_limits import upload_view
from participation.accounts.models import StaffRole, User
from participation.engagement.antispam import posting_limit
from participation.problems import services
from participation.problems.forms import AssignForm, CategoryForm, HideForm, ReportForm, StatusForm
from participation.problems.models import ProblemCategory, ProblemReport, ProblemStatus
from participation.problems.services import ProblemError
from participation.staff.permissions import is_staff_member, staff_required
from tenants.context import current_tenant

bp = Blueprint("problems", __name__, static_folder="static", static_url_path="/signalements-static")
staff_bp = Blueprint("staff_problems", __name__, url_prefix="/gestion/signalements")

MANAGERS = (StaffRole.MODERATOR,)  # admins pass every role check


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    size = uploads.format_megabytes(uploads.max_image_bytes())
    return render_error(
        413, _("La photo envoyée est trop volumineuse : %(size)s Mo au plus.", size=size)
    )


def _status_choices(statuses) -> list[tuple[str, str]]:
    return [(s.value, services.status_label(s)) for s in statuses]


# --------------------------------------------------------------------------- public


def _visible_report(report_id: int) -> ProblemReport:
    report = services.get_report(report_id)
    if report is None:
        raise NotFound()
    if services.is_public(report) or is_staff_member(_user()):
        return report
    if report.hidden_at is not None:
        abort_with(404, _("Ce signalement a été masqué par la modération."))
    raise NotFound()


@bp.get("/signalements")
def index():
    query = services.parse_list_query(request.args)
    page = services.public_reports(query)
    if not page.items and page.page > 1:  # past the last page
        raise NotFound()
    return render_template(
        "problems/index.html",
        page=page,
        query=query,
        categories=services.categories(active_only=False),
        counts=services.status_counts(),
        statuses=list(ProblemStatus),
        status_label=services.status_label,
        public_name=services.public_name,
        map_centre=services.map_centre(),
    )


@bp.get("/signalements/<int:report_id>")
def show(report_id: int):
    report = _visible_report(report_id)
    user = _user()
    return render_template(
        "problems/show.html",
        report=report,
        events=services.public_events(report),
        status_label=services.status_label,
        public_name=services.public_name(report),
        is_public=services.is_public(report),
        is_reporter=user is not None and report.reporter_id == user.id,
        can_handle=services.can_handle(user, report),
    )


@bp.get("/signalements/<int:report_id>/photo")
def photo(report_id: int):
    report = _visible_report(report_id)
    if not report.image_name:
        raise NotFound()
    # Hidden reports' photos reach staff only (_visible_report), and are then not cached.
    public = services.is_public(report)
    return uploads.send_image(
        current_tenant().id, report.image_name, hideable=public, restricted=not public
    )


def _report_form() -> ReportForm:
    form = ReportForm()
    form.category_id.choices = [(c.id, c.name) for c in services.categories()]
    return form


@bp.route("/signalements/nouveau", methods=["GET", "POST"])
@upload_view("MAX_IMAGE_BYTES")
@login_required
@posting_limit
def new():
    form = _report_form()
    categories = services.categories()
    if form.validate_on_submit():
        tenant_id = current_tenant().id
        stored = None
        try:
            file = form.photo.data
            if file is not None and getattr(file, "filename", ""):
                data, kind = uploads.validate_image(file)
                stored = uploads.store_image(tenant_id, data, kind)
            report = services.create_report(
                _user(),
                category_id=form.category_id.data,
                description=form.description.data,
                address=form.address.data,
                latitude=form.latitude.data,
                longitude=form.longitude.data,
                image_name=stored,
                anonymous=form.anonymous.data,
            )
        except uploads.UploadError as exc:
            form.photo.errors = [*form.photo.errors, str(exc)]
        except ProblemError as exc:
            uploads.delete_image(tenant_id, stored)
            name = exc.field if exc.field in form else "description"
            form[name].errors = [*form[name].errors, str(exc)]
        else:
            db.session.commit()
            flash(
                _(
                    "Merci, votre signalement n° %(id)d est enregistré. Vous serez prévenu·e "
                    "à chaque étape de son traitement.",
                    id=report.id,
                ),
                "success",
            )
            return redirect(url_for("problems.show", report_id=report.id), code=303)
    return render_template(
        "problems/new.html",
        form=form,
        categories=categories,
        max_mb=uploads.format_megabytes(uploads.max_image_bytes()),
        map_centre=services.map_centre(),
    )


# --------------------------------------------------------------------------- staff


def _staff_user() -> User:
    return current_user._get_current_object()


def _staff_report(report_id: int, lock: bool = False) -> ProblemReport:
    report = services.get_report(report_id, lock=lock)
    if report is None:
        raise NotFound()
    if not services.can_handle(_staff_user(), report):
        abort_with(403, _("Ce signalement ne relève pas de vos services."))
    return report


@staff_bp.get("/", endpoint="index")
@staff_required()
def staff_index():
    user = _staff_user()
    query = services.parse_list_query(request.args)
    page = services.staff_reports(user, query)
    if not page.items and page.page > 1:  # past the last page
        raise NotFound()
    return render_template(
        "staff/problems/index.html",
        page=page,
        query=query,
        categories=services.categories(active_only=False),
        services_list=services.assignable_services(user),
        statuses=list(ProblemStatus),
        status_label=services.status_label,
        is_manager=services.is_manager(user),
    )


def _staff_page(report: ProblemReport, status_form=None, assign_form=None, hide_form=None):
    user = _staff_user()
    if status_form is None:
        status_form = StatusForm(formdata=None)
    status_form.status.choices = _status_choices(services.allowed_next_statuses(report))
    if assign_form is None:
        assign_form = AssignForm(formdata=None, data={"service_id": report.service_id})
    assign_form.service_id.choices = [(None, _("— Aucun service —"))] + [
        (s.id, s.name) for s in services.assignable_services(user)
    ]
    return render_template(
        "staff/problems/show.html",
        report=report,
        events=services.public_events(report, include_internal=True),
        status_form=status_form,
        assign_form=assign_form,
        hide_form=hide_form or HideForm(formdata=None),
        status_label=services.status_label,
        is_manager=services.is_manager(user),
        public_name=services.public_name(report),
    )


@staff_bp.get("/<int:report_id>", endpoint="show")
@staff_required()
def staff_show(report_id: int):
    return _staff_page(_staff_report(report_id))


@staff_bp.post("/<int:report_id>/statut")
@staff_required()
def change_status(report_id: int):
    report = _staff_report(report_id, lock=True)
    form = StatusForm()
    form.status.choices = _status_choices(ProblemStatus)
    if form.validate_on_submit():
        try:
            services.change_status(report, _staff_user(), form.status.data, form.comment.data)
        except ProblemError as exc:
            db.session.rollback()
            report = _staff_report(report_id)
            name = exc.field if exc.field in form else "status"
            form[name].errors = [*form[name].errors, str(exc)]
        else:
            db.session.commit()
            flash(
                _("Le statut est enregistré ; la personne qui a signalé le problème est prévenue."),
                "success",
            )
            return redirect(url_for("staff_problems.show", report_id=report.id), code=303)
    return _staff_page(report, status_form=form), 200


@staff_bp.post("/<int:report_id>/service")
@staff_required()
def assign(report_id: int):
    user = _staff_user()
    report = _staff_report(report_id, lock=True)
    form = AssignForm()
    form.service_id.choices = [(None, "")] + [
        (s.id, s.name) for s in services.assignable_services(user)
    ]
    if form.validate_on_submit():
        try:
            event = services.assign_service(report, user, form.service_id.data)
        except ProblemError as exc:
            db.session.rollback()
            report = _staff_report(report_id)
            form.service_id.errors = [*form.service_id.errors, str(exc)]
        else:
            db.session.commit()
            if event is None:
                flash(_("Aucun changement à enregistrer."), "info")
                return redirect(url_for("staff_problems.show", report_id=report.id), code=303)
            flash(_("Le signalement est confié au service choisi."), "success")
            # The agent may no longer see it once it leaves their services.
            if services.can_handle(user, report):
                return redirect(url_for("staff_problems.show", report_id=report.id), code=303)
            return redirect(url_for("staff_problems.index"), code=303)
    return _staff_page(report, assign_form=form), 200


@staff_bp.post("/<int:report_id>/masquer")
@staff_required(*MANAGERS)
def hide(report_id: int):
    return _moderate(
        report_id,
        services.hide_report,
        _("Le signalement n'apparaît plus sur les pages publiques."),
    )


@staff_bp.post("/<int:report_id>/afficher")
@staff_required(*MANAGERS)
def restore(report_id: int):
    return _moderate(
        report_id, services.restore_report, _("Le signalement est de nouveau visible du public.")
    )


def _moderate(report_id: int, action, done: str):
    """Hide or show again (``action``) with the reason given in the form."""
    report = _staff_report(report_id, lock=True)
    form = HideForm()
    if not form.validate_on_submit():
        return _staff_page(report, hide_form=form), 200
    try:
        action(report, _staff_user(), form.reason.data)
    except ProblemError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("staff_problems.show", report_id=report_id), code=303)


# --------------------------------------------------------------------------- categories


def _category_form(category: ProblemCategory | None) -> CategoryForm:
    if request.method == "GET" and category is not None:
        form = CategoryForm(obj=category)
    else:
        form = CategoryForm()
    form.service_id.choices = [(None, _("— Aucun service —"))] + [
        (s.id, s.name) for s in services.assignable_services(_staff_user())
    ]
    return form


@staff_bp.get("/categories")
@staff_required(StaffRole.ADMIN)
def categories():
    return render_template(
        "staff/problems/categories.html", categories=services.categories(active_only=False)
    )


@staff_bp.route("/categories/nouvelle", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def new_category():
    return _edit_category(None)


@staff_bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def edit_category(category_id: int):
    category = db.session.get(ProblemCategory, category_id)
    if category is None:
        raise NotFound()
    return _edit_category(category)


def _edit_category(category: ProblemCategory | None):
    form = _category_form(category)
    if form.validate_on_submit():
        try:
            services.save_category(
                category,
                _staff_user(),
                name=form.name.data,
                description=form.description.data,
                service_id=form.service_id.data,
                position=form.position.data or 0,
                is_active=form.is_active.data,
            )
        except ProblemError as exc:
            db.session.rollback()
            name = exc.field if exc.field in form else "name"
            form[name].errors = [*form[name].errors, str(exc)]
        else:
            db.session.commit()
            flash(_("La catégorie est enregistrée."), "success")
            return redirect(url_for("staff_problems.categories"), code=303)
    return render_template("staff/problems/category.html", form=form, category=category)
