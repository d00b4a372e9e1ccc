"""Debate pages (public and staff) and the comment actions.

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from core.db import db
from core.forms import render_page_with_posted_form
from core.routing import TENANT_SITE, arg_int
from core.security.redirects import safe_next_path
from participation.accounts.models import StaffRole
from participation.debates import services
from participation.debates.forms import (
    SIDE_LABELS,
    ArgumentForm,
    CommentEditForm,
    CommentForm,
    DebateForm,
)
from participation.debates.models import Debate, Side
from participation.engagement import services as engagement
from participation.engagement.antispam import HONEYPOT_MESSAGE, posting_limit
from participation.engagement.forms import ConfirmForm
from participation.processes.models import Process
from participation.staff.permissions import forbid, is_staff_member, staff_required

bp = Blueprint("debates", __name__)
staff_bp = Blueprint("staff_debates", __name__, url_prefix="/gestion/debats", subdomain=TENANT_SITE)

DEBATE_MANAGERS = (StaffRole.ADMIN, StaffRole.MODERATOR)


def _user():
    return current_user._get_current_object()


def _first_error(form) -> str:
    if getattr(form, "caught_bot", False):
        return str(HONEYPOT_MESSAGE)
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("Le formulaire contient des erreurs.")


def _public_debate_or_404(debate_id: int) -> Debate:
    debate = services.get_debate(debate_id)
    if debate is None:
        abort(404)
    if not services.debate_is_public(debate) and not is_staff_member(current_user):
        abort(404)
    return debate


# --------------------------------------------------------------------------- debates


@bp.get("/debats")
def index():
    return render_template("debates/index.html", summaries=services.public_debates())


def _render_debate(debate: Debate, form: ArgumentForm | None = None, status: int = 200):
    return render_template(
        "debates/show.html",
        debate=debate,
        process=debate.process,
        columns=services.debate_columns(debate),
        closed_reason=services.closed_reason(debate),
        form=form or ArgumentForm(formdata=None),
        side_labels=SIDE_LABELS,
        Side=Side,
    ), status


@bp.get("/debats/<int:debate_id>")
def show(debate_id: int):
    return _render_debate(_public_debate_or_404(debate_id))


@bp.post("/debats/<int:debate_id>/arguments")
@login_required
@posting_limit
def add_argument(debate_id: int):
    debate = _public_debate_or_404(debate_id)
    form = ArgumentForm()
    page = url_for("debates.show", debate_id=debate.id)
    parent_id = form.parent_id.data
    if not form.validate_on_submit():
        if parent_id:
            shown = (
                None
                if form.caught_bot
                else render_page_with_posted_form([page], _first_error(form))
            )
            if shown is not None:
                return shown
            flash(_first_error(form), "error")
            return redirect(f"{page}#argument-{parent_id}", code=303)
        return _render_debate(debate, form, 400)
    if not parent_id and not form.side.data:
        form.side.errors.append(_("Choisissez si votre argument est pour ou contre."))
        return _render_debate(debate, form, 400)
    try:
        argument = services.add_argument(
            debate, _user(), form.side.data, form.body.data, parent_id=parent_id, url=page
        )
    except services.DebateError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(f"{page}#argument-{parent_id}" if parent_id else page, code=303)
    db.session.commit()
    flash(
        _("Votre réponse est publiée.") if parent_id else _("Votre argument est publié."), "success"
    )
    return redirect(f"{page}#argument-{argument.id}", code=303)


@bp.route("/arguments/<int:argument_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete_argument(argument_id: int):
    argument = services.get_argument(argument_id)
    if argument is None:
        abort(404)
    if argument.author_id != current_user.id:
        forbid(_("Seul l'auteur d'un argument peut le supprimer."))
    page = url_for("debates.show", debate_id=argument.debate_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.delete_argument(argument, _user())
        except services.DebateError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Votre argument est supprimé."), "success")
        return redirect(f"{page}#argument-{argument.id}", code=303)
    return render_template(
        "debates/argument_delete.html", argument=argument, form=form, back_url=page
    )


# --------------------------------------------------------------------------- comments


class ThreadText:
    """What every comment of a thread repeats, translated once per thread rather than
    once per comment (a Babel call costs tens of µs and a page shows 30 comments and
    their replies), with dates formatted once per distinct minute and the link of each
    action built from one URL per kind."""

    _ID = "987654321"  # a placeholder in the URLs built once, replaced by each comment's id

    def __init__(self, return_to: str) -> None:
        from core.i18n import datetime_fr

        self._datetime_fr = datetime_fr
        self.removed = _("Commentaire supprimé")
        self.anonymous = _("Participant·e anonyme")
        self.staff = _("équipe de la collectivité")
        self.edited = _("modifié")
        self.edit = _("Modifier")
        self.delete = _("Supprimer")
        self.yours = _("votre commentaire")
        self.report = _("Signaler")
        self.reply = _("Répondre")
        self.your_reply = _("Votre réponse")
        self.publish_reply = _("Publier la réponse")
        self.honeypot = _("Ne remplissez pas ce champ : il sert à bloquer les robots")
        self.hidden = _("Masqué par la modération")
        self.hidden_staff = _("(visible par l'équipe seulement)")
        self.reason = _("Raison :")
        self._dates: dict = {}
        self._edit_url = url_for("debates.edit_comment", comment_id=self._ID, next=return_to)
        self._delete_url = url_for("debates.delete_comment", comment_id=self._ID, next=return_to)
        try:
            self._report_url = url_for(
                "engagement.report", target_type="comment", target_id=self._ID, next=return_to
            )
        except BuildError:  # the engagement pages are not registered
            self._report_url = None

    def reply_to(self, name: str) -> str:
        return _("à %(name)s", name=name)

    def when(self, value) -> str:
        key = value.replace(second=0, microsecond=0) if value else None
        if key not in self._dates:
            self._dates[key] = self._datetime_fr(value) if value else ""
        return self._dates[key]

    def edit_url(self, comment_id: int) -> str:
        return self._edit_url.replace(self._ID, str(int(comment_id)))

    def delete_url(self, comment_id: int) -> str:
        return self._delete_url.replace(self._ID, str(int(comment_id)))

    def report_url(self, comment_id: int) -> str | None:
        if self._report_url is None:
            return None
        return self._report_url.replace(self._ID, str(int(comment_id)))


def _comment_page(comment) -> str:
    target_type, target_id = engagement.comment_parent(comment)
    return engagement.target_url(target_type, target_id) or "/"


def _back(default: str) -> str:
    return safe_next_path(request.values.get("next"), default=default)


@bp.post("/commentaires")
@login_required
@posting_limit
def create_comment():
    form = CommentForm()
    page = safe_next_path(form.next.data, default="/").split("#", 1)[0]
    if not form.validate_on_submit():
        # The page again with the text typed (too long, say), not a redirect that loses it;
        # a bot caught by the honeypot gets nothing back.
        shown = (
            None if form.caught_bot else render_page_with_posted_form([page], _first_error(form))
        )
        if shown is not None:
            return shown
        flash(_first_error(form), "error")
        anchor = f"#commentaire-{form.parent_id.data}" if form.parent_id.data else "#commentaires"
        return redirect(page + anchor, code=303)
    try:
        if not form.target_id.data:
            raise services.DebateError(_("Les commentaires ne sont pas ouverts ici."))
        comment = services.create_comment(
            _user(),
            form.target_type.data,
            form.target_id.data,
            form.body.data,
            parent_id=form.parent_id.data,
            url=page,
        )
    except services.DebateError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(page + "#commentaires", code=303)
    db.session.commit()
    flash(_("Votre commentaire est publié."), "success")
    return redirect(engagement.comment_url(comment, page), code=303)


@bp.route("/commentaires/<int:comment_id>/modifier", methods=["GET", "POST"])
@login_required
@posting_limit
def edit_comment(comment_id: int):
    comment = services.get_comment(comment_id)
    if comment is None:
        abort(404)
    if comment.author_id != current_user.id:
        forbid(_("Seul l'auteur d'un commentaire peut le modifier."))
    back = engagement.comment_url(comment, _back(_comment_page(comment)))
    if not services.can_edit_comment(comment, current_user):
        flash(
            _(
                "Ce commentaire ne peut plus être modifié : le délai de %(n)s minutes après sa "
                "publication est passé.",
                n=services.edit_window_minutes(),
            ),
            "error",
        )
        return redirect(back, code=303)
    form = CommentEditForm(data={"body": comment.body} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.edit_comment(comment, _user(), form.body.data)
        except services.DebateError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Votre commentaire est modifié."), "success")
        return redirect(back, code=303)
    return render_template(
        "debates/comment_edit.html",
        comment=comment,
        form=form,
        back_url=back,
        deadline=services.edit_deadline(comment),
    )


@bp.route("/commentaires/<int:comment_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete_comment(comment_id: int):
    comment = services.get_comment(comment_id)
    if comment is None:
        abort(404)
    if comment.author_id != current_user.id:
        forbid(_("Seul l'auteur d'un commentaire peut le supprimer."))
    back = engagement.comment_url(comment, _back(_comment_page(comment)))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.delete_comment(comment, _user())
        except services.DebateError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Votre commentaire est supprimé."), "success")
        return redirect(back, code=303)
    return render_template("debates/comment_delete.html", comment=comment, form=form, back_url=back)


# --------------------------------------------------------------------------- staff


def _process_or_400(form: DebateForm) -> Process | None:
    process = db.session.get(Process, form.process_id.data) if form.process_id.data else None
    if process is None:
        form.process_id.errors.append(_("Choisissez la démarche."))
    return process


@staff_bp.get("/")
@staff_required(*DEBATE_MANAGERS)
def manage():
    return render_template("staff/debates/index.html", rows=services.staff_debates())


@staff_bp.route("/nouveau", methods=["GET", "POST"])
@staff_required(*DEBATE_MANAGERS)
def create():
    processes = services.list_processes()
    form = DebateForm()
    form.set_processes(processes)
    if request.method == "GET" and arg_int("process_id"):
        form.process_id.data = arg_int("process_id")
    if form.validate_on_submit():
        process = _process_or_400(form)
        if process is not None:
            try:
                debate = services.create_debate(
                    process, form.question.data, form.description.data, _user()
                )
            except services.DebateError as error:
                db.session.rollback()
                form.question.errors.append(str(error))
            else:
                db.session.commit()
                flash(_("Le débat est ouvert."), "success")
                return redirect(url_for("staff_debates.edit", debate_id=debate.id), code=303)
    return render_template(
        "staff/debates/form.html", form=form, debate=None, has_processes=bool(processes)
    )


@staff_bp.route("/<int:debate_id>", methods=["GET", "POST"])
@staff_required(*DEBATE_MANAGERS)
def edit(debate_id: int):
    debate = services.get_debate(debate_id)
    if debate is None:
        abort(404)
    processes = services.list_processes()
    form = DebateForm(obj=debate if request.method == "GET" else None)
    form.set_processes(processes)
    if form.validate_on_submit():
        process = _process_or_400(form)
        if process is not None:
            try:
                services.update_debate(
                    debate, form.question.data, form.description.data, process, _user()
                )
            except services.DebateError as error:
                db.session.rollback()
                form.process_id.errors.append(str(error))
            else:
                db.session.commit()
                flash(_("Le débat est enregistré."), "success")
                return redirect(url_for("staff_debates.edit", debate_id=debate.id), code=303)
    return render_template(
        "staff/debates/form.html",
        form=form,
        debate=debate,
        has_processes=bool(processes),
        confirm_form=ConfirmForm(formdata=None),
    )


def _change_state(debate_id: int, change, message: str):
    debate = services.get_debate(debate_id)
    if debate is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            change(debate, _user())
        except services.DebateError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(message, "success")
    return redirect(url_for("staff_debates.edit", debate_id=debate.id), code=303)


@staff_bp.post("/<int:debate_id>/cloturer")
@staff_required(*DEBATE_MANAGERS)
def close(debate_id: int):
    return _change_state(debate_id, services.close_debate, _("Le débat est clos."))


@staff_bp.post("/<int:debate_id>/rouvrir")
@staff_required(*DEBATE_MANAGERS)
def reopen(debate_id: int):
    return _change_state(debate_id, services.reopen_debate, _("Le débat est rouvert."))
