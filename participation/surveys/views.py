"""Consultation pages: the public side (list, page, answer form, results, « Vous avez dit,
nous avons fait ») and the staff side under /gestion/consultations (questionnaire builder,
results with the free-text answers, CSV export, publication of results and outcome).

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from core import clock
from core.db import db
from core.errors import abort_with
from core.routing import arg_int
from core.security.limits import limiter
from participation.accounts.models import User
from participation.engagement.antispam import posting_key
from participation.staff.permissions import is_staff_member, staff_required
from participation.surveys import services
from participation.surveys.forms import (
    KINDS_WITH_OPTIONS,
    AnswerForm,
    ConfirmForm,
    OutcomeForm,
    QuestionForm,
    SectionForm,
    SurveyForm,
)
from participation.surveys.models import Survey
from participation.surveys.services import MANAGERS, SurveyError

bp = Blueprint(
    "surveys",
    __name__,
    static_folder="static",
    static_url_path="/consultations-static",
)
staff_bp = Blueprint("staff_surveys", __name__, url_prefix="/gestion/consultations")

ANSWER_LIMIT = "20 per minute;100 per hour"


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _survey_or_404(survey_id: int, lock: bool = False) -> Survey:
    survey = services.get_survey(survey_id, lock=lock)
    if survey is None or not (services.is_public(survey) or is_staff_member(_user())):
        raise NotFound()
    return survey


# --------------------------------------------------------------------------- public


@bp.get("/consultations")
def index():
    today = clock.paris_today()
    groups = services.grouped_public_surveys(today)
    return render_template(
        "surveys/index.html",
        groups=groups,
        today=today,
        counts=services.response_counts(
            [s.id for s in (*groups.open, *groups.upcoming, *groups.closed)]
        ),
    )


@bp.get("/consultations/<int:survey_id>")
def show(survey_id: int):
    survey = _survey_or_404(survey_id)
    user = _user()
    today = clock.paris_today()
    return render_template(
        "surveys/show.html",
        survey=survey,
        today=today,
        status=survey.status(today),
        refusal=services.answer_refusal(survey, user, today),
        answered=services.has_answered(survey, user),
        total=services.count_responses(survey),
        results_visible=services.results_visible(survey, user),
        outcome_visible=services.outcome_visible(survey, user),
        numbered=services.blocks(survey),
    )


@bp.route("/consultations/<int:survey_id>/repondre", methods=["GET", "POST"])
@login_required
@limiter.limit(ANSWER_LIMIT, key_func=posting_key, methods=["POST"])
def answer(survey_id: int):
    survey = _survey_or_404(survey_id)
    user = _user()
    today = clock.paris_today()
    refusal = services.answer_refusal(survey, user, today)
    if refusal:
        abort_with(403, refusal)
    answered = services.has_answered(survey, user)
    if answered and survey.is_anonymous:
        abort_with(403, str(services.ANONYMOUS_EDIT_REFUSAL))
    existing = services.own_response(survey, user)
    form = AnswerForm()
    sheet = None
    raw = services.sheet_from_response(survey, existing)
    if form.validate_on_submit():
        sheet = services.parse_sheet(survey, request.form)
        raw = sheet.raw
        if sheet.ok:
            try:
                services.submit_response(survey, user, sheet, today)
                db.session.commit()
            except SurveyError as exc:
                db.session.rollback()
                abort_with(409, str(exc))
            except IntegrityError:
                db.session.rollback()
                abort_with(409, _("Vous avez déjà répondu à cette consultation."))
            if existing is not None:
                flash(_("Votre réponse est modifiée. Merci !"), "success")
            else:
                flash(_("Merci, votre réponse est enregistrée."), "success")
            return redirect(url_for("surveys.show", survey_id=survey.id), code=303)
    elif request.method == "POST":
        flash(_("Le formulaire a expiré : merci de le renvoyer."), "error")
    return render_template(
        "surveys/answer.html",
        survey=survey,
        form=form,
        numbered=services.blocks(survey),
        raw=raw,
        errors=sheet.errors if sheet else {},
        editing=existing is not None,
        conditions={q.id: services.condition_of(survey, q) for q in survey.questions},
        numbers=services.question_numbers(survey),
    )


@bp.get("/consultations/<int:survey_id>/resultats")
def results(survey_id: int):
    survey = _survey_or_404(survey_id)
    user = _user()
    if not services.results_visible(survey, user):
        abort_with(404, _("Les résultats de cette consultation ne sont pas encore publiés."))
    return render_template(
        "surveys/results.html",
        survey=survey,
        results=services.compute_results(survey, with_texts=False),
        outcome_visible=services.outcome_visible(survey, user),
        staff_page=False,
    )


@bp.get("/consultations/<int:survey_id>/vous-avez-dit-nous-avons-fait")
def outcome(survey_id: int):
    survey = _survey_or_404(survey_id)
    user = _user()
    if not services.outcome_visible(survey, user):
        abort_with(404, _("La collectivité n'a pas encore publié ce qu'elle a décidé."))
    return render_template(
        "surveys/outcome.html",
        survey=survey,
        results_visible=services.results_visible(survey, user),
    )


# --------------------------------------------------------------------------- staff


def _staff_user() -> User:
    return current_user._get_current_object()


def _staff_survey(survey_id: int, lock: bool = False) -> Survey:
    survey = services.get_survey(survey_id, lock=lock)
    if survey is None:
        raise NotFound()
    return survey


def _field_error(form, exc: SurveyError, default: str) -> None:
    name = exc.field if exc.field and exc.field in form else default
    form[name].errors = [*form[name].errors, str(exc)]


def _survey_fields(form: SurveyForm) -> services.SurveyFields:
    return services.SurveyFields(
        title=form.title.data,
        summary=form.summary.data,
        description=form.description.data,
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        is_anonymous=bool(form.is_anonymous.data),
        phase_id=form.phase_id.data,
    )


@staff_bp.get("/", endpoint="index")
@staff_required()
def staff_index():
    surveys = services.staff_surveys()
    today = clock.paris_today()
    return render_template(
        "staff/surveys/index.html",
        surveys=surveys,
        today=today,
        counts=services.response_counts([s.id for s in surveys]),
        labels=services.STATUS_LABELS,
        can_manage=services.is_manager(_staff_user()),
    )


@staff_bp.route("/nouvelle", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def new():
    form = SurveyForm()
    form.set_phase_choices(services.process_choices())
    if request.method == "GET":
        today = clock.paris_today()
        form.opens_on.data = today
        form.closes_on.data = date.fromordinal(today.toordinal() + 30)
        if arg_int("phase_id"):
            form.phase_id.data = arg_int("phase_id")
    if form.validate_on_submit():
        try:
            survey = services.create_survey(_survey_fields(form), _staff_user())
        except SurveyError as exc:
            db.session.rollback()
            _field_error(form, exc, "title")
        else:
            db.session.commit()
            flash(_("La consultation est créée. Ajoutez-lui des questions."), "success")
            return redirect(url_for("staff_surveys.show", survey_id=survey.id), code=303)
    return render_template("staff/surveys/form.html", form=form, survey=None)


@staff_bp.get("/<int:survey_id>", endpoint="show")
@staff_required()
def staff_show(survey_id: int):
    survey = _staff_survey(survey_id)
    today = clock.paris_today()
    total = services.count_responses(survey)
    return render_template(
        "staff/surveys/show.html",
        survey=survey,
        numbered=services.blocks(survey),
        total=total,
        status=survey.status(today),
        labels=services.STATUS_LABELS,
        kind_labels=services.KIND_LABELS,
        conditions={q.id: services.condition_of(survey, q) for q in survey.questions},
        numbers=services.question_numbers(survey),
        can_manage=services.is_manager(_staff_user()),
        locked=total > 0,
        confirm_form=ConfirmForm(),
    )


@staff_bp.route("/<int:survey_id>/modifier", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def edit(survey_id: int):
    survey = _staff_survey(survey_id, lock=request.method == "POST")
    form = SurveyForm(obj=survey)
    form.set_phase_choices(services.process_choices())
    if form.validate_on_submit():
        try:
            changed = services.update_survey(survey, _survey_fields(form), _staff_user())
        except SurveyError as exc:
            db.session.rollback()
            survey = _staff_survey(survey_id)
            _field_error(form, exc, "title")
        else:
            db.session.commit()
            flash(
                _("La consultation est modifiée.") if changed else _("Aucun changement."),
                "success" if changed else "info",
            )
            return redirect(url_for("staff_surveys.show", survey_id=survey.id), code=303)
    return render_template("staff/surveys/form.html", form=form, survey=survey)


def _post_action(survey_id: int, action, success: str):
    survey = _staff_survey(survey_id, lock=True)
    if ConfirmForm().validate_on_submit():
        try:
            done = action(survey)
        except SurveyError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            if done is not False:
                flash(success, "success")
    return redirect(url_for("staff_surveys.show", survey_id=survey_id), code=303)


@staff_bp.post("/<int:survey_id>/publier")
@staff_required(*MANAGERS)
def publish(survey_id: int):
    return _post_action(
        survey_id,
        lambda s: services.publish_survey(s, _staff_user()),
        _("La consultation est publiée."),
    )


@staff_bp.post("/<int:survey_id>/supprimer")
@staff_required(*MANAGERS)
def delete(survey_id: int):
    survey = _staff_survey(survey_id, lock=True)
    if ConfirmForm().validate_on_submit():
        try:
            services.delete_survey(survey, _staff_user())
        except SurveyError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("staff_surveys.show", survey_id=survey_id), code=303)
        db.session.commit()
        flash(_("Le brouillon est supprimé."), "success")
        return redirect(url_for("staff_surveys.index"), code=303)
    return redirect(url_for("staff_surveys.show", survey_id=survey_id), code=303)


@staff_bp.post("/<int:survey_id>/resultats/publication")
@staff_required(*MANAGERS)
def results_publication(survey_id: int):
    wanted = request.form.get("publish") == "1"
    return _post_action(
        survey_id,
        lambda s: services.set_results_published(s, wanted, _staff_user()),
        _("Les résultats sont publiés.") if wanted else _("Les résultats ne sont plus publics."),
    )


# sections and questions: the same three routes each


#: What the staff reads once a part of the questionnaire is deleted.
PART_DELETED = {
    "section": _l(
        "La section est supprimée ; ses questions sont placées avant la première section."
    ),
    "question": _l("La question est supprimée."),
}


def _questionnaire_part_routes(part: str, page: Callable, find: Callable, delete: Callable) -> None:
    """Register the ``new_<part>``, ``edit_<part>`` and ``delete_<part>`` endpoints of a part
    of the questionnaire (a section or a question) under ``/<survey_id>/<part>s``: both
    parts are created, edited and deleted the same way, by the same roles. ``page`` shows
    and saves the form (the part's id, None for a new one), ``find`` returns the part of a
    survey or raises NotFound, ``delete`` is the service that deletes it."""
    id_arg = f"{part}_id"

    @staff_required(*MANAGERS)
    def new_part(survey_id: int):
        return page(survey_id, None)

    @staff_required(*MANAGERS)
    def edit_part(survey_id: int, **route_ids: int):
        return page(survey_id, route_ids[id_arg])

    @staff_required(*MANAGERS)
    def delete_part(survey_id: int, **route_ids: int):
        survey = _staff_survey(survey_id, lock=True)
        item = find(survey, route_ids[id_arg])
        deleted = str(PART_DELETED[part])
        return _post_action(survey_id, lambda s: delete(s, item, _staff_user()), deleted)

    base = f"/<int:survey_id>/{part}s"
    form_methods = ["GET", "POST"]
    staff_bp.add_url_rule(f"{base}/nouvelle", f"new_{part}", new_part, methods=form_methods)
    staff_bp.add_url_rule(f"{base}/<int:{id_arg}>", f"edit_{part}", edit_part, methods=form_methods)
    staff_bp.add_url_rule(
        f"{base}/<int:{id_arg}>/supprimer", f"delete_{part}", delete_part, methods=["POST"]
    )


# sections


def _section_or_404(survey: Survey, section_id: int):
    section = next((s for s in survey.sections if s.id == section_id), None)
    if section is None:
        raise NotFound()
    return section


def _section_page(survey_id: int, section_id: int | None):
    survey = _staff_survey(survey_id, lock=request.method == "POST")
    section = _section_or_404(survey, section_id) if section_id is not None else None
    form = SectionForm(obj=section)
    if form.validate_on_submit():
        try:
            services.save_section(
                survey, section, form.title.data, form.description.data, _staff_user()
            )
        except SurveyError as exc:
            db.session.rollback()
            survey = _staff_survey(survey_id)
            _field_error(form, exc, "title")
        else:
            db.session.commit()
            flash(_("La section est enregistrée."), "success")
            return redirect(url_for("staff_surveys.show", survey_id=survey_id), code=303)
    return render_template(
        "staff/surveys/section_form.html", form=form, survey=survey, section=section
    )


_questionnaire_part_routes("section", _section_page, _section_or_404, services.delete_section)


# questions


def _question_or_404(survey: Survey, question_id: int):
    question = next((q for q in survey.questions if q.id == question_id), None)
    if question is None:
        raise NotFound()
    return question


def _question_page(survey_id: int, question_id: int | None):
    survey = _staff_survey(survey_id, lock=request.method == "POST")
    question = _question_or_404(survey, question_id) if question_id is not None else None
    form = QuestionForm(obj=question)
    if request.method == "GET" and question is not None:
        form.kind.data = question.kind.value
        form.options.data = "\n".join(o.label for o in question.options)
    if request.method == "GET" and question is None and arg_int("section_id"):
        form.section_id.data = arg_int("section_id")
    form.set_choices(survey.sections, services.condition_choices(survey, question))
    if form.validate_on_submit():
        fields = services.QuestionFields(
            kind=form.kind.data,
            text=form.text.data,
            help_text=form.help_text.data,
            is_required=bool(form.is_required.data),
            section_id=form.section_id.data,
            options=form.options.data,
            max_choices=form.max_choices.data,
            scale_min_label=form.scale_min_label.data,
            scale_max_label=form.scale_max_label.data,
            condition_option_id=form.condition_option_id.data,
        )
        try:
            services.save_question(survey, question, fields, _staff_user())
        except SurveyError as exc:
            db.session.rollback()
            survey = _staff_survey(survey_id)
            question = _question_or_404(survey, question_id) if question_id else None
            form.set_choices(survey.sections, services.condition_choices(survey, question))
            _field_error(form, exc, "text")
        else:
            db.session.commit()
            flash(_("La question est enregistrée."), "success")
            return redirect(url_for("staff_surveys.show", survey_id=survey_id), code=303)
    return render_template(
        "staff/surveys/question_form.html",
        form=form,
        survey=survey,
        question=question,
        number=services.question_numbers(survey).get(question.id) if question else None,
        kinds_with_options=KINDS_WITH_OPTIONS,
        locked=services.count_responses(survey) > 0,
    )


_questionnaire_part_routes("question", _question_page, _question_or_404, services.delete_question)


@staff_bp.post("/<int:survey_id>/questions/<int:question_id>/deplacer")
@staff_required(*MANAGERS)
def move_question(survey_id: int, question_id: int):
    survey = _staff_survey(survey_id, lock=True)
    question = _question_or_404(survey, question_id)
    direction = "up" if request.form.get("direction") == "up" else "down"
    return _post_action(
        survey_id,
        lambda s: services.move_question(s, question, direction, _staff_user()),
        _("La question est déplacée."),
    )


# results, export, outcome


@staff_bp.get("/<int:survey_id>/resultats", endpoint="results")
@staff_required()
def staff_results(survey_id: int):
    survey = _staff_survey(survey_id)
    return render_template(
        "staff/surveys/results.html",
        survey=survey,
        results=services.compute_results(survey, with_texts=True),
        outcome_visible=bool(survey.outcome),
        can_manage=services.is_manager(_staff_user()),
        confirm_form=ConfirmForm(),
        staff_page=True,
    )


@staff_bp.get("/<int:survey_id>/export.csv")
@staff_required(*MANAGERS)
def export_csv(survey_id: int):
    survey = _staff_survey(survey_id)
    body, _count = services.export_csv(survey, _staff_user())
    db.session.commit()
    filename = f"consultation-{survey.id}-reponses-{clock.paris_today().isoformat()}.csv"
    response = current_app.response_class(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@staff_bp.route("/<int:survey_id>/bilan", methods=["GET", "POST"], endpoint="outcome")
@staff_required(*MANAGERS)
def staff_outcome(survey_id: int):
    survey = _staff_survey(survey_id, lock=request.method == "POST")
    form = OutcomeForm()
    if request.method == "GET":
        form.outcome.data = survey.outcome
        form.publish.data = survey.outcome_published_at is not None
    if form.validate_on_submit():
        try:
            changed = services.save_outcome(
                survey, form.outcome.data, bool(form.publish.data), _staff_user()
            )
        except SurveyError as exc:
            db.session.rollback()
            survey = _staff_survey(survey_id)
            _field_error(form, exc, "outcome")
        else:
            db.session.commit()
            flash(
                _("« Vous avez dit, nous avons fait » est enregistré.")
                if changed
                else _("Aucun changement."),
                "success" if changed else "info",
            )
            return redirect(url_for("staff_surveys.outcome", survey_id=survey_id), code=303)
    return render_template("staff/surveys/outcome_form.html", form=form, survey=survey)
