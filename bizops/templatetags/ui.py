"""The small UI components every page repeats: badges, progress bars, step and plan statuses.

Simple tags rather than ``{% include %}``: a big strategy map draws a thousand of them, and an include
costs a template render with its own context each time (about twenty times a ``format_html``).
Registered as template builtins (``TEMPLATES[...]["OPTIONS"]["builtins"]``), so no ``{% load %}``.

Also here: the ``date`` filter, Django's own with a memory for plain dates (see ``date``).
"""

from __future__ import annotations

import datetime
from functools import lru_cache

from django import template
from django.template import defaultfilters
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.translation import get_language

register = template.Library()

STEP_STATUS = {
    "done": ("good", "✓", "Done"),
    "doing": ("accent", "▶", "Doing"),
    "blocked": ("bad", "■", "Blocked"),
    "todo": ("neutral", "○", "To do"),
}
PLAN_STATUS = {
    "draft": ("neutral", "✎", "Draft"),
    "in_review": ("accent", "⧗", "In review"),
    "changes_requested": ("warn", "↺", "Changes requested"),
    "approved": ("good", "✓", "Approved"),
    "active": ("good", "▶", "Active"),
    "amending": ("warn", "✎", "Amendment in progress"),
    "closed": ("neutral", "■", "Closed"),
}


@register.simple_tag
def badge(label: str = "", icon: str = "", tone: str = "") -> str:
    """A label in a coloured pill; the icon repeats the meaning for those who do not see colour."""
    if icon:
        return format_html(
            '<span class="badge badge--{}"><span aria-hidden="true">{}</span> {}</span>',
            tone or "neutral",
            icon,
            label,
        )
    return format_html('<span class="badge badge--{}">{}</span>', tone or "neutral", label)


@register.simple_tag
def progress(value, small: bool = False, label: str = "") -> str:
    """A progress bar with its number; ``value`` is 0-100."""
    return _progress(value, small, label)


@lru_cache(maxsize=1024)  # a page repeats the same few percentages (and labels) many times
def _progress(value, small: bool, label: str) -> str:
    number = floatformat(value, 0)
    return format_html(
        '<span class="progress{}" role="img" aria-label="{} {}%">'
        '<span class="progress__track"><span class="progress__bar" style="--value: {}%"></span></span>'
        '<span class="progress__value">{}%</span></span>',
        " progress--small" if small else "",
        label or "Progress",
        number,
        number,
        number,
    )


@register.simple_tag
def step_status(status: str) -> str:
    return _STEP_STATUS_BADGES.get(status) or _STEP_STATUS_BADGES["todo"]


_STEP_STATUS_BADGES = {
    status: badge(label, icon, tone) for status, (tone, icon, label) in STEP_STATUS.items()
}


@register.simple_tag
def plan_status(status: str) -> str:
    if status not in PLAN_STATUS:
        return ""
    tone, icon, label = PLAN_STATUS[status]
    return badge(label, icon, tone)


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    """Django's ``date`` filter, remembering what it made of plain dates (this module, a builtin
    loaded after Django's, takes the name over in every template).

    Formatting a date costs ~30 µs, and a map shows the same few hundred due dates again and again
    (a 5,000-node plan: ~16 ms a page). Only ``datetime.date`` values are remembered: they carry no
    time zone, and the language is part of the key. Datetimes (local to the viewer) go straight through.
    """
    if type(value) is datetime.date:
        return _formatted_date(value, arg, get_language())
    return defaultfilters.date(value, arg)


@lru_cache(maxsize=4096)
def _formatted_date(value: datetime.date, arg, language: str) -> str:
    return defaultfilters.date(value, arg)
