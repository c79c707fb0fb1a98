"""A daily bar chart as SVG markup, drawn on the server (no script, no inline style)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 48, 28, 12


@dataclass(frozen=True)
class Line:
    """A horizontal threshold drawn across the chart (named in the caption's legend)."""

    value: float
    label: str
    css: str


def bar_chart(title: str, days: Sequence[str], values: Sequence[float],
              lines: Sequence[Line] = (), unit: str = "") -> str:
    """Bars for ``values`` (one per day), threshold ``lines``, a title for screen readers."""
    top = max([*values, *(line.value for line in lines), 0]) or 1.0
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(days), 1)

    def y(value: float) -> float:
        return PAD_TOP + plot_h - value / top * plot_h

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<line class="axis" x1="{PAD_LEFT}" y1="{y(0):.1f}" x2="{WIDTH - 8}" '
             f'y2="{y(0):.1f}"/>',
             f'<text class="tick" x="{PAD_LEFT - 4}" y="{y(top) + 4:.1f}" text-anchor="end">'
             f"{_fmt(top, unit)}</text>"]
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        x = PAD_LEFT + i * step + step * 0.15
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y(value):.1f}" '
                     f'width="{step * 0.7:.1f}" height="{y(0) - y(value):.1f}">'
                     f"<title>{escape(day)}: {_fmt(value, unit)}</title></rect>")
        if (len(days) - 1 - i) % 7 == 0:
            parts.append(f'<text class="tick" x="{x + step * 0.35:.1f}" y="{HEIGHT - 8}" '
                         'text-anchor="middle">'
                         f"{escape(day[5:])}</text>")
    for line in lines:
        parts.append(f'<line class="{line.css}" x1="{PAD_LEFT}" y1="{y(line.value):.1f}" '
                     f'x2="{WIDTH - 8}" y2="{y(line.value):.1f}">'
                     f"<title>{escape(line.label)}</title></line>")
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float, unit: str) -> str:
    return f"{value * 100:.1f} %" if unit == "%" else f"{value:g}"
