"""Follows, reports, the notification centre, unsubscribe links, and the staff's moderation
pages (under /gestion/moderation).

Thin views: validate the form, call a service, commit once, flash, redirect.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.db import db
from core.extensions import csrf
from core.routing import TENANT_SITE, arg_int, parse_int
from core.security.redirects import safe_next_path
from participation.accounts.models import StaffRole, User
from participation.engagement import services
from participation.engagement.antispam import HONEYPOT_MESSAGE, posting_limit
from participation.engagement.forms import (
    ConfirmForm,
    DismissForm,
    FollowForm,
    ModerationReasonForm,
    ReportForm,
)
from participation.engagement.models import TargetType
from participation.staff.permissions import staff_required

bp = Blueprint("engagement", __name__)
staff_bp = Blueprint(
    "staff_moderation", __name__, url_prefix="/gestion/moderation", subdomain=TENANT_SITE
)

MODERATORS = (StaffRole.MODERATOR,)  # admins pass every role check
STYLESHEET = "engagement.css"


def _user() -> User:
    return current_user._get_current_object()


def _no_store(response):
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/engagement.css")
def stylesheet():
    folder = Path(current_app.root_path) / (current_app.template_folder or "templates")
    return send_from_directory(folder / "engagement", STYLESHEET, max_age=3600)


# --------------------------------------------------------------------------- follows


def _follow_change(follow: bool):
    form = FollowForm()
    back = safe_next_path(form.next.data, default="/")
    if not form.validate_on_submit():
        abort(400)
    target_id = parse_int(form.target_id.data or "0", minimum=0)
    if target_id is None:
        abort(400)
    try:
        if follow:
            services.follow(current_user.id, form.target_type.data, target_id)
        else:
            services.unfollow(current_user.id, form.target_type.data, target_id)
    except services.EngagementError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back, code=303)
    db.session.commit()
    if follow:
        flash(_("Vous suivez ce contenu : vous serez prévenu·e de ses nouveautés."), "success")
    else:
        flash(_("Vous ne suivez plus ce contenu."), "success")
    return redirect(back, code=303)


@bp.post("/suivre")
@login_required
def follow():
    return _follow_change(True)


@bp.post("/ne-plus-suivre")
@login_required
def unfollow():
    return _follow_change(False)


# --------------------------------------------------------------------------- reports


@bp.route("/signaler/<target_type>/<int:target_id>", methods=["GET", "POST"])
@login_required
@posting_limit
def report(target_type: str, target_id: int):
    try:
        kind = TargetType(target_type)
    except ValueError:
        abort(404)
    if not services.is_reportable(kind):
        abort(404)
    target = services.get_target(kind, target_id)
    if target is None or getattr(target, "deleted_at", None) is not None:
        abort(404)
    back = safe_next_path(request.values.get("next"), default="") or (
        services.target_url(kind, target_id) or "/"
    )
    form = ReportForm()
    if form.validate_on_submit():
        try:
            services.report_content(
                _user(), kind, target_id, form.reason.data, form.details.data or ""
            )
        except services.EngagementError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(back, code=303)
        db.session.commit()
        flash(_("Merci : votre signalement est transmis à l'équipe de modération."), "success")
        return redirect(back, code=303)
    status = 400 if form.errors else 200
    return render_template(
        "engagement/report.html",
        form=form,
        target=target,
        target_type=kind,
        preview=services.content_preview(target),
        back_url=back,
        honeypot_message=HONEYPOT_MESSAGE if form.caught_bot else None,
    ), status


# --------------------------------------------------------------------------- notifications


@bp.get("/notifications")
@login_required
def notifications():
    return render_template(
        "engagement/notifications.html",
        page=services.notifications_page(current_user.id, arg_int("page", 1)),
        unread=services.unread_count(current_user.id),
        form=ConfirmForm(formdata=None),
    )


@bp.get("/notifications/<int:notification_id>/ouvrir")
@login_required
def open_notification(notification_id: int):
    notification = services.mark_read(current_user.id, notification_id)
    if notification is None:
        abort(404)
    db.session.commit()
    return redirect(notification.url or url_for("engagement.notifications"), code=303)


@bp.post("/notifications/<int:notification_id>/lue")
@login_required
def mark_read(notification_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if services.mark_read(current_user.id, notification_id) is None:
        abort(404)
    db.session.commit()
    return redirect(url_for("engagement.notifications"), code=303)


@bp.post("/notifications/tout-lire")
@login_required
def mark_all_read():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user.id)
    db.session.commit()
    if count:
        flash(_("Toutes vos notifications sont marquées comme lues."), "success")
    return redirect(url_for("engagement.notifications"), code=303)


# --------------------------------------------------------------------------- unsubscribe


@bp.route("/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail providers post here without a session; the token is the proof
def unsubscribe(token: str):
    user = services.user_for_unsubscribe_token(token)
    if user is None:
        return _no_store((render_template("engagement/unsubscribe_invalid.html"), 400))
    if request.method == "POST":
        services.unsubscribe(user)
        db.session.commit()
        return _no_store(render_template("engagement/unsubscribe_done.html", user=user))
    return _no_store(render_template("engagement/unsubscribe.html", user=user, token=token))


# --------------------------------------------------------------------------- moderation


def _moderated_or_404(target_type: str, target_id: int):
    try:
        kind = TargetType(target_type)
    except ValueError:
        abort(404)
    if kind not in services.moderated_models():
        abort(404)
    target = services.load_targets([(kind, target_id)]).get((kind, target_id))
    if target is None:
        abort(404)
    return kind, target


@staff_bp.get("/")
@staff_required(*MODERATORS)
def queue():
    return render_template(
        "staff/moderation/queue.html",
        items=services.moderation_queue(),
        reason_labels=services.REASON_LABELS,
        target_url=services.target_url,
    )


@staff_bp.get("/<target_type>/<int:target_id>")
@staff_required(*MODERATORS)
def target(target_type: str, target_id: int):
    kind, content = _moderated_or_404(target_type, target_id)
    return _render_target(kind, content)


def _render_target(
    kind, content, reason_form=None, dismiss_form=None, block_form=None, status: int = 200
):
    return render_template(
        "staff/moderation/target.html",
        kind=kind,
        content=content,
        author=getattr(content, "author", None),
        preview=services.content_preview(content, limit=2000),
        reports=services.reports_on(kind, content.id),
        reason_labels=services.REASON_LABELS,
        public_url=services.target_url(kind, content.id),
        reason_form=reason_form or ModerationReasonForm(formdata=None),
        dismiss_form=dismiss_form or DismissForm(formdata=None),
        block_form=block_form or ModerationReasonForm(formdata=None, prefix="block"),
    ), status


def _moderate(target_type: str, target_id: int, action, message: str):
    kind, content = _moderated_or_404(target_type, target_id)
    form = ModerationReasonForm()
    if not form.validate_on_submit():
        return _render_target(kind, content, reason_form=form, status=400)
    try:
        action(kind, content.id, form.reason.data, _user())
    except services.ModerationError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(
        url_for("staff_moderation.target", target_type=kind.value, target_id=content.id), code=303
    )


@staff_bp.post("/<target_type>/<int:target_id>/masquer")
@staff_required(*MODERATORS)
def hide(target_type: str, target_id: int):
    return _moderate(target_type, target_id, services.hide_content, _("Le contenu est masqué."))


@staff_bp.post("/<target_type>/<int:target_id>/retablir")
@staff_required(*MODERATORS)
def restore(target_type: str, target_id: int):
    return _moderate(
        target_type, target_id, services.restore_content, _("Le contenu est de nouveau visible.")
    )


@staff_bp.post("/<target_type>/<int:target_id>/classer")
@staff_required(*MODERATORS)
def dismiss(target_type: str, target_id: int):
    kind, content = _moderated_or_404(target_type, target_id)
    form = DismissForm()
    if not form.validate_on_submit():
        return _render_target(kind, content, dismiss_form=form, status=400)
    try:
        services.dismiss_reports(kind, content.id, form.note.data, _user())
    except services.ModerationError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Les signalements sont classés sans suite."), "success")
    return redirect(url_for("staff_moderation.queue"), code=303)


@staff_bp.get("/comptes")
@staff_required(*MODERATORS)
def blocked_users():
    return render_template("staff/moderation/users.html", users=services.blocked_users())


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted:
        abort(404)
    return user


def _render_user(person: User, form=None, status: int = 200):
    return render_template(
        "staff/moderation/user.html",
        person=person,
        counts=services.contribution_counts(person.id),
        form=form or ModerationReasonForm(formdata=None, prefix="block"),
    ), status


@staff_bp.get("/comptes/<int:user_id>")
@staff_required(*MODERATORS)
def user(user_id: int):
    return _render_user(_user_or_404(user_id))


def _block_change(user_id: int, block: bool):
    person = _user_or_404(user_id)
    form = ModerationReasonForm(prefix="block")
    if not form.validate_on_submit():
        return _render_user(person, form, 400)
    try:
        if block:
            services.block_user(person, form.reason.data, _user())
        else:
            services.unblock_user(person, form.reason.data, _user())
    except services.ModerationError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        if block:
            flash(_("Le compte est bloqué et ses contributions sont masquées."), "success")
        else:
            flash(
                _("Le compte est débloqué et ses contributions sont de nouveau visibles."),
                "success",
            )
    return redirect(url_for("staff_moderation.user", user_id=person.id), code=303)


@staff_bp.post("/comptes/<int:user_id>/bloquer")
@staff_required(*MODERATORS)
def block(user_id: int):
    return _block_change(user_id, True)


@staff_bp.post("/comptes/<int:user_id>/debloquer")
@staff_required(*MODERATORS)
def unblock(user_id: int):
    return _block_change(user_id, False)
