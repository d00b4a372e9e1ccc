"""Proposal pages: the public side (lists, page, submission, edition, withdrawal, support)
and the staff side under /gestion/propositions (dashboard, list with bulk status changes,
answer and assignment, CSV export, status labels).

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

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
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from core import clock, uploads
from core.db import db
from core.errors import abort_with, render_error
from core.i18n import date_fr
from core.security.auth import safe_next
from core.security.body_limits import upload_view
from participation.accounts.models import Service, StaffRole, User
from participation.engagement.antispam import posting_limit
from participation.proposals import export, services
from participation.proposals.forms import (
    AnswerForm,
    AssignForm,
    BulkStatusForm,
    ConfirmForm,
    ProposalForm,
    ProposalSettingsForm,
    SupportForm,
    status_choices,
)
from participation.proposals.models import Proposal, ProposalStatus
from participation.proposals.services import ProposalError
from participation.staff.permissions import is_staff_member, staff_required
from tenants.context import current_tenant

bp = Blueprint(
    "proposals",
    __name__,
    static_folder="static",
    static_url_path="/propositions-static",
)
staff_bp = Blueprint("staff_proposals", __name__, url_prefix="/gestion/propositions")


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    size = uploads.format_megabytes(uploads.max_image_bytes())
    return render_error(
        413, _("La photo envoyée est trop volumineuse : %(size)s Mo au plus.", size=size)
    )


# --------------------------------------------------------------------------- lookups


def _process_or_404(process_id: int):
    process = services.get_process(process_id)
    if process is None or not (services.process_is_public(process) or is_staff_member(_user())):
        raise NotFound()
    return process


def _proposal_or_404(proposal_id: int, proposal: Proposal | None = None) -> Proposal:
    proposal = proposal or services.get_proposal(proposal_id)
    if proposal is None:
        raise NotFound()
    user = _user()
    if services.is_public(proposal) or services.is_manager(user):
        return proposal
    if user is not None and services.can_answer(user, proposal):
        return proposal
    if proposal.hidden_at is not None:
        abort_with(404, _("Cette proposition a été masquée par la modération."))
    raise NotFound()


def _form_choices(form: ProposalForm) -> None:
    themes, neighbourhoods = services.themes_and_neighbourhoods()
    form.theme_id.choices = [(None, _("— Aucun thème —"))] + [(t.id, t.name) for t in themes]
    form.neighbourhood_id.choices = [(None, _("— Tout le territoire —"))] + [
        (n.id, n.name) for n in neighbourhoods
    ]


def _uploaded_image(form: ProposalForm) -> tuple[bytes, str] | None:
    """The image sent with the form (checked), None if none; errors go on the field."""
    file = form.image.data
    if file is None or not getattr(file, "filename", ""):
        return None
    return services.read_image(file.stream, file.filename)


def _field_error(form, exc: ProposalError, default: str) -> None:
    name = exc.field if exc.field in form else default
    form[name].errors = [*form[name].errors, str(exc)]


def _save_proposal(form: ProposalForm, save, current_image: str | None = None):
    """Call ``save`` (creation or edition) with the form's fields and the image the proposal
    shows from now on: a new upload, stored first, else ``current_image`` unless the author
    ticked its removal. Returns ``(True, what save returned)``; when a rule is broken, the
    new upload is deleted, the message goes on its field and ``(False, None)`` is returned."""
    stored = None
    try:
        upload = _uploaded_image(form)
        if upload is not None:
            stored = services.store_image(current_tenant().id, *upload)
        return True, save(
            title=form.title.data,
            body=form.body.data,
            theme_id=form.theme_id.data,
            neighbourhood_id=form.neighbourhood_id.data,
            latitude=form.latitude.data,
            longitude=form.longitude.data,
            image_path=stored or (None if form.remove_image.data else current_image),
            image_alt=form.image_alt.data,
        )
    except ProposalError as exc:
        services.delete_image(current_tenant().id, stored)
        _field_error(form, exc, "title")
        return False, None


def _past_the_last_page(page) -> bool:
    """A page number beyond the list's last page (page 1 of an empty list is not)."""
    return page.page > max(page.pages, 1)


