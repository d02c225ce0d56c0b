"""The small UI components every page repeats: badges, progress bars, step and plan statuses.

Simple tags rather than ``{% include %}``: a big strategy map draws a thousand of them, and an include
costs a template render with its own context each time (about twenty times a ``format_html``).
Registered as template builtins (``TEMPLATES[...]["OPTIONS"]["builtins"]``), so no ``{% load %}``.
Nothing here takes the name of one of Django's tags or filters: templates get Django's own ``url`` and
``date`` (``tests/bizops/test_ui_tags.py`` checks every builtin library for that).

Also here, for the tag modules that draw rows in Python: ``fast_date``, Django's ``date`` filter for
the few formats they use, faster (see there). It is a function, not a template filter.
"""

from __future__ import annotations

import datetime
import html
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django import template
from django.conf import settings
from django.template import defaultfilters
from django.template.defaultfilters import floatformat
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import get_language

register = template.Library()


def esc(value) -> str:
    """The one escaping helper of the tags that build markup in f-strings: ``conditional_escape``'s
    rule (markup already marked safe passes as it is; anything else is escaped with ``html.escape``,
    as ``django.utils.html.escape`` does) without its lazy-string wrapper, which costs as much again."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


# Status icons as inline SVG (stroked or filled with the text's colour), not font glyphs: a glyph
# like ⧗ is an empty box where the system fonts lack it (Debian's Chromium did). Names, not characters.
_ICON_SHAPES = {
    "check": '<path d="M3 8.5l3 3 7-7"/>',
    "play": '<path d="M5 3.5v9l7-4.5z" fill="currentColor" stroke="none"/>',
    "stop": '<rect x="4" y="4" width="8" height="8" rx="1" fill="currentColor" stroke="none"/>',
    "circle": '<circle cx="8" cy="8" r="4.5"/>',
    "dot": '<circle cx="8" cy="8" r="4.5" fill="currentColor" stroke="none"/>',
    "pencil": '<path d="M3 13l1-3.5 6.5-6.5 2.5 2.5-6.5 6.5z"/>',
    "hourglass": '<path d="M4 2.5h8M4 13.5h8M5 2.5c0 3.5 6 3.5 6 5.5s-6 2-6 5.5M11 2.5c0 3.5-6 3.5-6 5.5s6 2 6 5.5"/>',
    "undo": '<path d="M4.5 6.5H10a3 3 0 010 6H6.5"/><path d="M7 4L4.5 6.5 7 9"/>',
    "warning": '<path d="M8 2.5l6 11H2z" fill="currentColor" stroke="none"/>',
    "cross": '<path d="M4 4l8 8M12 4l-8 8"/>',
    "clock": '<circle cx="8" cy="8" r="5.5"/><path d="M8 5v3.5l2.5 1.5"/>',
    "ellipsis": '<path d="M4 8h.01M8 8h.01M12 8h.01" stroke-width="2.5"/>',
    "question": '<path d="M6 6a2 2 0 114 0c0 1.5-2 1.5-2 3M8 12h.01"/>',
    "menu": '<path d="M2.5 4h11M2.5 8h11M2.5 12h11"/>',
}
ICONS = {
    name: (
        '<svg class="icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false" '
        'fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round">'
        f"{shape}</svg>"
    )
    for name, shape in _ICON_SHAPES.items()
}


@register.simple_tag
def icon(name: str) -> str:
    """One of ``ICONS``, decorative (``aria-hidden``): the words next to it carry the meaning."""
    return mark_safe(ICONS[name])  # our own constant markup, no input in it


STEP_STATUS = {
    "done": ("good", "check", "Done"),
    "doing": ("accent", "play", "Doing"),
    "blocked": ("bad", "stop", "Blocked"),
    "todo": ("neutral", "circle", "To do"),
}
PLAN_STATUS = {
    "draft": ("neutral", "pencil", "Draft"),
    "in_review": ("accent", "hourglass", "In review"),
    "changes_requested": ("warn", "undo", "Changes requested"),
    "approved": ("good", "check", "Approved"),
    "active": ("good", "play", "Active"),
    "amending": ("warn", "pencil", "Amendment in progress"),
    "closed": ("neutral", "stop", "Closed"),
}


@register.simple_tag
# The same few labels again and again (statuses, health, confidence). typed: a SafeString label is
# drawn as is and an equal str escaped, so they must not share an entry.
@lru_cache(maxsize=512, typed=True)
def badge(label: str = "", icon: str = "", tone: str = "") -> str:
    """A label in a coloured pill; the icon (a name in ``ICONS``) repeats the meaning for those who do
    not see colour."""
    if icon:
        return format_html(
            '<span class="badge badge--{}">{} {}</span>', tone or "neutral", mark_safe(ICONS[icon]), label
        )
    return format_html('<span class="badge badge--{}">{}</span>', tone or "neutral", label)


@register.simple_tag
def progress(value, small: bool = False, label: str = "") -> str:
    """A progress bar with its number; ``value`` is 0-100."""
    return _progress(value, small, label)


@lru_cache(maxsize=1024, typed=True)  # a page repeats the same few percentages (and labels)
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


def fast_date(value, arg=None):
    """What Django's ``date`` filter prints, faster: for the rows that tag modules build in Python.

    Django's costs ~30 µs a value, and pages show hundreds (a big map's due dates, My work's steps, a
    timeline's times): measured, a material share of those pages' CPU (``bench/README.md``). Formats
    made only of day, month, year, hour, minute and second (``j M Y H:i``, ``j F Y``...) are built
    here from the same translated month names; plain dates are also remembered, since a map repeats
    the same few hundred. Anything else goes to Django's filter. Datetimes arrive local to
    the viewer (callers pass ``template_localtime(...)``), so their fields are what Django's filter
    would print. With ``settings.BIZOPS_FAST_DATES`` false it is Django's filter, nothing else.
    """
    if not settings.BIZOPS_FAST_DATES:
        return defaultfilters.date(value, arg)
    if type(value) is datetime.date:
        return _formatted_date(value, arg, get_language())
    if type(value) is datetime.datetime and (plan := _format_plan(arg)) is not None:
        return "".join(part if type(part) is str else part(value) for part in plan)
    return defaultfilters.date(value, arg)


@lru_cache(maxsize=4096)
def _formatted_date(value: datetime.date, arg, language: str) -> str:
    plan = _format_plan(arg)
    if plan is None or any(part in _TIME_FIELDS.values() for part in plan):
        return defaultfilters.date(value, arg)
    return "".join(part if type(part) is str else part(value) for part in plan)


@lru_cache(maxsize=16)
def _month_names(language: str) -> tuple[dict[int, str], dict[int, str]]:
    """Short (as Django's ``M``: "Jan") and long ("January") month names, translated once per language."""
    return {n: MONTHS_3[n].title() for n in MONTHS_3}, {n: str(MONTHS[n]) for n in MONTHS}


_DATE_FIELDS = {
    "j": lambda v: str(v.day),
    "d": lambda v: f"{v.day:02d}",
    "n": lambda v: str(v.month),
    "m": lambda v: f"{v.month:02d}",
    "M": lambda v: _month_names(get_language())[0][v.month],
    "F": lambda v: _month_names(get_language())[1][v.month],
    "Y": lambda v: f"{v.year:04d}",
}


_TIME_FIELDS = {
    "H": lambda v: f"{v.hour:02d}",
    "i": lambda v: f"{v.minute:02d}",
    "s": lambda v: f"{v.second:02d}",
}


@lru_cache(maxsize=64)
def _format_plan(arg) -> tuple | None:
    """``"j M Y"`` -> (day, " ", month, " ", year); None when the format needs Django's formatter."""
    if not arg:
        return None
    plan = []
    for char in arg:
        if char in _DATE_FIELDS:
            plan.append(_DATE_FIELDS[char])
        elif char in _TIME_FIELDS:
            plan.append(_TIME_FIELDS[char])
        elif char in " :-/.,":
            plan.append(char)
        else:
            return None
    return tuple(plan)


_CENT = Decimal("0.01")


def two_places(value) -> str:
    """``floatformat(value, "-2")``: a whole number without decimals, anything else with two.

    The same text as Django's filter, built directly when the decimal separator is "." (English,
    the app's language) and numbers are not grouped; otherwise (or for odd values) Django's filter.
    A timeline prints two numbers per entry, and the filter costs ~12 µs each.
    """
    if settings.USE_THOUSAND_SEPARATOR or get_format("DECIMAL_SEPARATOR") != ".":
        return floatformat(value, "-2")
    try:
        number = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
        if not number.is_finite():
            return floatformat(value, "-2")
        if number == number.to_integral_value():
            return str(int(number))
        return f"{number.quantize(_CENT, rounding=ROUND_HALF_UP):f}"
    except (InvalidOperation, TypeError, ValueError):
        return floatformat(value, "-2")


# The name the row-drawing tag modules import (planning/templatetags/map_rows.py,
# metrics/templatetags/check_ins.py and measurements.py). Not registered: in templates ``date`` is Django's.
date = fast_date
