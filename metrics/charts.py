"""Charts as SVG rendered on the server: no JavaScript, readable without colour (shapes, labels, text)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .rules import STATUS, Status, fmt


def sparkline(
    values: list[Decimal | None], *, width: int = 120, height: int = 28, label: str = ""
) -> SafeString:
    """A tiny line of the last values; gaps stay gaps. The label is the accessible name."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    title = escape(label or "Recent values")
    if not points:
        return mark_safe(
            f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="{title}: no data yet">'
            f'<line x1="0" y1="{height / 2}" x2="{width}" y2="{height / 2}" class="spark__none"/></svg>'
        )
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return round(i * step, 1), round(height - 3 - (v - low) / span * (height - 6), 1)

    path = " ".join(f"{x},{y}" for x, y in (xy(i, v) for i, v in points))
    last_x, last_y = xy(*points[-1])
    return mark_safe(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{title}: latest {fmt(points[-1][1])}">'
        f'<polyline points="{path}" class="spark__line"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2.5" class="spark__dot"/></svg>'
    )


def kpi_chart(
    *,
    series: list[tuple[date, Decimal | None, Decimal]],
    statuses: list[Status | None],
    labels: list[str],
    target_upper: Decimal | None,
    amber: Decimal | None,
    red: Decimal | None,
    within: bool,
    title: str,
    width: int = 720,
    height: int = 280,
) -> SafeString:
    """Values per period with the target (a line, or a band for a range) and the amber/red lines.

    Each point carries its value as text and a shape per status (● on track, ▲ at risk, ■ off track),
    so the chart reads in greyscale and to a screen reader (a <title> per point).
    """
    left, right, top, bottom = 56, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for _, v, _ in series if v is not None]
    refs = [float(t) for _, _, t in series]
    refs += [float(x) for x in (target_upper, amber, red) if x is not None and not within]
    if within and target_upper is not None:
        refs.append(float(target_upper))
    low, high = min(values + refs), max(values + refs)
    pad = (high - low) * 0.1 or 1.0
    low, high = low - pad, high + pad
    n = len(series)
    step = plot_w / max(n - 1, 1)

    def x(i: int) -> float:
        return round(left + i * step, 1)

    def y(v: float) -> float:
        return round(top + plot_h - (v - low) / (high - low) * plot_h, 1)

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_describe(series, labels))}</desc>',
    ]
    v: float | Decimal | None  # a grid line's value here, a period's value below
    for k in range(5):  # horizontal grid with values
        v = low + (high - low) * k / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v)}" y2="{y(v)}" class="chart__grid"/>')
        out.append(
            f'<text x="{left - 6}" y="{y(v) + 4}" class="chart__axis" text-anchor="end">{escape(fmt(v))}</text>'
        )
    targets = [float(t) for _, _, t in series]
    if within and target_upper is not None:
        band_top, band_bottom = y(float(target_upper)), y(targets[-1])
        out.append(
            f'<rect x="{left}" y="{band_top}" width="{plot_w}" height="{max(band_bottom - band_top, 1)}" class="chart__band"/>'
        )
        out.append(
            f'<text x="{width - right}" y="{band_top - 4}" class="chart__ref" text-anchor="end">target range</text>'
        )
    else:
        path = " ".join(f"{x(i)},{y(t)}" for i, t in enumerate(targets))
        out.append(f'<polyline points="{path}" class="chart__target"/>')
        out.append(
            f'<text x="{width - right}" y="{y(targets[-1]) - 4}" class="chart__ref" text-anchor="end">target {escape(fmt(targets[-1]))}</text>'
        )
        for value, css, name in ((amber, "chart__amber", "amber"), (red, "chart__red", "red")):
            if value is not None:
                out.append(
                    f'<line x1="{left}" x2="{width - right}" y1="{y(float(value))}" y2="{y(float(value))}" class="{css}"/>'
                )
                out.append(
                    f'<text x="{left + 4}" y="{y(float(value)) - 4}" class="chart__ref">{name} {escape(fmt(value))}</text>'
                )
    points = [(i, float(v)) for i, (_, v, _) in enumerate(series) if v is not None]
    if points:
        out.append(
            f'<polyline points="{" ".join(f"{x(i)},{y(v)}" for i, v in points)}" class="chart__line"/>'
        )
    for i, (_start, v, t) in enumerate(series):
        if i % max(1, n // 8) == 0 or i == n - 1:
            out.append(
                f'<text x="{x(i)}" y="{height - 12}" class="chart__axis" text-anchor="middle">{escape(labels[i])}</text>'
            )
        if v is None:
            continue
        status = statuses[i]
        key = status.key if status else "none"
        shape = _shape(key, x(i), y(float(v)))
        words = f"{labels[i]}: {fmt(v)} (target {fmt(t)}), {STATUS[key][2].lower()}"
        out.append(f'<g class="chart__point chart__point--{key}"><title>{escape(words)}</title>{shape}</g>')
    out.append("</svg>")
    return mark_safe("".join(out))


def _shape(key: str, cx: float, cy: float) -> str:
    if key == "amber":
        return f'<polygon points="{cx},{cy - 6} {cx - 6},{cy + 5} {cx + 6},{cy + 5}"/>'
    if key == "red":
        return f'<rect x="{cx - 5}" y="{cy - 5}" width="10" height="10"/>'
    return f'<circle cx="{cx}" cy="{cy}" r="5"/>'


def _describe(series, labels) -> str:
    measured = [(labels[i], v) for i, (_, v, _) in enumerate(series) if v is not None]
    if not measured:
        return "No values recorded in these periods."
    first, last = measured[0], measured[-1]
    return f"{len(measured)} values from {first[0]} ({fmt(first[1])}) to {last[0]} ({fmt(last[1])})."
