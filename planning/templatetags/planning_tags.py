from functools import lru_cache

from django import template
from django.utils.safestring import mark_safe

from bizops.templatetags.ui import ICONS, esc

from ..views.common import UrlFor

register = template.Library()


PERIOD_WORD = {"daily": "today", "weekly": "this week", "monthly": "this month"}


@lru_cache(maxsize=256)
def _status_url(org_slug: str) -> UrlFor:
    return UrlFor("planning:step_status", org_slug)


@register.simple_tag(takes_context=True)
def step_buttons(context, step, statuses, target: str = "closest .work-row", plain: bool = False) -> str:
    """One-click status for a step: one form whose submit buttons each send their status (htmx sends
    the clicked one's too). A recurring step has one button, done (or undone) for this period.
    ``plain``: no htmx, a normal post and redirect back. My work draws one per step: as a tag it costs
    a tenth of the template it replaces (every value escaped)."""
    request = context["request"]
    url = esc(_status_url(context["org"].slug)(step.pk))
    htmx = "" if plain else f' hx-post="{url}" hx-target="{esc(target)}" hx-swap="outerHTML"'
    if step.is_recurring:
        period = PERIOD_WORD.get(step.recurrence, "this month")
        if step.done_this_period:
            buttons = f'<button type="submit" name="status" value="doing" class="seg seg--on" aria-pressed="true">{ICONS["check"]} Done {period}</button>'
        else:
            buttons = f'<button type="submit" name="status" value="done" class="seg" aria-pressed="false">Mark done {period}</button>'
    else:
        buttons = "".join(
            f'<button type="submit" name="status" value="{esc(value)}" class="seg seg--on seg--{esc(value)}" aria-pressed="true">{esc(label)}</button>'
            if step.status == value
            else f'<button type="submit" name="status" value="{esc(value)}" class="seg" aria-pressed="false">{esc(label)}</button>'
            for value, label in statuses
        )
    return mark_safe(  # every value is escaped above
        f'<div class="segmented" role="group" aria-label="Status of {esc(step.title)}">'
        f'<form method="post" action="{url}"{htmx}>'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(context.get("csrf_token", ""))}">'
        f'<input type="hidden" name="next" value="{esc(request.get_full_path())}">{buttons}</form></div>'
    )
