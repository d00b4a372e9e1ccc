"""Staff participatory budget pages under /gestion/budgets (blueprint ``staff_budgets``):
settings, analysis, census list and review queue, register, paper ballots, implementation
follow-up.

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from core import clock, uploads
from core.db import db
from core.errors import render_error
from core.routing import parse_int
from core.security.body_limits import upload_view
from participation.accounts.models import StaffRole, User
from participation.budgets import services
from participation.budgets.forms import (
    AnalysisForm,
    BudgetForm,
    CensusForm,
    ConfirmForm,
    MilestoneForm,
    PaperBallotForm,
    ProgressForm,
    UpdateForm,
)
from participation.budgets.models import (
    Budget,
    BudgetMilestone,
    BudgetProject,
    Eligibility,
    ProjectStatus,
    VotingRule,
)
from participation.budgets.services import BudgetError
from participation.budgets.views.common import (
    field_error,
    neighbourhood_choices,
    selected_project_ids,
)
from participation.staff.permissions import staff_required
from tenants.context import current_tenant
from tenants.plan_limits import require_feature

staff_bp = Blueprint("staff_budgets", __name__, url_prefix="/gestion/budgets")

MANAGERS = (StaffRole.ADMIN,)
WORKERS = (StaffRole.ADMIN, StaffRole.AGENT)


@staff_bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    return render_error(413, _("Le fichier envoyé est trop volumineux."))


def _staff_user() -> User:
    return current_user._get_current_object()


def _staff_budget(budget_id: int) -> Budget:
    budget = services.get_budget(budget_id)
    if budget is None:
        raise NotFound()
    return budget


def _staff_project(project_id: int) -> BudgetProject:
    project = services.get_project(project_id)
    if project is None:
        raise NotFound()
    return project


@staff_bp.get("/", endpoint="index")
@staff_required()
def staff_index():
    today = clock.paris_today()
    rows = []
    for budget in services.all_budgets():
        rows.append((budget, budget.phase(today), len(services.review_queue(budget))))
    return render_template("staff/budgets/index.html", rows=rows)


def _budget_form_choices(form: BudgetForm) -> list:
    from participation.processes.services import staff_processes

    processes, _total = staff_processes(per_page=200)
    form.process_id.choices = [(None, _("— Aucune —"))] + [(p.id, p.title) for p in processes]
    return services.neighbourhoods()


def _fields(form: BudgetForm, neighbourhoods) -> services.BudgetFields:
    envelopes = {}
    for n in neighbourhoods:
        raw = (request.form.get(f"envelope_{n.id}") or "").replace(" ", "").replace("\u202f", "")
        if raw:
            try:
                envelopes[n.id] = parse_int(raw, minimum=0, maximum=10**12)
                if envelopes[n.id] is None:
                    raise ValueError(raw)
            except ValueError:
                raise BudgetError(
                    _(
                        "Le montant du quartier %(name)s doit être un nombre entier d'euros.",
                        name=n.name,
                    ),
                    "split_by_neighbourhood",
                ) from None
    return services.BudgetFields(
        title=form.title.data or "",
        description=form.description.data or "",
        process_id=form.process_id.data,
        rule=VotingRule(form.rule.data or VotingRule.KNAPSACK.value),
        envelope=form.envelope.data,
        split_by_neighbourhood=form.split_by_neighbourhood.data,
        envelopes=envelopes,
        min_choices=form.min_choices.data,
        max_choices=form.max_choices.data,
        vote_per_neighbourhood=form.vote_per_neighbourhood.data,
        minimum_age=form.minimum_age.data,
        require_residency=form.require_residency.data,
        require_census=form.require_census.data,
        eligible_population=form.eligible_population.data,
        submission_starts_on=form.submission_starts_on.data,
        submission_ends_on=form.submission_ends_on.data,
        vote_starts_on=form.vote_starts_on.data,
        vote_ends_on=form.vote_ends_on.data,
        implementation_starts_on=form.implementation_starts_on.data,
    )


@staff_bp.route("/nouveau", methods=["GET", "POST"])
@staff_required(*MANAGERS)
@require_feature("budget_module")
def new():
    form = BudgetForm()
    neighbourhoods = _budget_form_choices(form)
    if form.validate_on_submit():
        try:
            budget = services.create_budget(_fields(form, neighbourhoods), _staff_user())
        except BudgetError as exc:
            field_error(form, exc, "title")
        else:
            db.session.commit()
            flash(_("Le budget est créé (non publié)."), "success")
            return redirect(url_for("staff_budgets.show", budget_id=budget.id), code=303)
    return render_template(
        "staff/budgets/form.html",
        form=form,
        budget=None,
        neighbourhoods=neighbourhoods,
        amounts={},
    )


@staff_bp.route("/<int:budget_id>/modifier", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def edit(budget_id: int):
    budget = _staff_budget(budget_id)
    form = BudgetForm(obj=budget)
    if request.method == "GET":
        form.rule.data = budget.rule.value
    neighbourhoods = _budget_form_choices(form)
    amounts = {e.neighbourhood_id: e.amount for e in budget.envelopes}
    if form.validate_on_submit():
        try:
            services.update_budget(budget, _fields(form, neighbourhoods), _staff_user())
        except BudgetError as exc:
            db.session.rollback()
            field_error(form, exc, "title")
            amounts = {n.id: request.form.get(f"envelope_{n.id}", "") for n in neighbourhoods}
        else:
            db.session.commit()
            flash(_("Le budget est enregistré."), "success")
            return redirect(url_for("staff_budgets.show", budget_id=budget.id), code=303)
    return render_template(
        "staff/budgets/form.html",
        form=form,
        budget=budget,
        neighbourhoods=neighbourhoods,
        amounts=amounts,
    )


@staff_bp.get("/<int:budget_id>", endpoint="show")
@staff_required()
def staff_show(budget_id: int):
    budget = _staff_budget(budget_id)
    today = clock.paris_today()
    return render_template(
        "staff/budgets/show.html",
        budget=budget,
        phase=budget.phase(today),
        projects=services.public_projects(budget),
        queue=services.review_queue(budget),
        census_size=services.census_size(budget),
        results=services.compute_results(budget),
        confirm_form=ConfirmForm(),
    )


@staff_bp.post("/<int:budget_id>/publier")
@staff_required(*MANAGERS)
def publish(budget_id: int):
    budget = _staff_budget(budget_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.publish_budget(budget, _staff_user())
        except BudgetError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Le budget est publié."), "success")
    return redirect(url_for("staff_budgets.show", budget_id=budget.id), code=303)


@staff_bp.route("/projets/<int:project_id>/analyse", methods=["GET", "POST"])
@staff_required(*WORKERS)
def analyse(project_id: int):
    project = _staff_project(project_id)
    form = AnalysisForm()
    if request.method == "GET":
        if project.status != ProjectStatus.SUBMITTED:
            form.feasible.data = "yes" if project.status == ProjectStatus.FEASIBLE else "no"
        form.estimated_cost.data = project.estimated_cost or project.proposed_cost
        form.reason.data = project.analysis_reason
    if form.validate_on_submit():
        try:
            services.analyse_project(
                project,
                _staff_user(),
                feasible=form.feasible.data == "yes",
                estimated_cost=form.estimated_cost.data,
                reason=form.reason.data,
                today=clock.paris_today(),
            )
        except BudgetError as exc:
            if not field_error(form, exc):
                flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("L'analyse du projet est publiée."), "success")
            return redirect(url_for("staff_budgets.show", budget_id=project.budget_id), code=303)
    return render_template("staff/budgets/analyse.html", form=form, project=project)


@staff_bp.route("/<int:budget_id>/recensement", methods=["GET", "POST"])
@upload_view(services.CENSUS_MAX_BYTES)
@staff_required(*MANAGERS)
def census(budget_id: int):
    budget = _staff_budget(budget_id)
    form = CensusForm()
    report = None
    if form.validate_on_submit():
        file = form.file.data
        if file is None or not getattr(file, "filename", ""):
            form.file.errors = [_("Choisissez le fichier CSV de la liste des habitants.")]
        else:
            try:
                report = services.import_census(
                    budget, file.stream.read(services.CENSUS_MAX_BYTES + 1), _staff_user()
                )
            except BudgetError as exc:
                db.session.rollback()
                form.file.errors = [str(exc)]
            else:
                db.session.commit()
                flash(
                    _(
                        "%(n)d personnes sont sur la liste des habitants de ce budget.",
                        n=report.count,
                    ),
                    "success",
                )
    return render_template(
        "staff/budgets/census.html",
        form=form,
        budget=budget,
        report=report,
        census_size=services.census_size(budget),
    )


@staff_bp.get("/<int:budget_id>/verifications")
@staff_required(*MANAGERS)
def review(budget_id: int):
    budget = _staff_budget(budget_id)
    return render_template(
        "staff/budgets/review.html",
        budget=budget,
        queue=services.review_queue(budget),
        form=ConfirmForm(),
    )


@staff_bp.post("/verifications/<int:eligibility_id>")
@staff_required(*MANAGERS)
def decide(eligibility_id: int):
    eligibility = db.session.get(Eligibility, eligibility_id)
    if eligibility is None:
        raise NotFound()
    decision = request.form.get("decision")
    if ConfirmForm().validate_on_submit() and decision in ("approve", "reject"):
        try:
            services.review_eligibility(eligibility, decision == "approve", _staff_user())
        except BudgetError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(
                _("L'inscription est validée.")
                if decision == "approve"
                else _("L'inscription est refusée."),
                "success",
            )
    return redirect(url_for("staff_budgets.review", budget_id=eligibility.budget_id), code=303)


@staff_bp.get("/<int:budget_id>/registre")
@staff_required(*MANAGERS)
def register(budget_id: int):
    budget = _staff_budget(budget_id)
    return render_template(
        "staff/budgets/register.html", budget=budget, voters=services.register(budget)
    )


@staff_bp.route("/<int:budget_id>/bulletins-papier", methods=["GET", "POST"])
@staff_required(*WORKERS)
def paper(budget_id: int):
    budget = _staff_budget(budget_id)
    today = clock.paris_today()
    form = PaperBallotForm()
    form.neighbourhood_id.choices = neighbourhood_choices(budget)
    selected: set[int] = set()
    error = None
    if request.method == "GET":
        form.polling_point.data = request.args.get("bureau", "")
    if form.validate_on_submit():
        selected = set(selected_project_ids())
        try:
            services.record_paper_ballot(
                budget,
                _staff_user(),
                polling_point=form.polling_point.data,
                voter_name=form.voter_name.data,
                birth_date=form.birth_date.data,
                area_id=form.neighbourhood_id.data,
                selected_ids=selected,
                today=today,
            )
        except BudgetError as exc:
            db.session.rollback()
            if not field_error(form, exc):
                error = str(exc)
        else:
            db.session.commit()
            flash(_("Le bulletin papier est enregistré."), "success")
            return redirect(
                url_for("staff_budgets.paper", budget_id=budget.id, bureau=form.polling_point.data),
                code=303,
            )
    return render_template(
        "staff/budgets/paper.html",
        budget=budget,
        form=form,
        projects=services.feasible_projects(budget),
        selected=selected,
        error=error,
        phase=budget.phase(today),
        neighbourhoods={n.id: n for n in services.neighbourhoods()},
    )


@staff_bp.route("/projets/<int:project_id>/suivi", methods=["GET", "POST"])
@upload_view("MAX_IMAGE_BYTES")
@staff_required(*WORKERS)
def follow_up(project_id: int):
    project = _staff_project(project_id)
    today = clock.paris_today()
    user = _staff_user()
    progress_form = ProgressForm(prefix="progress", obj=project)
    milestone_form = MilestoneForm(prefix="milestone")
    update_form = UpdateForm(prefix="update")
    action = request.form.get("action")
    if request.method == "POST":
        done = False
        try:
            if action == "progress" and progress_form.validate_on_submit():
                services.set_progress(project, progress_form.progress.data, user, today)
                done = _("L'avancement est enregistré.")
            elif action == "milestone" and milestone_form.validate_on_submit():
                services.add_milestone(
                    project, milestone_form.title.data, milestone_form.due_on.data, user, today
                )
                done = _("L'étape est ajoutée.")
            elif action == "milestone_done" and ConfirmForm().validate_on_submit():
                milestone = db.session.get(
                    BudgetMilestone, request.form.get("milestone_id", type=int) or 0
                )
                if milestone is None or milestone.project_id != project.id:
                    raise NotFound()
                services.complete_milestone(milestone, user, today)
                done = _("L'étape est mise à jour.")
            elif action == "update" and update_form.validate_on_submit():
                stored = None
                file = update_form.photo.data
                if file is not None and getattr(file, "filename", ""):
                    try:
                        stored = uploads.store_image(
                            current_tenant().id, *uploads.validate_image(file)
                        )
                    except uploads.UploadError as exc:
                        raise BudgetError(str(exc), "photo") from None
                try:
                    services.post_update(
                        project,
                        update_form.body.data,
                        user,
                        today,
                        photo_path=stored,
                        photo_alt=update_form.photo_alt.data,
                    )
                except BudgetError:
                    uploads.delete_image(current_tenant().id, stored)
                    raise
                done = _(
                    "L'actualité est publiée ; les personnes qui suivent le projet sont prévenues."
                )
        except BudgetError as exc:
            db.session.rollback()
            target = {
                "progress": progress_form,
                "milestone": milestone_form,
                "update": update_form,
            }.get(action)
            if target is None or not field_error(target, exc):
                flash(str(exc), "error")
        if done:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("staff_budgets.follow_up", project_id=project.id), code=303)
    return render_template(
        "staff/budgets/follow_up.html",
        project=project,
        budget=project.budget,
        progress_form=progress_form,
        milestone_form=milestone_form,
        update_form=update_form,
        confirm_form=ConfirmForm(),
        retained=project.id in services.retained_project_ids(project.budget),
        phase=project.budget.phase(today),
    )
