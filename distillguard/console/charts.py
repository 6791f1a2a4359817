"""Charts drawn on the server as inline SVG: no script, no CDN, printable, fast.

:func:`daily_chart` draws requests per day as columns with a date axis; :func:`bar_chart` draws
labelled horizontal bars (capability or method shares). Both return :class:`markupsafe.Markup`
that templates insert as is; every text inside is escaped here.

>>> from datetime import date
>>> svg = daily_chart([(date(2026, 4, 1), 10), (date(2026, 4, 2), 14)])
>>> svg.startswith('<svg') and 'data-chart="daily"' in svg
True
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

PALETTE = ("#3867d6", "#20bf6b", "#fa8231", "#8854d0", "#eb3b5a", "#0fb9b1", "#f7b731", "#4b6584")


def _fill_days(series: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """The series with absent days between the first and last as zero."""
    if not series:
        return []
    counts = dict(series)
    first, last = min(counts), max(counts)
    days = (last - first).days + 1
    return [(first + timedelta(d), counts.get(first + timedelta(d), 0)) for d in range(days)]


def _axis(value: int) -> tuple[int, int]:
    """A round tick step and 4 or 5 ticks whose top is at least ``value``."""
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            for ticks in (4, 5):
                if step * ticks >= value:
                    return step, ticks
        magnitude *= 10


def human(value: float) -> str:
    """A short number for an axis: ``950``, ``12k``, ``3.4M``."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return f"{value:g}"


def daily_chart(
    series: Sequence[tuple[date, int]],
    *,
    width: int = 720,
    height: int = 220,
    label: str = "requests per day",
    color: str = PALETTE[0],
) -> Markup:
    """Columns of requests per day, with y gridlines and about six date labels."""
    days = _fill_days(series)
    left, right, top, bottom = 52, 12, 16, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg class="chart" data-chart="daily" data-points="{len(days)}" role="img"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
    ]
    if not days:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="muted">'
            "no requests in the loaded logs</text></svg>"
        )
        return Markup("".join(parts))
    step, ticks = _axis(max(n for _, n in days))
    peak = step * ticks
    for i in range(ticks + 1):
        value = step * i
        y = top + plot_h - plot_h * i / ticks
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{human(value)}</text>"
        )
    slot = plot_w / len(days)
    bar_w = max(slot * 0.8, 0.6)
    for i, (day, n) in enumerate(days):
        h = plot_h * n / peak
        x = left + i * slot + (slot - bar_w) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}"'
            f' fill="{color}"><title>{day.isoformat()}: {n:,}</title></rect>'
        )
    step = max(1, round(len(days) / 6))
    for i in range(0, len(days), step):
        x = left + i * slot + slot / 2
        anchor = "end" if x > width - right - 24 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" class="axis">'
            f"{days[i][0].strftime('%b %d')}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    width: int = 520,
    row: int = 24,
    percent: bool = True,
    label: str = "shares",
) -> Markup:
    """Horizontal bars, one per ``(label, value)``; values are shares (0..1) when ``percent``."""
    label_w = int(min(420, 16 + 7.2 * max((len(name) for name, _ in items), default=10)))
    width = max(width, label_w + 300)
    height = max(row * len(items) + 8, row)
    parts = [
        f'<svg class="chart" data-chart="bars" data-bars="{len(items)}" role="img"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
    ]
    peak = max((v for _, v in items), default=0.0) or 1.0
    scale = 1.0 if percent else peak
    bar_space = width - label_w - 60
    for i, (name, value) in enumerate(items):
        y = 4 + i * row
        w = bar_space * value / scale
        shown = f"{value:.0%}" if percent else f"{value:,.0f}"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row * 0.65:.1f}" text-anchor="end" class="label">'
            f"{escape(name)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}"'
            f' fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(name)}: {shown}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + row * 0.65:.1f}" class="value">{shown}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
