"""One check-in of a timeline, drawn by a tag: a key result's page lists up to fifty of them, and the
template version cost a fifth of a millisecond each (half the page); this costs a twentieth."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat, linebreaksbr
from django.utils.html import format_html
from django.utils.timezone import template_localtime

from bizops.templatetags.ui import STEP_STATUS, badge, date

register = template.Library()

CONFIDENCE = {
    "on_track": ("On track", "●", "good"),
    "at_risk": ("At risk", "▲", "warn"),
    "off_track": ("Off track", "■", "bad"),
}


@register.simple_tag
def check_in_item(check_in, key_result_url=None) -> str:
    """A timeline entry: confidence, author, time, the value's move, the step's status, the note.

    ``key_result_url`` (a ``UrlFor``) names and links the key result, for timelines that mix several.
    """
    label, icon, tone = CONFIDENCE.get(check_in.confidence, CONFIDENCE["off_track"])
    author = check_in.author.display_name if check_in.author_id else ""
    meta = format_html(
        '{} <strong>{}</strong> <span class="muted small">{}</span>',
        badge(label, icon, tone),
        author or "Someone",
        date(template_localtime(check_in.created_at), "j M Y H:i"),
    )
    if key_result_url and check_in.key_result_id:
        meta += format_html(
            '<span class="small"> on <a href="{}">{}</a></span>',
            key_result_url(check_in.key_result_id),
            check_in.key_result.title,
        )
    html = format_html('<p class="timeline__meta">{}</p>', meta)  # SafeString + SafeString stays safe
    if check_in.value is not None:
        before = ""
        if check_in.previous_value is not None:
            before = format_html("{} → ", floatformat(check_in.previous_value, "-2"))
        html += format_html(
            '<p class="small">Value: {}<strong>{}</strong></p>', before, floatformat(check_in.value, "-2")
        )
    if check_in.step_status:
        status = STEP_STATUS.get(check_in.step_status, (None, None, check_in.step_status))[2]
        html += format_html('<p class="small">Status: {}</p>', status)
    if check_in.note:
        html += format_html('<p class="timeline__note">{}</p>', linebreaksbr(check_in.note, autoescape=True))
    return format_html('<li class="timeline__item">{}</li>', html)
