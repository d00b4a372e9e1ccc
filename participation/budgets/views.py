"""Participatory budget pages: the public side under /budgets-participatifs (budgets,
projects, submission, eligibility, ballot, results, follow-up) and the staff side under
/gestion/budgets (settings, analysis, census list and review queue, register, paper
ballots, implementation follow-up).

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

from billing.limits import require_feature
from core import clock, uploads
from core.db import db
from core.errors import render_error
from core.routing import parse_int
from core.security.body_limits import upload_view
from core.security.limits import limiter
from participation.accounts.models import StaffRole, User
from participation.budgets import services
from participation.budgets.forms import (
    AnalysisForm,
    BudgetForm,
    CensusForm,
    ConfirmForm,
    EligibilityForm,
    MilestoneForm,
    PaperBallotForm,
    ProgressForm,
    ProjectForm,
    UpdateForm,
)
from participation.budgets.models import (
    Budget,
    BudgetMilestone,
    BudgetPhase,
    BudgetProject,
    BudgetUpdate,
    Eligibility,
    EligibilityStatus,
    ProjectStatus,
    VotingRule,
)
from participation.budgets.services import AlreadyVoted, BudgetError
from participation.engagement.antispam import posting_limit
from participation.staff.permissions import is_staff_member, staff_required
from tenants.context import current_tenant

bp = Blueprint(
    "budgets",
    __name__,
    url_prefix="/budgets-participatifs",
    static_folder="static",
    static_url_path="/static",
)
staff_bp = Blueprint("staff_budgets", __name__, url_prefix="/gestion/budgets")

ELIGIBILITY_LIMIT = "10 per minute;30 per hour"
MANAGERS = (StaffRole.ADMIN,)
WORKERS = (StaffRole.ADMIN, StaffRole.AGENT)


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _abort(code: int, message: str):
    try:
        abort(code)
    except HTTPException as exc:
        exc.pnyx_message = message
        raise


@staff_bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    return render_error(413, _("Le fichier envoyé est trop volumineux."))


def _budget_or_404(budget_id: int) -> Budget:
    budget = services.get_budget(budget_id)
    if budget is None or not (services.is_public(budget) or is_staff_member(_user())):
        raise NotFound()
    return budget


def _project_or_404(project_id: int) -> BudgetProject:
    project = services.get_project(project_id)
    if project is None or not (services.is_public(project.budget) or is_staff_member(_user())):
        raise NotFound()
    return project


def _field_error(form, exc: BudgetError, default: str | None = None) -> bool:
    """Put the message on its field; False when the form has no such field."""
    name = exc.field if exc.field in form else default
    if name is None or name not in form:
        return False
    form[name].errors = [*form[name].errors, str(exc)]
    return True


def _selected_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("project"):
        # ASCII digits within PostgreSQL's range (int() takes "١" and 10^20).
        if (project_id := parse_int(value)) is not None:
            ids.append(project_id)
    return ids


# --------------------------------------------------------------------------- public


@bp.get("/")
def index():
    today = clock.paris_today()
    budgets = [(b, b.phase(today)) for b in services.public_budgets()]
    return render_template("budgets/index.html", budgets=budgets, today=today)


@bp.get("/<int:budget_id>")
def show(budget_id: int):
    budget = _budget_or_404(budget_id)
    today = clock.paris_today()
    phase = budget.phase(today)
    user = _user()
    return render_template(
        "budgets/show.html",
        budget=budget,
        phase=phase,
        projects=services.public_projects(budget),
        envelopes=services.envelopes(budget),
        neighbourhoods={n.id: n for n in services.neighbourhoods()},
        periods=services.phase_periods(budget),
        eligibility=services.eligibility_of(budget, user),
        has_voted=services.has_voted(budget, user),
        results_public=services.results_public(budget, today),
        retained=services.retained_project_ids(budget)
        if services.results_public(budget, today)
        else set(),
    )


@bp.route("/<int:budget_id>/projets/nouveau", methods=["GET", "POST"])
@login_required
@posting_limit
def new_project(budget_id: int):
    budget = _budget_or_404(budget_id)
    today = clock.paris_today()
    if budget.phase(today) != BudgetPhase.SUBMISSION:
        _abort(403, _("Le dépôt des projets n'est pas ouvert pour ce budget."))
    form = ProjectForm()
    envelopes = services.envelopes(budget)
    choices = [(n.id, n.name) for n in services.neighbourhoods()]
    if budget.split_by_neighbourhood:
        form.neighbourhood_id.choices = [(None, _("— Choisissez —"))] + [
            c for c in choices if c[0] in envelopes
        ]
    else:
        form.neighbourhood_id.choices = [(None, _("— Tout le territoire —"))] + choices
    if form.validate_on_submit():
        try:
            project = services.submit_project(
                budget,
                _user(),
                title=form.title.data,
                description=form.description.data,
                neighbourhood_id=form.neighbourhood_id.data,
                proposed_cost=form.proposed_cost.data,
                today=today,
            )
        except BudgetError as exc:
            _field_error(form, exc, "title")
        else:
            db.session.commit()
            flash(
                _("Votre projet est déposé. Les services de la collectivité vont l'analyser."),
                "success",
            )
            return redirect(url_for("budgets.project", project_id=project.id), code=303)
    return render_template("budgets/project_form.html", form=form, budget=budget)


@bp.get("/projets/<int:project_id>")
def project(project_id: int):
    project = _project_or_404(project_id)
    budget = project.budget
    today = clock.paris_today()
    results_public = services.results_public(budget, today)
    retained = results_public and project.id in services.retained_project_ids(budget)
    return render_template(
        "budgets/project.html",
        project=project,
        budget=budget,
        results_public=results_public,
        retained=retained,
        following=services.is_following(project, _user()),
        follow_form=ConfirmForm() if current_user.is_authenticated else None,
    )


@bp.get("/medias/<filename>")
def photo(filename: str):
    """A photo of a follow-up update (core.uploads: the current tenant's files only).

    Only a name a follow-up update uses: the images folder also holds the photos of
    reports and proposals, which moderation can hide."""
    if not uploads.IMAGE_NAME_RE.fullmatch(filename) or not db.session.scalar(
        sa.select(sa.exists().where(BudgetUpdate.photo_path == filename))
    ):
        raise NotFound()
    return uploads.send_image(current_tenant().id, filename)


@bp.post("/projets/<int:project_id>/suivre")
def follow(project_id: int):
    page = url_for("budgets.project", project_id=project_id)
    if not current_user.is_authenticated:
        flash(_("Connectez-vous pour suivre ce projet."), "info")
        return redirect(url_for("accounts.login", next=page), code=303)
    project = _project_or_404(project_id)
    if ConfirmForm().validate_on_submit():
        now_following = services.toggle_follow(project, _user())
        db.session.commit()
        flash(
            _("Vous suivez ce projet : vous serez prévenu·e de chaque actualité.")
            if now_following
            else _("Vous ne suivez plus ce projet."),
            "success",
        )
    return redirect(page, code=303)


def _neighbourhood_choices(budget: Budget) -> list[tuple]:
    envelopes = services.envelopes(budget)
    return [(None, _("— Choisissez —"))] + [
        (n.id, n.name) for n in services.neighbourhoods() if n.id in envelopes
    ]


@bp.route("/<int:budget_id>/eligibilite", methods=["GET", "POST"])
@login_required
@limiter.limit(ELIGIBILITY_LIMIT, methods=["POST"])
def eligibility(budget_id: int):
    budget = _budget_or_404(budget_id)
    today = clock.paris_today()
    user = _user()
    existing = services.eligibility_of(budget, user)
    if existing is not None and existing.status != EligibilityStatus.REJECTED:
        return redirect(url_for("budgets.vote", budget_id=budget.id), code=303)
    if budget.phase(today) not in (BudgetPhase.ANALYSIS, BudgetPhase.VOTE):
        _abort(403, _("Les inscriptions au vote ne sont pas ouvertes pour ce budget."))
    form = EligibilityForm()
    form.neighbourhood_id.choices = _neighbourhood_choices(budget)
    if form.validate_on_submit():
        try:
            result = services.declare_eligibility(
                budget,
                user,
                full_name=form.full_name.data,
                birth_date=form.birth_date.data,
                resident=form.resident.data,
                neighbourhood_id=form.neighbourhood_id.data,
                today=today,
            )
        except BudgetError as exc:
            if not _field_error(form, exc):
                flash(str(exc), "error")
        else:
            db.session.commit()
            if result.status == EligibilityStatus.PENDING:
                flash(
                    _(
                        "Votre nom ressemble beaucoup à une personne de la liste des habitants, "
                        "sans être identique : la collectivité va vérifier votre inscription. "
                        "Vous serez prévenu·e."
                    ),
                    "info",
                )
            else:
                flash(_("Votre participation est validée : vous pouvez voter."), "success")
            return redirect(url_for("budgets.vote", budget_id=budget.id), code=303)
    return render_template("budgets/eligibility.html", form=form, budget=budget, existing=existing)


@bp.route("/<int:budget_id>/vote", methods=["GET", "POST"])
@login_required
def vote(budget_id: int):
    today = clock.paris_today()
    chosen = set(_selected_ids()) if request.method == "POST" else set()
    if chosen and services.quick_cast(budget_id, current_user.id, chosen, today):
        # The common case in one statement, every rule checked by it (CSRF was checked
        # before the view). Anything else, refusals included, takes the path below.
        db.session.commit()
        return _ballot_recorded(budget_id)
    budget = _budget_or_404(budget_id)
    user = _user()
    phase = budget.phase(today)
    # A POST needs no look-up here: the register insert itself refuses a second ballot.
    if request.method == "GET" and services.has_voted(budget, user):
        return render_template("budgets/voted.html", budget=budget)
    eligibility = services.voter_state(budget, user)
    if (eligibility is None or eligibility.status == EligibilityStatus.REJECTED) and phase in (
        BudgetPhase.ANALYSIS,
        BudgetPhase.VOTE,
    ):
        return redirect(url_for("budgets.eligibility", budget_id=budget.id), code=303)
    if phase != BudgetPhase.VOTE:
        _abort(403, _("Le vote n'est pas ouvert pour ce budget."))
    if eligibility is None or eligibility.status != EligibilityStatus.APPROVED:
        return render_template("budgets/pending.html", budget=budget)
    area_id = eligibility.neighbourhood_id if budget.vote_per_neighbourhood else None
    form = ConfirmForm()
    selected = chosen  # kept on the page when the ballot is refused
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                # Plain rows on this hot path: the ballot needs ids, costs and quartiers.
                services.cast_ballot(
                    budget,
                    user,
                    selected,
                    today,
                    eligibility=eligibility,
                    projects=services.ballot_lines(budget, area_id),
                )
            except AlreadyVoted:
                db.session.rollback()
                return _already_voted(budget)
            except BudgetError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                db.session.commit()
                return _ballot_recorded(budget_id)
        else:
            error = _("Votre session a expiré : rechargez la page et votez à nouveau.")
    projects = services.ballot_projects(budget, area_id)
    envelopes = services.envelopes(budget)
    status = 422 if error else 200
    return (
        render_template(
            "budgets/vote.html",
            budget=budget,
            projects=projects,
            form=form,
            selected=selected,
            error=error,
            envelopes=envelopes,
            area=services.neighbourhood(area_id),
            neighbourhoods={n.id: n for n in services.neighbourhoods()},
        ),
        status,
    )


def _ballot_recorded(budget_id: int):
    flash(_("Merci, votre vote est enregistré. Il est définitif."), "success")
    return redirect(url_for("budgets.voted", budget_id=budget_id), code=303)


def _already_voted(budget: Budget):
    return render_error(409, services.already_voted_message())


@bp.get("/<int:budget_id>/vote/merci")
@login_required
def voted(budget_id: int):
    budget = _budget_or_404(budget_id)
    if not services.has_voted(budget, _user()):
        return redirect(url_for("budgets.vote", budget_id=budget.id), code=303)
    return render_template("budgets/voted.html", budget=budget)


@bp.get("/<int:budget_id>/resultats")
def results(budget_id: int):
    budget = _budget_or_404(budget_id)
    today = clock.paris_today()
    if not services.results_public(budget, today) and not is_staff_member(_user()):
        _abort(404, _("Les résultats seront publiés après la clôture du vote."))
    results = services.compute_results(budget)
    return render_template(
        "budgets/results.html",
        budget=budget,
        results=results,
        preview=not services.results_public(budget, today),
        tie_rule=services.TIE_RULE,
        charts=_charts(results),
    )


def _charts(results) -> list:
    """One SVG bar chart of the votes per pool (the table below each is the alternative)."""
    from core.charts import bar_chart

    charts = []
    for pool in results.pools:
        title = (
            _("Voix par projet — quartier %(name)s", name=pool.neighbourhood.name)
            if pool.neighbourhood
            else _("Voix par projet")
        )
        items = [(row.project.title, row.votes) for row in pool.rows]
        charts.append(bar_chart(title, items, unit=_("voix")) if items else None)
    return charts


# --------------------------------------------------------------------------- staff


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
            _field_error(form, exc, "title")
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
            _field_error(form, exc, "title")
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
            if not _field_error(form, exc):
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
    form.neighbourhood_id.choices = _neighbourhood_choices(budget)
    selected: set[int] = set()
    error = None
    if request.method == "GET":
        form.polling_point.data = request.args.get("bureau", "")
    if form.validate_on_submit():
        selected = set(_selected_ids())
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
            if not _field_error(form, exc):
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
            if target is None or not _field_error(target, exc):
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
