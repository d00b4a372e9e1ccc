"""Languages and French formatting.

French is the product's language; English is offered to visitors who ask for it. The
locale is the visitor's explicit choice (``/langue/<code>``, kept in the host-only session
cookie), else the best match of the browser's ``Accept-Language``, else French. Dates are
shown in Europe/Paris time.

The ``*_fr`` Jinja filters format dates, numbers and amounts with Babel, so they give the
French forms ("22 novembre 2026", "104 978", "1 234,50 €") for French visitors and follow
the locale for the others.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    abort,
    g,
    has_request_context,
    redirect,
    request,
    session,
)
from flask_babel import (
    format_currency,
    format_date,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
)
from flask_babel import gettext as _

from core.extensions import babel
from core.routing import TENANT_SITE
from core.security.auth import keep_across_logins
from core.security.redirects import safe_next_path

DEFAULT_LOCALE = "fr"
LANGUAGES = ("fr", "en")
TIMEZONE = "Europe/Paris"
SESSION_KEY = "langue"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

Number = int | float | Decimal


# --------------------------------------------------------------------------- locale


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE  # jobs and CLI: French unless they force a locale
    choice = session.get(SESSION_KEY)
    if choice in LANGUAGES:
        return choice
    # The page now depends on a request header: shared caches must key on it.
    g.locale_from_header = True
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LOCALE)


def choose_language(code: str):
    if code not in LANGUAGES:
        abort(404)
    session[SESSION_KEY] = code
    # Flask-Babel caches the locale per request; the redirected page will use the new one.
    return redirect(safe_next_path(request.args.get("next")), code=303)


# --------------------------------------------------------------------------- formatting


def date_fr(value: date | datetime | None) -> str:
    """``22 novembre 2026`` (an aware or UTC datetime is first converted to Paris time)."""
    if value is None:
        return ""
    return format_date(value, format="long")


def datetime_fr(value: datetime | None) -> str:
    """``22 novembre 2026 à 14:05`` in Paris time (a naive datetime is taken as UTC)."""
    if value is None:
        return ""
    # TRANSLATORS: a date followed by a time of day, "22 novembre 2026 à 14:05".
    return _(
        "%(date)s à %(time)s",
        date=format_date(value, format="long"),
        time=format_time(value, format="short"),
    )


def number_fr(value: Number | None, digits: int | None = None) -> str:
    """``104 978`` (narrow no-break space between thousands in French)."""
    if value is None:
        return ""
    if digits is None:
        return format_decimal(value)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern)


def percent_fr(value: Number | None, digits: int = 0) -> str:
    """A ratio as a percentage: ``0.125`` → ``12,5 %`` with ``digits=1``, else ``13 %``."""
    if value is None:
        return ""
    if digits <= 0:
        return format_percent(value)
    # The locale's own pattern (space before % in French), with the requested decimals.
    locale = get_locale()
    pattern = locale.percent_formats[None].pattern if locale else "#,##0%"
    return format_percent(value, format=pattern.replace("#,##0", "#,##0." + "0" * digits, 1))


def money_eur(value: Number | None) -> str:
    """``1 234,50 €``."""
    if value is None:
        return ""
    return format_currency(value, "EUR")


FILTERS = {
    "date_fr": date_fr,
    "datetime_fr": datetime_fr,
    "number_fr": number_fr,
    "percent_fr": percent_fr,
    "money_eur": money_eur,
}


# --------------------------------------------------------------------------- setup


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(
        app,
        default_locale=DEFAULT_LOCALE,
        default_timezone=TIMEZONE,
        locale_selector=select_locale,
    )
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    # A language chosen by hand outlives the log-in and the log-out.
    keep_across_logins(SESSION_KEY)

    # The same route on both sites, as /healthz (core.health).
    platform = Blueprint("i18n", __name__)
    platform.add_url_rule("/langue/<code>", "choose_language", choose_language)
    tenant = Blueprint("tenant_i18n", __name__)
    tenant.add_url_rule("/langue/<code>", "choose_language", choose_language)
    app.register_blueprint(platform)
    app.register_blueprint(tenant, subdomain=TENANT_SITE)

    @app.after_request
    def _vary_on_language(response):
        if g.get("locale_from_header"):
            response.vary.add("Accept-Language")
        return response
