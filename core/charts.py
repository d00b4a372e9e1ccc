"""Charts drawn on the server as accessible SVG, with a data table as their alternative.

No JavaScript and no inline style (the CSP forbids both): colours are SVG presentation
attributes. Every chart is an ``<svg role="img">`` named by its ``<title>`` and described
by a ``<desc>`` that spells out every value, so a screen reader gets the data even without
the table. Use both through ``templates/macros/charts.html``::

    {% from "macros/charts.html" import chart %}
    {{ chart(_("Mode de transport principal"), [("Vélo", 42), ("Voiture", 30)], unit="%") }}

or from Python::

    from core.charts import bar_chart, data_table
    svg = bar_chart("Votes par projet", [("Parc", 120), ("Piste", 95.5)], unit="voix")
    table = data_table("Votes par projet", ["Projet", "Voix"], [("Parc", 120), ("Piste", 95.5)])

Both return ``Markup``; every label is escaped. Numbers are formatted the French way
(``12,5``) through Flask-Babel when a request or app context is there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from flask_babel import gettext as _
from markupsafe import Markup, escape

#: Colours with a contrast of at least 4.5:1 on white (text) and 3:1 (bars, WCAG 1.4.11).
BAR_COLOUR = "#1d4e89"
TRACK_COLOUR = "#eef1f5"
TEXT_COLOUR = "#1a1a1a"

WIDTH = 640
LABEL_HEIGHT = 18
BAR_HEIGHT = 18
ROW_GAP = 12
VALUE_SPACE = 130  # room on the right for the value text
MAX_LABEL_CHARS = 90

_ids = itertools.count(1)


def format_number(value: float | int | None, digits: int = 1) -> str:
    """``1 234,5``: French formatting when Babel is available, a plain fallback otherwise."""
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    rounded = round(float(value), digits)
    if rounded == int(rounded):
        rounded = int(rounded)
    try:
        from flask_babel import format_decimal

        return format_decimal(rounded, format="#,##0.###")
    except Exception:  # noqa: BLE001 - no app context (scripts, benchmarks): plain text
        return str(rounded).replace(".", ",")


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}\u00a0{unit}"  # non-breaking space, as French typography wants


def _short(label: str) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    unit: str = "",
    max_value: float | None = None,
    *,
    display: Sequence[str] | None = None,
    description: str | None = None,
) -> Markup:
    """A horizontal bar chart: one bar per ``(label, value)``, in the order given.

    ``max_value`` is the value of a full-width bar (default: the largest value; pass 100 for
    percentages). ``display`` replaces the text printed after each bar (e.g. ``"12 (30 %)"``);
    ``description`` replaces the generated ``<desc>``. Negative values are drawn as 0.
    """
    number = next(_ids)
    title_id, desc_id = f"chart-{number}-title", f"chart-{number}-desc"
    values = [max(float(value or 0), 0.0) for _label, value in items]
    top = float(max_value) if max_value else max(values, default=0.0)
    texts = (
        [str(text) for text in display]
        if display is not None
        else [_with_unit(format_number(value), unit) for _label, value in items]
    )
    if description is None:
        parts = [
            f"{_short(label)} : {text}" for (label, _value), text in zip(items, texts, strict=False)
        ]
        description = "; ".join(parts) + "." if parts else _("Aucune donnée.")
    row = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    height = max(row * len(items), row)
    track = WIDTH - VALUE_SPACE
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" focusable="false">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]
    if not items:
        out.append(
            f'<text x="0" y="{LABEL_HEIGHT}" fill="{TEXT_COLOUR}" font-size="14">'
            f"{escape(_('Aucune donnée.'))}</text>"
        )
    for index, ((label, _value), value, text) in enumerate(zip(items, values, texts, strict=False)):
        y = index * row
        bar = 0.0 if top <= 0 else min(value / top, 1.0) * track
        out.append('<g aria-hidden="true">')
        out.append(
            f'<text x="0" y="{y + LABEL_HEIGHT - 4}" fill="{TEXT_COLOUR}" font-size="14">'
            f"{escape(_short(label))}</text>"
        )
        out.append(
            f'<rect x="0" y="{y + LABEL_HEIGHT}" width="{track}" height="{BAR_HEIGHT}" '
            f'fill="{TRACK_COLOUR}"/>'
        )
        if bar > 0:
            out.append(
                f'<rect x="0" y="{y + LABEL_HEIGHT}" width="{bar:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{BAR_COLOUR}"/>'
            )
        out.append(
            f'<text x="{track + 8}" y="{y + LABEL_HEIGHT + BAR_HEIGHT - 4}" '
            f'fill="{TEXT_COLOUR}" font-size="14" font-weight="bold">{escape(text)}</text>'
        )
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every piece of text above is escaped


def data_table(
    caption: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    numeric: bool = True,
) -> Markup:
    """A table for the same data: ``<caption>``, column headers, the first cell of each row
    as its row header. Numbers (int/float) are formatted the French way; with ``numeric``,
    every column after the first is right-aligned (class ``num``)."""
    out = [f'<table class="data-table"><caption>{escape(caption)}</caption><thead><tr>']
    for index, header in enumerate(headers):
        css = ' class="num"' if numeric and index else ""
        out.append(f'<th scope="col"{css}>{escape(header)}</th>')
    out.append("</tr></thead><tbody>")
    for cells in rows:
        out.append("<tr>")
        for index, cell in enumerate(cells):
            text = format_number(cell) if isinstance(cell, int | float) else cell
            text = "" if text is None else text
            if index == 0:
                out.append(f'<th scope="row">{escape(text)}</th>')
            else:
                css = ' class="num"' if numeric else ""
                out.append(f"<td{css}>{escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return Markup("".join(out))  # noqa: S704 - every cell is escaped


def init_app(app) -> None:
    """Make ``bar_chart``, ``data_table`` and ``format_number`` callable from templates."""
    app.jinja_env.globals.setdefault("bar_chart", bar_chart)
    app.jinja_env.globals.setdefault("data_table", data_table)
    app.jinja_env.globals.setdefault("format_number", format_number)
