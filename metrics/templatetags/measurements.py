"""A KPI's history table row, drawn by a tag: the KPI page lists fifty measurements, and as template
markup they were a third of the page (~60 µs each); this takes a fifth of that. Every value escaped."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # in Django, not in django-stubs

from bizops.templatetags.ui import date, esc, two_places

register = template.Library()


@register.simple_tag
def measurement_row(measurement) -> str:
    """Period, value (struck through when a later one corrected it), who recorded it, when, the note."""
    value = esc(two_places(measurement.value))
    if measurement.is_current:
        row, shown = "<tr>", value
    else:
        row, shown = (
            '<tr class="superseded">',
            f'<del>{value}</del> <span class="muted small">corrected</span>',
        )
    who = measurement.recorded_by.display_name if measurement.recorded_by_id else ""
    when = date(template_localtime(measurement.recorded_at), "j M Y H:i")
    return mark_safe(  # every value is escaped
        f'{row}<td>{esc(measurement.label)}</td><td class="num">{shown}</td>'
        f"<td>{esc(who or '—')}</td><td>{esc(when)}</td><td>{esc(measurement.note)}</td></tr>"
    )
