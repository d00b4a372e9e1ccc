"""Forum pages: ``/reseaux/<slug>/forum`` on the platform domain."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import db
from core.errors import abort_with
from core.routing import arg_int
from core.security.auth import two_factor_required
from network.core import access
from network.core.access import posting_limit
from network.forum import services
from network.forum.forms import AnswerForm, QuestionForm
from network.forum.services import ForumError

bp = Blueprint("network_forum", __name__, url_prefix="/reseaux/<slug>/forum")


def _network(slug: str):
    return access.require_view(access.get_network(slug), "forum")


def _question(network, question_id: int):
    question = services.get_question(network, question_id)
    if question is None:
        abort_with(404, _("Cette question n'existe pas."))
    return question


def _require_poster(network) -> None:
    if not services.can_post(current_user, network):
        abort_with(
            403,
            _("Seuls les agents des collectivités membres peuvent écrire au forum."),
        )


@bp.route("")
def index(slug: str):
    network = _network(slug)
    page = arg_int("page", 1)
    listed = services.questions(network, page)
    return render_template(
        "network/forum/index.html",
        network=network,
        questions=listed.items,
        total=listed.total,
        page=page,
        pages=max(1, listed.pages),
        counts=services.answer_counts([q.id for q in listed.items]),
        can_post=services.can_post(current_user, network),
    )


@bp.route("/nouvelle-question", methods=["GET", "POST"])
@two_factor_required
@posting_limit
def ask(slug: str):
    network = _network(slug)
    _require_poster(network)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            question = services.ask_question(network, form.title.data, form.body.data, current_user)
        except ForumError as error:
            db.session.rollback()
            getattr(form, error.field or "body").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Votre question est publiée."), "success")
            return redirect(url_for(".show", slug=network.slug, question_id=question.id))
    return render_template("network/forum/ask.html", network=network, form=form)


@bp.route("/<int:question_id>")
def show(slug: str, question_id: int):
    network = _network(slug)
    question = _question(network, question_id)
    return render_template(
        "network/forum/show.html",
        network=network,
        question=question,
        form=AnswerForm(),
        can_post=services.can_post(current_user, network),
        can_delete=lambda post: services.can_delete(current_user, post, network),
    )


@bp.route("/<int:question_id>/reponses", methods=["POST"])
@two_factor_required
@posting_limit
def answer(slug: str, question_id: int):
    network = _network(slug)
    question = _question(network, question_id)
    _require_poster(network)
    form = AnswerForm()
    if form.validate_on_submit():
        link = url_for(".show", slug=network.slug, question_id=question.id, _external=True)
        try:
            services.answer_question(question, form.body.data, current_user, link)
        except ForumError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Votre réponse est publiée."), "success")
            return redirect(
                url_for(".show", slug=network.slug, question_id=question.id) + "#reponses"
            )
    return render_template(
        "network/forum/show.html",
        network=network,
        question=question,
        form=form,
        can_post=True,
        can_delete=lambda post: services.can_delete(current_user, post, network),
    )


def _csrf_ok() -> bool:
    from flask_wtf.csrf import ValidationError, validate_csrf

    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


@bp.route("/<int:question_id>/supprimer", methods=["POST"])
@two_factor_required
def delete_question(slug: str, question_id: int):
    network = _network(slug)
    question = _question(network, question_id)
    if not services.can_delete(current_user, question, network):
        abort_with(403, _("Seuls son auteur et la coordination peuvent supprimer ce message."))
    if not _csrf_ok():
        abort(400)
    services.delete_post(question, current_user)
    db.session.commit()
    flash(_("La question et ses réponses sont supprimées."), "success")
    return redirect(url_for(".index", slug=network.slug))


@bp.route("/<int:question_id>/reponses/<int:answer_id>/supprimer", methods=["POST"])
@two_factor_required
def delete_answer(slug: str, question_id: int, answer_id: int):
    network = _network(slug)
    question = _question(network, question_id)
    answer = next((a for a in question.answers if a.id == answer_id), None)
    if answer is None:
        abort(404)
    if not services.can_delete(current_user, answer, network):
        abort_with(403, _("Seuls son auteur et la coordination peuvent supprimer ce message."))
    if not _csrf_ok():
        abort(400)
    services.delete_post(answer, current_user)
    db.session.commit()
    flash(_("La réponse est supprimée."), "success")
    return redirect(url_for(".show", slug=network.slug, question_id=question.id) + "#reponses")
