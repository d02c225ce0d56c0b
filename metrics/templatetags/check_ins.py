"""One check-in of a timeline, drawn by a tag: a key result's page lists up to fifty of them, and the
template version cost a fifth of a millisecond each (half the page); this costs a twentieth."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # in Django, not in django-stubs

from bizops.templatetags.ui import STEP_STATUS, badge, date, esc, two_places

register = template.Library()

CONFIDENCE = {
    "on_track": ("On track", "dot", "good"),
    "at_risk": ("At risk", "warning", "warn"),
    "off_track": ("Off track", "stop", "bad"),
}


@register.simple_tag
def check_in_item(check_in, key_result_url=None) -> str:
    """A timeline entry: confidence, author, time, the value's move, the step's status, the note.

    ``key_result_url`` (a ``UrlFor``) names and links the key result, for timelines that mix several.
    Built with f-strings, every value through ``esc`` (the note through ``linebreaksbr``, which escapes).
    """
    label, icon, tone = CONFIDENCE.get(check_in.confidence, CONFIDENCE["off_track"])
    author = check_in.author.display_name if check_in.author_id else ""
    when = date(template_localtime(check_in.created_at), "j M Y H:i")
    html = (
        f'<li class="timeline__item"><p class="timeline__meta">{badge(label, icon, tone)} '
        f'<strong>{esc(author or "Someone")}</strong> <span class="muted small">{esc(when)}</span>'
    )
    if key_result_url and check_in.key_result_id:
        html += (
            f'<span class="small"> on <a href="{esc(key_result_url(check_in.key_result_id))}">'
            f"{esc(check_in.key_result.title)}</a></span>"
        )
    html += "</p>"
    if check_in.value is not None:
        before = (
            f"{esc(two_places(check_in.previous_value))} → " if check_in.previous_value is not None else ""
        )
        html += f'<p class="small">Value: {before}<strong>{esc(two_places(check_in.value))}</strong></p>'
    if check_in.step_status:
        status = STEP_STATUS.get(check_in.step_status, (None, None, check_in.step_status))[2]
        html += f'<p class="small">Status: {esc(status)}</p>'
    if check_in.note:
        html += f'<p class="timeline__note">{linebreaksbr(check_in.note, autoescape=True)}</p>'
    return mark_safe(html + "</li>")  # every value is escaped above
