"""Public participatory budget pages under /budgets-participatifs (blueprint ``budgets``):
budgets, projects, submission, eligibility, ballot, results, follow-up.

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from core import clock, uploads
from core.db import db
from core.errors import abort_with, render_error
from core.security.limits import limiter
from participation.budgets import services
from participation.budgets.forms import ConfirmForm, EligibilityForm, ProjectForm
from participation.budgets.models import (
    Budget,
    BudgetPhase,
    BudgetProject,
    BudgetUpdate,
    EligibilityStatus,
)
from participation.budgets.services import AlreadyVoted, BudgetError
from participation.budgets.views.common import (
    field_error,
    neighbourhood_choices,
    selected_project_ids,
    signed_in_user,
)
from participation.engagement.antispam import posting_limit
from participation.staff.permissions import is_staff_member
from tenants.context import current_tenant

# The feature's static files (participation/budgets/static) live beside this package.
FEATURE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

bp = Blueprint(
    "budgets",
    __name__,
    url_prefix="/budgets-participatifs",
    static_folder="static",
    static_url_path="/static",
    root_path=FEATURE_ROOT,
)

ELIGIBILITY_LIMIT = "10 per minute;30 per hour"


def _budget_or_404(budget_id: int) -> Budget:
    budget = services.get_budget(budget_id)
    if budget is None or not (services.is_public(budget) or is_staff_member(signed_in_user())):
        raise NotFound()
    return budget


def _project_or_404(project_id: int) -> BudgetProject:
    project = services.get_project(project_id)
    if project is None or not (
        services.is_public(project.budget) or is_staff_member(signed_in_user())
    ):
        raise NotFound()
    return project


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
    user = signed_in_user()
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
        abort_with(403, _("Le dépôt des projets n'est pas ouvert pour ce budget."))
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
                signed_in_user(),
                title=form.title.data,
                description=form.description.data,
                neighbourhood_id=form.neighbourhood_id.data,
                proposed_cost=form.proposed_cost.data,
                today=today,
            )
        except BudgetError as exc:
            field_error(form, exc, "title")
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
        following=services.is_following(project, signed_in_user()),
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
        now_following = services.toggle_follow(project, signed_in_user())
        db.session.commit()
        flash(
            _("Vous suivez ce projet : vous serez prévenu·e de chaque actualité.")
            if now_following
            else _("Vous ne suivez plus ce projet."),
            "success",
        )
    return redirect(page, code=303)


@bp.route("/<int:budget_id>/eligibilite", methods=["GET", "POST"])
@login_required
@limiter.limit(ELIGIBILITY_LIMIT, methods=["POST"])
def eligibility(budget_id: int):
    budget = _budget_or_404(budget_id)
    today = clock.paris_today()
    user = signed_in_user()
    existing = services.eligibility_of(budget, user)
    if existing is not None and existing.status != EligibilityStatus.REJECTED:
        return redirect(url_for("budgets.vote", budget_id=budget.id), code=303)
    if budget.phase(today) not in (BudgetPhase.ANALYSIS, BudgetPhase.VOTE):
        abort_with(403, _("Les inscriptions au vote ne sont pas ouvertes pour ce budget."))
    form = EligibilityForm()
    form.neighbourhood_id.choices = neighbourhood_choices(budget)
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
            if not field_error(form, exc):
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
    chosen = set(selected_project_ids()) if request.method == "POST" else set()
    if chosen and services.quick_cast(budget_id, current_user.id, chosen, today):
        # The common case in one statement, every rule checked by it (CSRF was checked
        # before the view). Anything else, refusals included, takes the path below.
        db.session.commit()
        return _ballot_recorded(budget_id)
    budget = _budget_or_404(budget_id)
    user = signed_in_user()
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
        abort_with(403, _("Le vote n'est pas ouvert pour ce budget."))
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
    if not services.has_voted(budget, signed_in_user()):
        return redirect(url_for("budgets.vote", budget_id=budget.id), code=303)
    return render_template("budgets/voted.html", budget=budget)


@bp.get("/<int:budget_id>/resultats")
def results(budget_id: int):
    budget = _budget_or_404(budget_id)
    today = clock.paris_today()
    if not services.results_public(budget, today) and not is_staff_member(signed_in_user()):
        abort_with(404, _("Les résultats seront publiés après la clôture du vote."))
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
