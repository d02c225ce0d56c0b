"""Charts as SVG rendered on the server: no JavaScript, readable without colour (shapes, labels, text)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .forecast import Forecast, day_label
from .forecast import expected as expected_share
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


def progress_chart(
    *,
    series: list[tuple[date, float]],
    start: date,
    end: date,
    today: date,
    forecast: Forecast | None,
    title: str,
    chart_id: str = "progress",
    width: int = 720,
    height: int = 240,
) -> SafeString:
    """Progress over a period against the expected pace (a straight line from 0% on the first day to
    100% on the last), with today marked and the forecast drawn on to the due date, dashed.

    The lines differ by dash as well as colour, each is named in the legend, and <desc> says the
    figures in words, so the chart reads in greyscale and to a screen reader."""
    left, right, top, bottom = 44, 16, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(left + min(max((day - start).days, 0), span) / span * plot_w, 1)

    def y(value: float) -> float:
        return round(top + plot_h * (1 - min(max(value, 0.0), 1.0)), 1)

    out = [
        f'<svg class="chart chart--progress" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe_progress(series, start, end, today, forecast))}</desc>',
    ]
    for k in range(5):
        v = k / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v)}" y2="{y(v)}" class="chart__grid"/>')
        out.append(
            f'<text x="{left - 6}" y="{y(v) + 4}" class="chart__axis" text-anchor="end">{k * 25}%</text>'
        )
    for day in _month_ticks(start, end):
        out.append(
            f'<text x="{x(day)}" y="{height - 26}" class="chart__axis" text-anchor="middle">'
            f"{escape(day.strftime('%b') if day.month != 1 or day == start else day.strftime('%b %Y'))}</text>"
        )
    out.append(f'<line x1="{x(start)}" y1="{y(0)}" x2="{x(end)}" y2="{y(1)}" class="chart__pace"/>')
    if start <= today <= end:
        out.append(f'<line x1="{x(today)}" x2="{x(today)}" y1="{top}" y2="{y(0)}" class="chart__today"/>')
        out.append(
            f'<text x="{x(today)}" y="{top + 10}" class="chart__ref" text-anchor="middle">today</text>'
        )
    shown = [(day, value) for day, value in series if start <= day <= end]
    if shown:
        path = " ".join(f"{x(day)},{y(value)}" for day, value in shown)
        out.append(f'<polyline points="{path}" class="chart__line"/>')
        last_day, last = shown[-1]
        out.append(f'<circle cx="{x(last_day)}" cy="{y(last)}" r="4" class="chart__dot"/>')
        if forecast is not None and forecast.value is not None and forecast.due is not None:
            out.append(
                f'<line x1="{x(last_day)}" y1="{y(last)}" x2="{x(forecast.due)}" y2="{y(forecast.value)}" '
                'class="chart__forecast"/>'
            )
            out.append(
                f'<circle cx="{x(forecast.due)}" cy="{y(forecast.value)}" r="3" class="chart__forecast-dot"/>'
            )
    legend_y = height - 8
    out.append(
        f'<line x1="{left}" x2="{left + 22}" y1="{legend_y - 4}" y2="{legend_y - 4}" class="chart__line"/>'
        f'<text x="{left + 28}" y="{legend_y}" class="chart__axis">progress</text>'
        f'<line x1="{left + 100}" x2="{left + 122}" y1="{legend_y - 4}" y2="{legend_y - 4}" class="chart__pace"/>'
        f'<text x="{left + 128}" y="{legend_y}" class="chart__axis">expected pace</text>'
        f'<line x1="{left + 230}" x2="{left + 252}" y1="{legend_y - 4}" y2="{legend_y - 4}" class="chart__forecast"/>'
        f'<text x="{left + 258}" y="{legend_y}" class="chart__axis">forecast</text>'
    )
    out.append("</svg>")
    return mark_safe("".join(out))


def progress_trend(
    *,
    series: list[tuple[date, float]],
    start: date,
    end: date,
    label: str,
    width: int = 120,
    height: int = 28,
) -> SafeString:
    """A dashboard row's progress line over its period, the expected pace behind it (dashed)."""
    span = max((end - start).days, 1)

    def xy(day: date, value: float) -> str:
        left = min(max((day - start).days, 0), span) / span * width
        return f"{round(left, 1)},{round(height - 2 - min(max(value, 0.0), 1.0) * (height - 4), 1)}"

    shown = [(day, value) for day, value in series if start <= day <= end]
    words = f"{label}: {round(shown[-1][1] * 100)}%" if shown else f"{label}: no history yet"
    out = [
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(words)}">',
        f'<line x1="0" y1="{height - 2}" x2="{width}" y2="2" class="spark__pace"/>',
    ]
    if shown:
        out.append(f'<polyline points="{" ".join(xy(d, v) for d, v in shown)}" class="spark__line"/>')
    out.append("</svg>")
    return mark_safe("".join(out))


def _month_ticks(start: date, end: date) -> list[date]:
    """The first day of each month in the period (and the first day itself), at most about eight."""
    ticks = [start]
    month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    while month <= end:
        ticks.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    step = max(1, round(len(ticks) / 8))
    return ticks[::step]


def _describe_progress(series, start: date, end: date, today: date, forecast: Forecast | None) -> str:
    words = [f"From {start.day} {start:%b %Y} to {end.day} {end:%b %Y}."]
    if series:
        first_day, first = series[0]
        last_day, last = series[-1]
        words.append(
            f"{round(first * 100)}% on {day_label(first_day, today)}, {round(last * 100)}% on {day_label(last_day, today)}."
        )
    else:
        words.append("No progress recorded yet.")
    if start <= today <= end:
        words.append(f"The expected pace says {round(expected_share(today, start, end) * 100)}% by today.")
    if forecast is not None:
        words.append(forecast.rule)
    return " ".join(words)
