"""Charts drawn on the server as SVG: no JavaScript, they print, and they scale with the page.

Every chart is an image with a title and a description for screen readers; the page shows the
same numbers in a table, so no figure lives only in a colour or a bar's length. Markup is built
with `Markup.format`, which escapes every value, so a label can never inject markup.

Text in an SVG is not measured by the browser before it is placed, so every column is sized here
from its longest text at `CHAR_W` a character (wider than the average glyph of a sans-serif face
at the charts' 14 px), and the chart grows rather than cut a label off; axes end on a round value
whose halves are whole ("200 ms", "100 ms"), never on the data's own maximum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup

WIDTH = 480
LABEL_W = 120
VALUE_W = 100
MIN_SPAN = 200  # the bars' own room, whatever the labels take
CHAR_W = 8.4  # 0.6 em at 14 px (svg.chart's font-size)
ROW_H = 30
PLOT_H = 180
TOP = 10
PALETTE = ("#1f5fa8", "#2e7d32", "#b3261e", "#7b4fa0", "#8a5a00", "#00687a", "#5f6368")
STATUS_COLOURS = {
    "completed": "#2e7d32",
    "transferred": "#7b4fa0",
    "in_progress": "#1f5fa8",
    "ringing": "#00687a",
    "queued": "#5f6368",
    "failed": "#b3261e",
    "busy": "#8a5a00",
    "no_answer": "#a0522d",
    "canceled": "#3c4043",
}
_NO_DATA = "No calls in this range."
_TEXT = Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}">{}</text>')
_RECT = Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>')
_LINE = Markup('<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="{}"/>')


def text_width(text: str) -> float:
    return len(text) * CHAR_W


def nice_top(value: float) -> float:
    """The round value an axis ends on: 2, 4, 6, 8 or 10 times a power of ten, at least 2."""
    if value <= 2:
        return 2.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(float(m * power) for m in (2, 4, 6, 8, 10) if m * power >= value)


def _frame(
    ident: str,
    title: str,
    desc: str,
    height: float,
    parts: Sequence[Markup],
    width: float = WIDTH,
) -> Markup:
    return Markup(
        '<svg class="chart" viewBox="0 0 {w:.0f} {h:.0f}" role="img" '
        'aria-labelledby="{i}-t {i}-d" preserveAspectRatio="xMinYMin meet">'
        '<title id="{i}-t">{t}</title><desc id="{i}-d">{d}</desc>{body}</svg>'
    ).format(w=width, h=height, i=ident, t=title, d=desc, body=Markup("").join(parts))


def _empty(ident: str, title: str) -> Markup:
    return _frame(ident, title, "no data", 40, [_TEXT.format(10, 25, "start", _NO_DATA)])


def bars(
    ident: str, title: str, rows: Sequence[tuple[str, int, str]], colour: str = PALETTE[0]
) -> Markup:
    """Horizontal bars: (label, value, the text printed after the bar)."""
    if not rows:
        return _empty(ident, title)
    top = max(value for _, value, _ in rows) or 1
    label_w = max(LABEL_W, max(text_width(label) for label, _, _ in rows) + 16)
    note_w = max(VALUE_W, max(text_width(note) for _, _, note in rows) + 12)
    frame_w = max(WIDTH, label_w + MIN_SPAN + note_w)
    span = frame_w - label_w - note_w
    parts = []
    for i, (label, value, note) in enumerate(rows):
        y = i * ROW_H + 6
        width = max(value / top * span, 1 if value else 0)
        parts += [
            _TEXT.format(label_w - 8, y + 15, "end", label),
            _RECT.format(label_w, y, width, ROW_H - 10, colour),
            _TEXT.format(label_w + width + 6, y + 15, "start", note),
        ]
    desc = "; ".join(f"{label}: {note}" for label, _, note in rows)
    return _frame(ident, title, desc, len(rows) * ROW_H + 8, parts, frame_w)


def stacked_days(
    ident: str, title: str, days: Sequence[tuple[date, dict[str, int]]], keys: Sequence[str]
) -> Markup:
    """One column per day, stacked by key, with a legend in words."""
    if not days:
        return _empty(ident, title)
    total_max = nice_top(max(sum(counts.values()) for _, counts in days))
    left = _axis_left(total_max)
    step = (WIDTH - left - 10) / len(days)
    bar_w = max(min(step * 0.7, 40), 2)
    parts = _axis(left, total_max)
    for i, (day, counts) in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        base = float(TOP + PLOT_H)
        for key in keys:
            height = counts.get(key, 0) / total_max * PLOT_H
            if height:
                base -= height
                colour = STATUS_COLOURS.get(key, PALETTE[-1])
                parts.append(_RECT.format(x, base, bar_w, height, colour))
        if _labelled(i, len(days)):
            parts.append(_TEXT.format(x + bar_w / 2, TOP + PLOT_H + 16, "middle", f"{day:%m-%d}"))
    legend_y = TOP + PLOT_H + 40
    legend, legend_h = _legend(keys, legend_y, STATUS_COLOURS)
    desc = "; ".join(
        f"{day:%Y-%m-%d}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        for day, counts in days
    )
    return _frame(ident, title, desc, legend_y + legend_h - 2, [*parts, *legend])


def lines(
    ident: str, title: str, days: Sequence[date], series: dict[str, Sequence[float]], unit: str
) -> Markup:
    """A line per series over days (e.g. p50 and p90 latency)."""
    if not days:
        return _empty(ident, title)
    top = nice_top(max((max(v) for v in series.values() if v), default=1))
    left = _axis_left(top, unit)
    span = WIDTH - left - 10 - text_width("12-31") / 2  # the last day's label fits

    step = span / max(len(days) - 1, 1)
    # One day is one point, drawn in the middle rather than on the axis.
    first = left + (span / 2 if len(days) == 1 else 0)
    parts = _axis(left, top, unit)
    colours = dict(zip(series, PALETTE, strict=False))
    for name, values in series.items():
        points = [
            (first + i * step, TOP + PLOT_H - value / top * PLOT_H)
            for i, value in enumerate(values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>').format(
                path, colours[name]
            )
        )
        parts += [
            Markup('<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>').format(x, y, colours[name])
            for x, y in points
        ]
    for i, day in enumerate(days):
        if _labelled(i, len(days)):
            parts.append(
                _TEXT.format(first + i * step, TOP + PLOT_H + 16, "middle", f"{day:%m-%d}")
            )
    legend_y = TOP + PLOT_H + 40
    legend, legend_h = _legend(list(series), legend_y, colours)
    desc = "; ".join(
        f"{day:%Y-%m-%d}: "
        + ", ".join(f"{name} {values[i]:.1f}{unit}" for name, values in series.items())
        for i, day in enumerate(days)
    )
    return _frame(ident, title, desc, legend_y + legend_h - 2, [*parts, *legend])


def _labelled(i: int, count: int) -> bool:
    """Every day's label while they fit; about eight of them once they would collide."""
    return count <= 16 or i % max(count // 8, 1) == 0


def _tick(value: float, unit: str) -> str:
    return f"{value:,.0f}{unit}"


def _axis_left(top: float, unit: str = "") -> int:
    """Room left of the axis for its widest value."""
    return max(40, math.ceil(text_width(_tick(top, unit)) + 12))


def _axis(left: int, top: float, unit: str = "") -> list[Markup]:
    """The axes, and grid lines at half and all of `top` (a `nice_top`, so both are whole)."""
    bottom = TOP + PLOT_H
    parts = [
        _LINE.format(left, TOP, left, bottom, "axis"),
        _LINE.format(left, bottom, WIDTH - 10, bottom, "axis"),
    ]
    for fraction in (0.5, 1.0):
        y = bottom - fraction * PLOT_H
        parts += [
            _LINE.format(left, y, WIDTH - 10, y, "grid"),
            _TEXT.format(left - 6, y + 4, "end", _tick(top * fraction, unit)),
        ]
    return parts


def _legend(keys: Sequence[str], y: int, colours: dict[str, str]) -> tuple[list[Markup], int]:
    """The legend's parts and height: as many keys a row as fit their longest name."""
    column = max(115.0, max((text_width(key) for key in keys), default=0) + 30)
    per_row = max(1, int((WIDTH - 10) // column))
    parts = []
    for i, key in enumerate(keys):
        x, row = 10 + (i % per_row) * column, y + (i // per_row) * 22
        parts += [
            _RECT.format(x, row - 11, 12, 12, colours.get(key, PALETTE[-1])),
            _TEXT.format(x + 18, row, "start", key),
        ]
    return parts, 22 * max(1, -(-len(keys) // per_row))
