"""The small UI components every page repeats: badges, progress bars, step and plan statuses.

Simple tags rather than ``{% include %}``: a big strategy map draws a thousand of them, and an include
costs a template render with its own context each time (about twenty times a ``format_html``).
Registered as template builtins (``TEMPLATES[...]["OPTIONS"]["builtins"]``), so no ``{% load %}``.
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html

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
    tone, icon, label = STEP_STATUS.get(status, STEP_STATUS["todo"])
    return badge(label, icon, tone)


@register.simple_tag
def plan_status(status: str) -> str:
    if status not in PLAN_STATUS:
        return ""
    tone, icon, label = PLAN_STATUS[status]
    return badge(label, icon, tone)