# --------------------------------------------------------------------------- public lists


class CardText:
    """What every card repeats, translated and formatted once per page rather than once
    per card: a Babel call costs tens of µs and a list shows up to 50 cards, whose dates
    and counts repeat a lot. The template formats the name-bearing strings with
    ``|format`` (the result is escaped like any text)."""

    def __init__(self) -> None:
        self.by = _("Par %(name)s")
        self.theme = _("Thème : %(name)s")
        self.neighbourhood = _("Quartier : %(name)s")
        self.anonymous = _("Participant·e anonyme")
        self.you_support = _("Vous soutenez cette proposition")
        self._date = functools.lru_cache(maxsize=None)(date_fr)
        self.supports = functools.lru_cache(maxsize=None)(
            lambda n: ngettext("%(num)d soutien", "%(num)d soutiens", n)
        )
        self.comments = functools.lru_cache(maxsize=None)(
            lambda n: ngettext("%(num)d commentaire", "%(num)d commentaires", n)
        )

    def date(self, value: datetime) -> str:
        """``22 novembre 2026``: the day in Paris, formatted once per distinct day."""
        return self._date(value.astimezone(clock.PARIS).date())


@bp.get("/demarches/<int:process_id>/propositions")
def index(process_id: int):
    process = _process_or_404(process_id)
    query = services.parse_list_query(request.args)
    if query.sort == "random" and not query.seed:
        # The seed goes into the address so that page 2 continues the same shuffle.
        args = query.args(seed=services.new_seed(), page=None)
        return redirect(url_for("proposals.index", process_id=process.id, **args))
    page = services.list_proposals(process.id, query, viewer=_user())
    if _past_the_last_page(page):
        raise NotFound()
    today = clock.paris_today()
    themes, neighbourhoods = services.themes_and_neighbourhoods()
    return render_template(
        "proposals/index.html",
        process=process,
        page=page,
        query=query,
        labels=services.status_labels(),
        themes=themes,
        neighbourhoods=neighbourhoods,
        supported=page.supported,
        comments=page.comments,
        card_text=CardText(),
        can_propose=process.allows("propose", today),
        per_page_choices=services.PER_PAGE_CHOICES,
    )


# --------------------------------------------------------------------------- proposal page


@bp.get("/propositions/<int:proposal_id>")
def show(proposal_id: int):
    user = _user()
    found, supported = services.get_proposal_for(proposal_id, user)
    proposal = _proposal_or_404(proposal_id, found)
    today = clock.paris_today()
    refusal = services.support_refusal(proposal, user, today) if user else None
    support_open = (
        proposal.withdrawn_at is None
        and proposal.status in services.SUPPORTABLE_STATUSES
        and proposal.process.allows("support", today)
    )
    return render_template(
        "proposals/show.html",
        proposal=proposal,
        process=proposal.process,
        events=services.events_for(proposal),
        labels=services.status_labels(),
        supported=supported,
        support_open=support_open,
        support_refusal=refusal,
        # Forms only for a signed-in reader: a form's CSRF token would open a session (and
        # set a cookie) for every anonymous one.
        support_form=SupportForm() if user else None,
        confirm_form=ConfirmForm() if user else None,
        can_edit=services.can_edit(proposal, user),
        edit_deadline=services.edit_deadline(proposal),
        can_withdraw=services.withdrawal_refusal(proposal, user) is None,
        can_answer=services.can_answer(user, proposal),
        is_public=services.is_public(proposal),
    )


@bp.get("/medias/propositions/<filename>")
def image(filename: str):
    if services.IMAGE_NAME_RE.fullmatch(filename) is None:
        raise NotFound()
    proposal = services.proposal_with_image(filename)
    if proposal is None:
        raise NotFound()
    tenant_id = current_tenant().id
    if services.is_public(proposal) and proposal.withdrawn_at is None:
        # Can still be hidden or withdrawn later: private caching, for an hour at most.
        return uploads.send_image(tenant_id, filename, hideable=True)
    # Hidden by moderation, withdrawn, author blocked or draft process: staff only.
    user = _user()
    if services.is_manager(user) or (user is not None and services.can_answer(user, proposal)):
        return uploads.send_image(tenant_id, filename, restricted=True)
    raise NotFound()


