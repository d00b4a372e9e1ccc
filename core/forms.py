"""Shared form base and fields: hostile input never reaches PostgreSQL, and what the user
typed survives an expired session (docs/features/hostile-input.md).

- :class:`FlaskForm`: every form of Pnyx derives from it (not from ``flask_wtf.FlaskForm``;
  ruff bans the latter). When a post is refused for its CSRF token (session expired, page
  left open overnight), ``core.errors`` renders the page of the form again and this base
  fills it with what was posted, so a long text is never lost.
- :class:`IntegerField`: ASCII digits within PostgreSQL's ``integer`` range (``int()``
  takes ``١`` and ``10^20`` reaches the database as a DataError).
- :class:`DateField`, :class:`DateTimeLocalField`: between 1900 and 2100 (a phase dated
  9999-12-31 made every later page of the process answer 500: ``date + timedelta``
  overflows). Pages also cope with such dates already stored: see :func:`clamp_date`.

NUL bytes and CRLF newlines are handled before any form sees the data, in
``core.routing.PnyxRequest``.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

import flask_wtf
from flask import current_app, flash, g, make_response, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from wtforms import fields, widgets

from core.routing import INT_MAX, parse_int

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
_REPLAY_KEY = "pnyx_replayed_form"


def replay_form_data(data) -> None:
    """Ask every form built during this request to show ``data`` (see core.errors)."""
    g.setdefault(_REPLAY_KEY, data)


def render_page_with_posted_form(paths, message: str, status: int = 400):
    """The first of ``paths`` that is a GET page of this site, rendered again in this request
    as a GET (so nothing is done) with every form filled with what was posted and ``message``
    flashed: a refused post never loses what was typed. None when no such page can be shown
    to this visitor (no GET route, a redirect to log in, a 403): the caller falls back.

    Used for posts refused for their CSRF token (core.errors) and by views whose form lives
    on another page (a comment refused for its length goes back to the proposal)."""
    adapter = current_app.create_url_adapter(request)
    target = None
    for path in paths:
        try:
            target = adapter.match(urlsplit(path).path, method="GET")
            break
        except (HTTPException, RequestRedirect):
            continue
    if target is None or target[0] not in current_app.view_functions:
        return None
    endpoint, args = target
    data = MultiDict(
        (key, value) for key, value in request.form.items(multi=True) if key != "csrf_token"
    )
    replay_form_data(data)
    method = request.method
    request.environ["REQUEST_METHOD"] = request.method = "GET"
    flash(message, "error")
    try:
        response = make_response(
            current_app.ensure_sync(current_app.view_functions[endpoint])(**args)
        )
    except HTTPException:
        response = None
    if response is None or response.status_code != 200:
        flashes = session.get("_flashes") or []
        session["_flashes"] = [f for f in flashes if f[1] != message]
        request.environ["REQUEST_METHOD"] = request.method = method
        g.pop(_REPLAY_KEY, None)
        return None
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # the page holds what they typed
    return response


class FlaskForm(flask_wtf.FlaskForm):
    class Meta(flask_wtf.FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is None and g and g.get(_REPLAY_KEY) is not None:
                return g.get(_REPLAY_KEY)
            return wrapped


def date_in_range(value: date | datetime | None) -> bool:
    if value is None:
        return True
    day = value.date() if isinstance(value, datetime) else value
    return MIN_DATE <= day <= MAX_DATE


def clamp_date(value: date | None) -> date | None:
    """A stored date brought back into the range pages compute with."""
    if value is None:
        return None
    return min(max(value, MIN_DATE), MAX_DATE)


_OUT_OF_RANGE = _l("Saisissez une date entre 1900 et 2100.")


class DateField(fields.DateField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not date_in_range(self.data):
            self.data = None
            raise ValueError(str(_OUT_OF_RANGE))


class DateTimeLocalField(fields.DateTimeLocalField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not date_in_range(self.data):
            self.data = None
            raise ValueError(str(_OUT_OF_RANGE))


class IntegerField(fields.IntegerField):
    """ASCII digits within PostgreSQL's ``integer`` range, else a French field error."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] is None or not str(valuelist[0]).strip():
            super().process_formdata(valuelist)  # empty: WTForms' own handling (Optional…)
            return
        self.data = parse_int(str(valuelist[0]), minimum=-INT_MAX, maximum=INT_MAX)
        if self.data is None:
            raise ValueError(
                self.invalid_value_message
                or str(_l("Saisissez un nombre entier (chiffres 0 à 9, sans espace)."))
            )


# --------------------------------------------------------------------------- shared fields


def optional_int(value) -> int | None:
    """``coerce`` for a choice whose empty option means "none" (a radio or select of ids)."""
    if value in (None, "", "None"):
        return None
    return int(value)


class MultiCheckboxField(fields.SelectMultipleField):
    """A list of checkboxes (a ``<select multiple>`` is hard to use on a phone and with a
    screen reader)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CoordinateField(fields.StringField):
    """A latitude or longitude, typed the French way (``47,7508``) or the English way
    (``47.7508``), or set by the map script in a hidden input (``hidden=True``).

    By default the input shows what was typed, else the number without trailing zeros.
    ``fixed=True`` always shows the number read, with exactly ``decimals`` digits (and
    nothing when it could not be read): the form of the value a map script writes and reads
    back (``47.750800``)."""

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        hidden: bool = False,
        invalid_message=None,
        decimals: int = 5,
        fixed: bool = False,
        **kwargs,
    ):
        super().__init__(label, validators, **kwargs)
        if hidden:
            self.widget = widgets.HiddenInput()
        self.invalid_message = invalid_message or _l(
            "Indiquez un nombre décimal, par exemple 47,7508."
        )
        self.decimals = decimals
        self.fixed = fixed
        self.raw = ""

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw:
            return
        try:
            self.data = float(self.raw.replace(",", ".").replace(" ", "").replace("\u202f", ""))
        except ValueError:
            raise ValueError(self.invalid_message) from None

    def _value(self) -> str:
        if self.raw_data and not self.fixed:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = f"{self.data:.{self.decimals}f}"
        return text if self.fixed else text.rstrip("0").rstrip(".")
