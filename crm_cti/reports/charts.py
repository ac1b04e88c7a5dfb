"""Charts drawn as SVG on the server: a bar chart and a 7 x 24 heat map.

No JavaScript and no library: the page is the chart. Every label goes through ``escape``
(a caller id name or a disposition is text someone else chose), numbers are formatted
here, and each shape carries a <title> so hovering shows its exact value.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_COLOUR = "#2f6fde"
# Heat-map cells go from this (no calls) to BAR_COLOUR (the busiest cell).
EMPTY_RGB = (238, 242, 248)
FULL_RGB = (47, 111, 222)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bar(*, x: float, y: float, width: float, height: float, label: str, value: float) -> str:
    """One bar, its label and value as data attributes and as the hover text."""
    text, number = escape(label), escape(_number(value))
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{BAR_COLOUR}" data-label="{text}" data-value="{number}">'
        f"<title>{text}: {number}</title></rect>"
    )


def bar_chart(
    *,
    items: Sequence[tuple[str, float]],
    title: str,
    width: int = 560,
    height: int = 200,
    horizontal: bool = False,
) -> SafeString:
    """Vertical bars (hours, weekdays) or horizontal ones (long labels: callers,
    dispositions) for ``items`` = [(label, value), ...]."""
    if horizontal:
        return _hbars(items=items, title=title, width=width)
    left, bottom, top = 36, 22, 10
    plot_w, plot_h = width - left - 6, height - bottom - top
    peak = max((v for _, v in items), default=0) or 1
    slot = plot_w / max(len(items), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6}" y2="{top + plot_h}" '
        'stroke="#999" stroke-width="1"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="axis">'
        f"{escape(_number(peak))}</text>",
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" class="axis">0</text>',
    ]
    # Label every bar while they fit; past 12 bars (hours), every other one.
    step = 1 if len(items) <= 12 else 2
    for index, (label, value) in enumerate(items):
        bar_h = plot_h * value / peak
        x = left + index * slot + slot * 0.15
        y = top + plot_h - bar_h
        parts.append(
            _bar(x=x, y=y, width=slot * 0.7, height=bar_h, label=label, value=value)
        )
        if index % step == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - 6}" text-anchor="middle" '
                f'class="axis">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _hbars(*, items: Sequence[tuple[str, float]], title: str, width: int) -> SafeString:
    row, label_w = 22, 170
    height = max(len(items), 1) * row + 8
    peak = max((v for _, v in items), default=0) or 1
    plot_w = width - label_w - 50
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>',
    ]
    for index, (label, value) in enumerate(items):
        y = 4 + index * row
        bar_w = plot_w * value / peak
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" class="axis">'
            f"{escape(short)}</text>"
            + _bar(x=label_w, y=y + 3, width=bar_w, height=row - 6, label=label, value=value)
            + f'<text x="{label_w + bar_w + 4:.1f}" y="{y + 15}" class="axis">'
            f"{escape(_number(value))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _shade(value: int, peak: int) -> str:
    share = value / peak if peak else 0
    r, g, b = (round(e + (f - e) * share) for e, f in zip(EMPTY_RGB, FULL_RGB, strict=True))
    return f"rgb({r},{g},{b})"


def heat_map(*, rows: Sequence[Sequence[int]], row_labels: Sequence[str], title: str) -> SafeString:
    """A grid of ``rows`` (days) x 24 hours, each cell shaded by its share of the busiest."""
    cell, left, top = 22, 40, 18
    width, height = left + 24 * cell + 4, top + len(rows) * cell + 4
    peak = max((max(r, default=0) for r in rows), default=0)
    parts = [
        f'<svg class="chart heat" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>',
    ]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text x="{left + hour * cell + cell / 2}" y="{top - 5}" text-anchor="middle" '
            f'class="axis">{hour:02d}</text>'
        )
    for r, (label, values) in enumerate(zip(row_labels, rows, strict=True)):
        y = top + r * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" class="axis">'
            f"{escape(label)}</text>"
        )
        for hour, value in enumerate(values):
            parts.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{_shade(value, peak)}" data-day="{escape(label)}" data-hour="{hour}" '
                f'data-value="{value}"><title>{escape(label)} {hour:02d}:00–{hour:02d}:59: '
                f"{value} call{'s' if value != 1 else ''}</title></rect>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
