"""Charts drawn on the server as accessible SVG, with a data table as their alternative:
horizontal bars (participation results, benchmarks), lines over months and radars (the
network pages).

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

Every function returns ``Markup``; every label is escaped. Numbers are formatted for the
current locale (``1 234,5`` in French, ``1,234.5`` in English) through Flask-Babel when a
request or app context is there.
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
#: Lines and radars: one colour per series, the first drawn solid and the others dashed.
PALETTE = ("#1f5fa6", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490")
AXIS_COLOUR = "#4b5563"
GRID_COLOUR = "#d1d5db"
LEGEND_COLOUR = "#111827"

WIDTH = 640
LABEL_HEIGHT = 18
BAR_HEIGHT = 18
ROW_GAP = 12
VALUE_SPACE = 130  # room on the right for the value text
MAX_LABEL_CHARS = 90

_ids = itertools.count(1)


def format_number(value: float | int | None, digits: int = 1) -> str:
    """``1 234,5`` in French, ``1,234.5`` in English: the current locale's formatting
    through Flask-Babel, rounded to ``digits`` decimals; a plain French fallback outside
    an app (scripts, benchmarks)."""
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


def _frame(
    width: int,
    height: int,
    title: str,
    description: str,
    body: list[str],
    *,
    aspect: str | None = None,
) -> Markup:
    """The ``<svg role="img">`` around a chart's ``body``, named by its ``<title>`` and
    described by its ``<desc>`` (ids unique in the page). ``body`` must be escaped already."""
    number = next(_ids)
    title_id, desc_id = f"chart-{number}-title", f"chart-{number}-desc"
    aspect_attr = f' preserveAspectRatio="{aspect}"' if aspect else ""
    return Markup(  # noqa: S704 - title and description escaped here, body where it was built
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {width} {height}" '
        f'width="100%"{aspect_attr} focusable="false">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


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
    out = []
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
    return _frame(WIDTH, height, title, description, out, aspect="xMinYMin meet")


def _series_style(number: int) -> tuple[str, str]:
    """The colour and dash attribute of the ``number``-th series: the first solid, the
    others dashed, so that they differ without colour too (WCAG 1.4.1)."""
    dash = "" if number == 0 else ' stroke-dasharray="6 4"'
    return PALETTE[number % len(PALETTE)], dash


def _nice_max(value: float) -> float:
    """The top of the value axis: ``value`` rounded up to 1, 2, 2.5 or 5 times a power of 10."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str = "",
) -> Markup:
    """One line per series over the x labels (months); gaps where a value is None."""
    width, height = 640, 300
    left, right, top_margin, bottom = 60, 20, 20, 70
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    values = [v for _name, vals in series for v in vals if v is not None]
    top = _nice_max(max(values, default=0))
    count = max(len(x_labels), 1)
    step = plot_w / max(count - 1, 1)
    body = []
    for tick in range(5):
        value = top * tick / 4
        y = top_margin + plot_h - plot_h * tick / 4
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{AXIS_COLOUR}">{escape(format_number(value))}</text>'
        )
    for index, label in enumerate(x_labels):
        x = left + index * step
        body.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
            f'fill="{AXIS_COLOUR}">{escape(label)}</text>'
        )
    for number, (name, vals) in enumerate(series):
        colour, dash = _series_style(number)
        segments: list[list[str]] = [[]]
        for index, value in enumerate(vals):
            if value is None:
                segments.append([])
                continue
            x = left + index * step
            y = top_margin + plot_h - (plot_h * value / top if top else 0)
            segments[-1].append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        for points in segments:
            if len(points) > 1:
                body.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash}/>'
                )
        legend_y = height - 22  # the legends side by side, under the months
        legend_x = left + number * 220
        body.append(
            f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 24}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        body.append(
            f'<text x="{legend_x + 30}" y="{legend_y + 4}" font-size="12" fill="{LEGEND_COLOUR}">'
            f"{escape(name)}</text>"
        )
    desc_parts = []
    for name, vals in series:
        shown = ", ".join(
            f"{label} {format_number(v) if v is not None else 'n.d.'}"
            for label, v in zip(x_labels, vals, strict=False)
        )
        desc_parts.append(f"{name}{(' (' + unit + ')') if unit else ''} : {shown}")
    return _frame(width, height, title, ". ".join(desc_parts), body)


def radar_chart(
    title: str,
    axes: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    max_value: float,
) -> Markup:
    """A radar (spider) chart: one polygon per series over the axes, 0 at the centre."""
    size, radius = 480, 160
    cx = cy = size / 2
    n = max(len(axes), 3)
    body = []

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * (max(0.0, min(value, max_value)) / max_value if max_value else 0)
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    for ring in range(1, int(max_value) + 1):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        body.append(
            f'<polygon points="{pts}" fill="none" stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
    for index, label in enumerate(axes):
        x, y = point(index, max_value)
        body.append(
            f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="{GRID_COLOUR}" '
            f'stroke-width="1"/>'
        )
        lx, ly = point(index, max_value * 1.18)
        anchor = "middle" if abs(lx - cx) < 10 else ("start" if lx > cx else "end")
        name = label if len(label) <= 26 else label[:25] + "…"
        body.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="12" '
            f'fill="{LEGEND_COLOUR}">{escape(name)}</text>'
        )
    for number, (name, vals) in enumerate(series):
        colour, dash = _series_style(number)
        pts = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (point(i, v or 0) for i, v in enumerate(vals))
        )
        body.append(
            f'<polygon points="{pts}" fill="{colour}" fill-opacity="0.15" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        body.append(
            f'<rect x="10" y="{size - 40 + number * 18}" width="14" height="4" fill="{colour}"/>'
        )
        body.append(
            f'<text x="30" y="{size - 34 + number * 18}" font-size="12" fill="{LEGEND_COLOUR}">'
            f"{escape(name)}</text>"
        )
    desc = ". ".join(
        f"{name} : "
        + ", ".join(
            f"{axis} {format_number(v) if v is not None else 'n.d.'}"
            for axis, v in zip(axes, vals, strict=False)
        )
        for name, vals in series
    )
    return _frame(size, size, title, desc, body)


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
