"""French error pages, and JSON errors for API paths."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
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
            from core.i18n import safe_next_path

            return render_error(413, own, back_url=safe_next_path(request.path, "/"))
        response = render_error(exc.code or 500, own)
        if exc.code == 503:
            body, code = response
            return body, code, {"Retry-After": "30"}
        if exc.code == 429:
            body, code = response
            return body, code, {"Retry-After": str(_seconds_until_retry(exc))}
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return render_error(500)
