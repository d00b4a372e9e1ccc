"""French error pages, and JSON errors for API paths."""

from __future__ import annotations

from typing import NoReturn

import psycopg
from flask import (
    Flask,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

# Marked with lazy_gettext so the catalogue extraction finds them.
MESSAGES = {
    400: _l("La requête n'a pas pu être comprise."),
    401: _l("Merci de vous connecter pour accéder à cette page."),
    403: _l("Vous n'avez pas le droit d'effectuer cette action."),
    404: _l("Cette page n'existe pas."),
    405: _l("Cette action n'est pas possible ici."),
    413: _l(
        "Les données envoyées sont trop volumineuses (fichier trop lourd ?). Revenez au "
        "formulaire et choisissez un fichier plus léger."
    ),
    429: _l("Trop de tentatives : merci de patienter quelques minutes avant de réessayer."),
    500: _l("Une erreur inattendue est survenue. L'équipe technique a été prévenue."),
    503: _l(
        "Le service est momentanément indisponible. Merci de réessayer dans quelques instants."
    ),
}


#: A value PostgreSQL refused (a number beyond its range, a NUL byte) that no form caught.
INVALID_VALUE = _l(
    "Une des valeurs envoyées n'est pas valide (nombre trop grand, caractère interdit…). "
    "Vérifiez votre saisie et réessayez."
)
#: A post whose CSRF token is missing or expired (a page left open too long, a new session).
FORM_EXPIRED = _l(
    "Votre formulaire a expiré (page restée ouverte longtemps ou session terminée) : "
    "votre saisie a été conservée ci-dessous, vérifiez-la et envoyez-la de nouveau."
)
FORM_EXPIRED_LOST = _l(
    "Votre formulaire a expiré (page restée ouverte longtemps ou session terminée). "
    "Revenez à la page précédente, rechargez-la et envoyez votre saisie de nouveau."
)
#: Errors that mean the database cannot be reached (down, restarting, connection lost).


def abort_with(code: int, message: str) -> NoReturn:
    """Abort with an HTTP error whose page says ``message`` (French, already translated)
    instead of the generic text for ``code``: the one way views explain a refusal."""
    try:
        abort(code)
    except HTTPException as exc:
        exc.pnyx_message = message
        raise


def _message(code: int, description: str | None) -> str:
    return description or str(MESSAGES.get(code, MESSAGES[500]))


def render_error(
    code: int,
    description: str | None = None,
    title: str | None = None,
    back_url: str | None = None,
):
    message = _message(code, description)
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": {"status": code, "message": message}}), code
    try:
        return render_template(
            "errors/error.html", code=code, message=message, title=title, back_url=back_url
        ), code
    except Exception:  # noqa: BLE001 - an error page must never fail
        current_app.logger.exception("error page failed to render")
        return message, code, {"Content-Type": "text/plain; charset=utf-8"}


def render_maintenance():
    """The French maintenance page, rendered without touching the database (no base.html:
    it loads the signed-in user)."""
    message = str(MESSAGES[503])
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        body = jsonify({"error": {"status": 503, "message": message}})
    else:
        try:
            # Straight from the Jinja environment: render_template runs the context
            # processors, and Flask-Login's loads the signed-in user from the database.
            template = current_app.jinja_env.get_template("errors/maintenance.html")
            body = template.render(message=message)
        except Exception:  # noqa: BLE001 - an error page must never fail
            body = message
    response = make_response(body, 503)
    response.headers["Retry-After"] = "30"
    response.headers["Cache-Control"] = "no-store"
    return response


def replay_refused_form():
    """The page of a form refused for its CSRF token, shown again (as a GET: nothing is
    done) with every field filled with what was posted, and a French explanation. None when
    the page cannot be shown to this visitor (another site's cookie, no page found)."""
    from urllib.parse import urlsplit

    from core.forms import render_page_with_posted_form

    if request.method != "POST" or request.path.startswith("/api/") or not request.form:
        return None
    candidates = [request.path]
    referrer = urlsplit(request.referrer or "")
    if referrer.path and referrer.netloc in ("", request.host):
        candidates.append(referrer.path)
    # Forms posted to an action of their own (comments) name the page they belong to.
    back = request.form.get("next") or ""
    if back.startswith("/") and not back.startswith("//"):
        candidates.append(back)
    return render_page_with_posted_form(candidates, str(FORM_EXPIRED))


def _seconds_until_retry(exc: HTTPException) -> int:
    """The window of the rate limit that was hit (Flask-Limiter's RateLimitExceeded carries
    it): the longest a client may have to wait."""
    limit = getattr(exc, "limit", None)
    try:
        return int(limit.limit.get_expiry())
    except AttributeError:
        return 60


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Our own aborts carry a French description; Werkzeug's defaults are English.
        own = getattr(exc, "pnyx_message", None)
        if exc.code == 413:
            # A body over the limit (core.security.body_limits), left unread: the way back is
            # this path as a GET, which shows the form again.
            from core.security.redirects import safe_next_path

            return render_error(413, own, back_url=safe_next_path(request.path, "/"))
        response = render_error(exc.code or 500, own)
        if exc.code == 503:
            body, code = response
            return body, code, {"Retry-After": "30"}
        if exc.code == 429:
            body, code = response
            return body, code, {"Retry-After": str(_seconds_until_retry(exc))}
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        try:
            replayed = replay_refused_form()
        except Exception:  # noqa: BLE001 - fall back to the plain explanation
            app.logger.exception("could not show the refused form again")
            replayed = None
        if replayed is not None:
            return replayed
        return render_error(400, str(FORM_EXPIRED_LOST))

    @app.errorhandler(sa_exc.DataError)
    def _data_error(exc: sa_exc.DataError):
        # Last line of defence: forms and query helpers refuse such values first.
        from core.db import db

        db.session.rollback()
        app.logger.warning("value refused by PostgreSQL: %s", exc.orig)
        return render_error(400, str(INVALID_VALUE))

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(psycopg.OperationalError)
    def _database_down(exc: Exception):
        app.logger.error("database unavailable: %s", exc)
        return render_maintenance()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return render_error(500)
