"""Server-side SVG line and radar charts for the network pages (bars: core.charts):
accessible (role="img", <title> and <desc> tied with aria-labelledby) and always shown next
to a data table with the same figures.

No inline style attributes (the CSP forbids them): presentation attributes only. Every text
that reaches the SVG is escaped with markupsafe.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1f5fa6", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490")
AXIS = "#4b5563"
GRID = "#d1d5db"


def _fmt(value: float, decimals: int = 1) -> str:
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def _frame(width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    uid = secrets.token_hex(4)
    return Markup(  # noqa: S704 - every text in ``body`` was escaped where it was built
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="chart-{uid}-title chart-{uid}-desc" focusable="false">'
        f'<title id="chart-{uid}-title">{escape(title)}</title>'
        f'<desc id="chart-{uid}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _nice_max(value: float) -> float:
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
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{AXIS}">{escape(_fmt(value))}</text>'
        )
    for index, label in enumerate(x_labels):
        x = left + index * step
        body.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
            f'fill="{AXIS}">{escape(label)}</text>'
        )
    for number, (name, vals) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        dash = "" if number == 0 else ' stroke-dasharray="6 4"'
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
        legend_y = height - 22 + 0 * number
        legend_x = left + number * 220
        body.append(
            f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 24}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        body.append(
            f'<text x="{legend_x + 30}" y="{legend_y + 4}" font-size="12" fill="#111827">'
            f"{escape(name)}</text>"
        )
    desc_parts = []
    for name, vals in series:
        shown = ", ".join(
            f"{label} {_fmt(v) if v is not None else 'n.d.'}"
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
        body.append(f'<polygon points="{pts}" fill="none" stroke="{GRID}" stroke-width="1"/>')
    for index, label in enumerate(axes):
        x, y = point(index, max_value)
        body.append(
            f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-width="1"/>'
        )
        lx, ly = point(index, max_value * 1.18)
        anchor = "middle" if abs(lx - cx) < 10 else ("start" if lx > cx else "end")
        name = label if len(label) <= 26 else label[:25] + "…"
        body.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="12" '
            f'fill="#111827">{escape(name)}</text>'
        )
    for number, (name, vals) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        pts = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (point(i, v or 0) for i, v in enumerate(vals))
        )
        dash = "" if number == 0 else ' stroke-dasharray="6 4"'
        body.append(
            f'<polygon points="{pts}" fill="{colour}" fill-opacity="0.15" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        body.append(
            f'<rect x="10" y="{size - 40 + number * 18}" width="14" height="4" fill="{colour}"/>'
        )
        body.append(
            f'<text x="30" y="{size - 34 + number * 18}" font-size="12" fill="#111827">'
            f"{escape(name)}</text>"
        )
    desc = ". ".join(
        f"{name} : "
        + ", ".join(
            f"{axis} {_fmt(v) if v is not None else 'n.d.'}"
            for axis, v in zip(axes, vals, strict=False)
        )
        for name, vals in series
    )
    return _frame(size, size, title, desc, body)
