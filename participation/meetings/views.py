"""Meeting pages: the public side (upcoming and past meetings, a meeting's page with
registration, the .ics file) and the staff side under /gestion/reunions (list, edit,
publish, cancel, who registered, minutes and the proposals made at the meeting).

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from core import clock
from core.db import db
from participation.accounts.models import StaffRole, User
from participation.engagement.antispam import posting_limit
from participation.meetings import ics, services
from participation.meetings.forms import (
    CancelForm,
    ConfirmForm,
    MeetingForm,
    MinutesForm,
    ProposalEntryForm,
)
from participation.meetings.models import Meeting, RegistrationStatus
from participation.meetings.services import MeetingError
from participation.staff.permissions import is_staff_member, staff_required
from tenants.context import current_tenant

bp = Blueprint("meetings", __name__, static_folder="static", static_url_path="/reunions-static")
staff_bp = Blueprint("staff_meetings", __name__, url_prefix="/gestion/reunions")

MANAGERS = (StaffRole.MODERATOR,)  # and admins, who pass every role check


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _visible(meeting_id: int) -> Meeting:
    meeting = services.get_meeting(meeting_id)
    if meeting is None or not (services.is_public(meeting) or is_staff_member(_user())):
        raise NotFound()
    return meeting


# --------------------------------------------------------------------------- public


@bp.get("/reunions")
def index():
    upcoming = services.public_meetings(upcoming=True)
    past = services.public_meetings(upcoming=False)
    return render_template(
        "meetings/index.html",
        upcoming=upcoming,
        past=past,
        counts=services.counts([m.id for m in upcoming]),
        when=services.when_text,
    )


@bp.get("/reunions/<int:meeting_id>")
def show(meeting_id: int):
    meeting = _visible(meeting_id)
    user = _user()
    registration = services.registration_of(meeting, user)
    if registration is not None and registration.status == RegistrationStatus.CANCELLED:
        registration = None
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        when=services.when_text(meeting),
        count=services.counts([meeting.id])[meeting.id],
        registration=registration,
        position=services.waiting_position(registration) if registration else None,
        refusal=services.registration_refusal(meeting),
        form=ConfirmForm() if user else None,  # no session for anonymous readers
        proposals=services.linked_proposals(meeting) if meeting.minutes_published_at else [],
        is_public=services.is_public(meeting),
        staff_view=is_staff_member(user)
        and user.staff_role in (StaffRole.ADMIN, StaffRole.MODERATOR),
    )


@bp.get("/reunions/<int:meeting_id>.ics", endpoint="ics")
def ics_file(meeting_id: int):
    meeting = _visible(meeting_id)
    tenant = current_tenant()
    location = meeting.address or meeting.online_url
    description = meeting.description or ""
    if meeting.online_url and meeting.address:
        description = (description + "\n\n" if description else "") + _(
            "En ligne : %(url)s", url=meeting.online_url
        )
    body = ics.event_calendar(
        uid=f"meeting-{meeting.id}@{tenant.primary_host or tenant.slug}",
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        description=description,
        location=location,
        url=services.meeting_url(meeting),
        cancelled=meeting.cancelled_at is not None,
        sequence=1 if meeting.cancelled_at is not None else 0,
    )
    response = current_app.response_class(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="reunion-{meeting.id}.ics"'
    return response


@bp.post("/reunions/<int:meeting_id>/inscription")
@login_required
@posting_limit  # each change of registration may e-mail someone: no toggling in a loop
def register(meeting_id: int):
    meeting = _visible(meeting_id)
    if ConfirmForm().validate_on_submit():
        try:
            registration = services.register(meeting.id, _user())
        except MeetingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            if registration.status == RegistrationStatus.CONFIRMED:
                flash(
                    _("Vous êtes inscrit·e. Un e-mail de confirmation vous est envoyé."), "success"
                )
            else:
                flash(
                    _(
                        "La réunion est complète : vous êtes sur la liste d'attente "
                        "(position %(n)d). Vous serez prévenu·e par e-mail si une place se libère.",
                        n=services.waiting_position(registration) or 0,
                    ),
                    "info",
                )
    return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#inscription", code=303)


@bp.post("/reunions/<int:meeting_id>/desinscription")
@login_required
@posting_limit
def unregister(meeting_id: int):
    meeting = _visible(meeting_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.cancel_registration(meeting.id, _user())
        except MeetingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Votre inscription est annulée."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#inscription", code=303)


# --------------------------------------------------------------------------- staff


def _staff_user() -> User:
    return current_user._get_current_object()


def _staff_meeting(meeting_id: int) -> Meeting:
    meeting = services.get_meeting(meeting_id)
    if meeting is None:
        raise NotFound()
    return meeting


def _choices(form: MeetingForm) -> None:
    form.process_id.choices = [(None, _("— Aucune —"))] + [
        (p.id, p.title) for p in services.processes_for_choice()
    ]
    form.phase_id.choices = [(None, _("— Aucune —"))] + [
        (p.id, f"{p.process.title} — {p.title}") for p in services.phases_for_choice()
    ]


@staff_bp.get("/", endpoint="index")
@staff_required(*MANAGERS)
def staff_index():
    meetings = services.all_meetings()
    return render_template(
        "staff/meetings/index.html",
        meetings=meetings,
        counts=services.counts([m.id for m in meetings]),
        now=clock.utcnow(),
    )


@staff_bp.route("/nouvelle", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def new():
    return _edit(None)


@staff_bp.route("/<int:meeting_id>", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def edit(meeting_id: int):
    return _edit(_staff_meeting(meeting_id))


def _edit(meeting: Meeting | None):
    form = MeetingForm(obj=meeting) if request.method == "GET" and meeting else MeetingForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            meeting = services.save_meeting(
                meeting,
                _staff_user(),
                title=form.title.data,
                description=form.description.data,
                starts_at=form.starts_at.data,
                ends_at=form.ends_at.data,
                address=form.address.data,
                online_url=form.online_url.data,
                capacity=form.capacity.data,
                process_id=form.process_id.data,
                phase_id=form.phase_id.data,
                registration_open=form.registration_open.data,
            )
        except MeetingError as exc:
            db.session.rollback()
            name = exc.field if exc.field in form else "title"
            form[name].errors = [*form[name].errors, str(exc)]
        else:
            db.session.commit()
            flash(_("La réunion est enregistrée."), "success")
            return redirect(url_for("staff_meetings.edit", meeting_id=meeting.id), code=303)
    return render_template(
        "staff/meetings/edit.html",
        form=form,
        meeting=meeting,
        confirm_form=ConfirmForm(),
        cancel_form=CancelForm(formdata=None),
    )


@staff_bp.post("/<int:meeting_id>/publier")
@staff_required(*MANAGERS)
def publish(meeting_id: int):
    meeting = _staff_meeting(meeting_id)
    if ConfirmForm().validate_on_submit() and services.publish_meeting(meeting, _staff_user()):
        db.session.commit()
        flash(_("La réunion est publiée."), "success")
    return redirect(url_for("staff_meetings.edit", meeting_id=meeting.id), code=303)


@staff_bp.post("/<int:meeting_id>/annuler")
@staff_required(*MANAGERS)
def cancel(meeting_id: int):
    meeting = _staff_meeting(meeting_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            told = services.cancel_meeting(meeting, _staff_user(), form.reason.data)
        except MeetingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(
                _("La réunion est annulée ; %(n)d personne(s) inscrite(s) prévenue(s).", n=told),
                "success",
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    return redirect(url_for("staff_meetings.edit", meeting_id=meeting.id), code=303)


@staff_bp.get("/<int:meeting_id>/inscrits")
@staff_required(*MANAGERS)
def attendees(meeting_id: int):
    meeting = _staff_meeting(meeting_id)
    rows = services.registrations(meeting)
    return render_template(
        "staff/meetings/attendees.html",
        meeting=meeting,
        confirmed=[r for r in rows if r.status == RegistrationStatus.CONFIRMED],
        waiting=[r for r in rows if r.status == RegistrationStatus.WAITING],
        cancelled=[r for r in rows if r.status == RegistrationStatus.CANCELLED],
    )


def _minutes_page(meeting: Meeting, minutes_form=None, proposal_form=None):
    if minutes_form is None:
        minutes_form = MinutesForm(
            formdata=None,
            data={
                "minutes": meeting.minutes or "",
                "publish": meeting.minutes_published_at is not None,
            },
        )
    if proposal_form is None:
        proposal_form = ProposalEntryForm(formdata=None, data={"process_id": meeting.process_id})
    proposal_form.process_id.choices = [(None, _("— Choisissez —"))] + [
        (p.id, p.title) for p in services.processes_for_choice()
    ]
    return render_template(
        "staff/meetings/minutes.html",
        meeting=meeting,
        minutes_form=minutes_form,
        proposal_form=proposal_form,
        proposals=services.linked_proposals(meeting),
        started=meeting.starts_at <= clock.utcnow(),
    )


@staff_bp.route("/<int:meeting_id>/compte-rendu", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def minutes(meeting_id: int):
    meeting = _staff_meeting(meeting_id)
    if request.method == "GET":
        return _minutes_page(meeting)
    form = MinutesForm()
    if form.validate_on_submit():
        try:
            services.save_minutes(meeting, _staff_user(), form.minutes.data, form.publish.data)
        except MeetingError as exc:
            db.session.rollback()
            meeting = _staff_meeting(meeting_id)
            form.minutes.errors = [*form.minutes.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Le compte rendu est enregistré."), "success")
            return redirect(url_for("staff_meetings.minutes", meeting_id=meeting.id), code=303)
    return _minutes_page(meeting, minutes_form=form)


@staff_bp.post("/<int:meeting_id>/propositions")
@staff_required(*MANAGERS)
def add_proposal(meeting_id: int):
    meeting = _staff_meeting(meeting_id)
    form = ProposalEntryForm()
    form.process_id.choices = [(None, "")] + [
        (p.id, p.title) for p in services.processes_for_choice()
    ]
    if form.validate_on_submit():
        try:
            services.enter_proposal(
                meeting,
                _staff_user(),
                process_id=form.process_id.data,
                title=form.title.data,
                body=form.body.data,
                speaker=form.speaker.data,
            )
        except MeetingError as exc:
            db.session.rollback()
            meeting = _staff_meeting(meeting_id)
            name = exc.field if exc.field in form else "title"
            form[name].errors = [*form[name].errors, str(exc)]
        else:
            db.session.commit()
            flash(_("La proposition est enregistrée et liée à la réunion."), "success")
            return redirect(url_for("staff_meetings.minutes", meeting_id=meeting.id), code=303)
    return _minutes_page(meeting, proposal_form=form)