# --------------------------------------------------------------------------- submission


@bp.route("/demarches/<int:process_id>/propositions/nouvelle", methods=["GET", "POST"])
@upload_view("MAX_IMAGE_BYTES")
@login_required
@posting_limit
def new(process_id: int):
    process = _process_or_404(process_id)
    user = _user()
    try:
        services.check_can_propose(process, user, clock.paris_today())
    except ProposalError as exc:
        abort_with(403, str(exc))
    form = ProposalForm()
    _form_choices(form)
    if form.validate_on_submit():
        saved, proposal = _save_proposal(
            form, lambda **fields: services.create_proposal(process, user, **fields)
        )
        if saved:
            services.send_receipt(proposal, user)
            db.session.commit()
            flash(
                _(
                    "Votre proposition est publiée. Vous pouvez encore la modifier pendant "
                    "%(n)d minutes.",
                    n=services.edit_window_minutes(),
                ),
                "success",
            )
            return redirect(url_for("proposals.show", proposal_id=proposal.id), code=303)
    return render_template("proposals/form.html", form=form, process=process, proposal=None)


@bp.route("/propositions/<int:proposal_id>/modifier", methods=["GET", "POST"])
@upload_view("MAX_IMAGE_BYTES")
@login_required
def edit(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    user = _user()
    refusal = services.edit_refusal(proposal, user)
    if refusal:
        abort_with(403, refusal)
    form = ProposalForm(obj=proposal)
    _form_choices(form)
    if form.validate_on_submit():
        previous_image = proposal.image_path
        saved, changed = _save_proposal(
            form,
            lambda **fields: services.update_proposal(proposal, user, **fields),
            previous_image,
        )
        if saved:
            db.session.commit()
            if previous_image and previous_image != proposal.image_path:
                services.delete_image(current_tenant().id, previous_image)
            if changed:
                flash(_("Votre proposition est modifiée."), "success")
            else:
                flash(_("Aucun changement à enregistrer."), "info")
            return redirect(url_for("proposals.show", proposal_id=proposal.id), code=303)
    return render_template(
        "proposals/form.html",
        form=form,
        process=proposal.process,
        proposal=proposal,
        edit_deadline=services.edit_deadline(proposal),
    )


@bp.post("/propositions/<int:proposal_id>/retirer")
@login_required
def withdraw(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    user = _user()
    refusal = services.withdrawal_refusal(proposal, user)
    if refusal:
        abort_with(403, refusal)
    if ConfirmForm().validate_on_submit():
        services.withdraw_proposal(proposal, user)
        db.session.commit()
        flash(_("Votre proposition est retirée : elle n'apparaît plus dans les listes."), "success")
    return redirect(url_for("proposals.show", proposal_id=proposal.id), code=303)


@bp.post("/propositions/<int:proposal_id>/soutien")
def support(proposal_id: int):
    page = url_for("proposals.show", proposal_id=proposal_id)
    if not current_user.is_authenticated:
        flash(_("Connectez-vous pour soutenir cette proposition."), "info")
        return redirect(url_for("accounts.login", next=page), code=303)
    proposal = _proposal_or_404(proposal_id)
    user = _user()
    form = SupportForm()
    if not form.validate_on_submit():
        return redirect(page, code=303)
    refusal = services.support_refusal(proposal, user, clock.paris_today())
    if refusal:
        abort_with(403, refusal)
    intent = form.intent.data or (
        "withdraw" if services.has_supported(proposal, user) else "support"
    )
    if intent == "withdraw":
        done = services.remove_support(proposal, user)
        message = _("Votre soutien est retiré.") if done else None
    else:
        done = services.add_support(proposal, user)
        message = _("Merci, votre soutien est enregistré.") if done else None
    db.session.commit()
    if message:
        flash(message, "success")
    return redirect(page + "#soutien", code=303)


# --------------------------------------------------------------------------- staff


def _staff_user() -> User:
    return current_user._get_current_object()


def _staff_proposal(proposal_id: int, lock: bool = False) -> Proposal:
    proposal = services.lock_proposal(proposal_id) if lock else services.get_proposal(proposal_id)
    if proposal is None:
        raise NotFound()
    if not services.can_answer(_staff_user(), proposal):
        abort_with(403, _("Cette proposition ne relève pas de vos services."))
    return proposal


def _assign_choices(form: AssignForm, user: User) -> dict[int, list[User]]:
    service_list = services.assignable_services(user)
    agents = services.agents_by_service(service_list)
    form.service_id.choices = [(None, _("— Aucun service —"))] + [
        (s.id, s.name) for s in service_list
    ]
    names: dict[int, tuple[User, list[str]]] = {}
    for service in service_list:
        for agent in agents.get(service.id, []):
            names.setdefault(agent.id, (agent, []))[1].append(service.name)
    form.assignee_id.choices = [(None, _("— Aucun agent —"))] + [
        (agent.id, f"{agent.display_name} ({', '.join(service_names)})")
        for agent, service_names in names.values()
    ]
    return agents


@staff_bp.get("/")
@staff_required()
def dashboard():
    user = _staff_user()
    return render_template(
        "staff/proposals/dashboard.html",
        board=services.dashboard(user),
        labels=services.status_labels(),
        is_manager=services.is_manager(user),
    )


def _staff_filters(user: User) -> dict:
    return {
        "processes": services.processes_with_proposals(),
        "services_list": services.assignable_services(user),
        "themes": services.themes(),
        "neighbourhoods": services.neighbourhoods(),
    }


@staff_bp.get("/liste", endpoint="index")
@staff_required()
def staff_index():
    user = _staff_user()
    query = services.parse_staff_query(request.args)
    page = services.staff_list(user, query)
    if _past_the_last_page(page):
        raise NotFound()
    form = BulkStatusForm()
    form.status.choices = status_choices(services.status_labels())
    return render_template(
        "staff/proposals/index.html",
        page=page,
        query=query,
        labels=services.status_labels(),
        bulk_form=form,
        today=clock.paris_today(),
        **_staff_filters(user),
    )


@staff_bp.post("/liste/statut")
@staff_required()
def bulk_status():
    user = _staff_user()
    back = safe_next(request.form.get("next"), url_for("staff_proposals.index"))
    form = BulkStatusForm()
    form.status.choices = status_choices(services.status_labels())
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(back, code=303)
    try:
        ids = [int(value) for value in request.form.getlist("proposal_ids")]
    except ValueError:
        ids = []
    try:
        changed, skipped = services.bulk_change_status(
            ids, form.status.data, form.reason.data, user
        )
    except ProposalError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back, code=303)
    db.session.commit()
    label = services.status_label(form.status.data)
    flash(
        _(
            "%(n)d proposition(s) passée(s) au statut « %(label)s ».",
            n=changed,
            label=label,
        )
        + (
            " "
            + _(
                "%(n)d ignorée(s) (déjà dans ce statut, retirée(s) ou hors de vos services).",
                n=skipped,
            )
            if skipped
            else ""
        ),
        "success" if changed else "info",
    )
    return redirect(back, code=303)


@staff_bp.route("/<int:proposal_id>", methods=["GET", "POST"])
@staff_required()
def answer(proposal_id: int):
    user = _staff_user()
    proposal = _staff_proposal(proposal_id, lock=request.method == "POST")
    labels = services.status_labels()
    form = AnswerForm()
    form.status.choices = status_choices(labels)
    if request.method == "GET":
        form.status.data = proposal.status.value
        form.reason.data = proposal.status_reason or ""
        form.answer.data = proposal.answer or ""
    if form.validate_on_submit():
        try:
            events = services.answer_proposal(
                proposal,
                user,
                status=form.status.data,
                reason=form.reason.data,
                answer=form.answer.data,
            )
        except ProposalError as exc:
            db.session.rollback()
            proposal = _staff_proposal(proposal_id)
            _field_error(form, exc, "status")
        else:
            db.session.commit()
            if events:
                flash(
                    _(
                        "C'est enregistré : l'auteur et les abonnés de la proposition sont "
                        "prévenus."
                    ),
                    "success",
                )
            else:
                flash(_("Aucun changement à enregistrer."), "info")
            return redirect(url_for("staff_proposals.answer", proposal_id=proposal.id), code=303)
    assign_form = AssignForm(
        formdata=None,
        data={
            "service_id": proposal.service_id,
            "assignee_id": proposal.assignee_id,
            "due_on": proposal.due_on,
        },
    )
    _assign_choices(assign_form, user)
    return _answer_page(proposal, form, assign_form, labels)


def _answer_page(proposal: Proposal, form: AnswerForm, assign_form: AssignForm, labels):
    return render_template(
        "staff/proposals/answer.html",
        proposal=proposal,
        form=form,
        assign_form=assign_form,
        labels=labels,
        events=services.events_for(proposal, include_internal=True),
        today=clock.paris_today(),
    )


@staff_bp.post("/<int:proposal_id>/affectation")
@staff_required()
def assign(proposal_id: int):
    user = _staff_user()
    proposal = _staff_proposal(proposal_id, lock=True)
    form = AssignForm()
    _assign_choices(form, user)
    if form.validate_on_submit():
        service = db.session.get(Service, form.service_id.data) if form.service_id.data else None
        assignee = db.session.get(User, form.assignee_id.data) if form.assignee_id.data else None
        try:
            event = services.assign_proposal(
                proposal, user, service=service, assignee=assignee, due_on=form.due_on.data
            )
        except ProposalError as exc:
            db.session.rollback()
            _field_error(form, exc, "service_id")
        else:
            db.session.commit()
            if event is not None:
                flash(_("L'affectation est enregistrée."), "success")
            else:
                flash(_("Aucun changement à enregistrer."), "info")
            return redirect(url_for("staff_proposals.answer", proposal_id=proposal.id), code=303)
    proposal = _staff_proposal(proposal_id)
    labels = services.status_labels()
    answer_form = AnswerForm(
        formdata=None,
        data={
            "status": proposal.status.value,
            "reason": proposal.status_reason or "",
            "answer": proposal.answer or "",
        },
    )
    answer_form.status.choices = status_choices(labels)
    return _answer_page(proposal, answer_form, form, labels)


@staff_bp.get("/export.csv")
@staff_required()
def export_csv():
    user = _staff_user()
    query = services.parse_staff_query(request.args)
    rows = services.staff_export_rows(user, query)
    body = export.proposals_csv(rows)
    services.record_export(user, len(rows), query.args(page=None))
    db.session.commit()
    filename = f"propositions-{date.today().isoformat()}.csv"
    response = current_app.response_class(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@staff_bp.route("/statuts", methods=["GET", "POST"])
@staff_required(StaffRole.ADMIN)
def settings():
    form = ProposalSettingsForm()
    labels = services.status_labels()
    if request.method == "GET":
        for status in ProposalStatus:
            getattr(form, f"label_{status.value}").data = labels[status]
        form.edit_window.data = services.edit_window_minutes()
    if form.validate_on_submit():
        wanted = {status: getattr(form, f"label_{status.value}").data for status in ProposalStatus}
        try:
            changed = services.update_proposal_settings(
                wanted, form.edit_window.data, _staff_user()
            )
        except ProposalError as exc:
            db.session.rollback()
            field = f"label_{exc.field}" if exc.field in {s.value for s in ProposalStatus} else None
            _field_error(form, exc, field or "edit_window")
        else:
            db.session.commit()
            if changed:
                flash(_("Les réglages des propositions sont enregistrés."), "success")
            else:
                flash(_("Aucun changement à enregistrer."), "info")
            return redirect(url_for("staff_proposals.settings"), code=303)
    return render_template(
        "staff/proposals/settings.html", form=form, defaults=services.DEFAULT_STATUS_LABELS
    )
