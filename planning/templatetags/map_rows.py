"""The strategy map's two repeated rows, an objective's and a step's, drawn by tags.

A 5,000-node plan's map has 520 objective rows and a 180-node plan's 150 step rows; as template
markup each cost ~150 µs (twenty-odd variable and ``if`` nodes), as these tags ~10-20 µs, which is
most of the difference between a 300 ms and a 160 ms map. The markup is the template's, moved here
whole, written as f-strings with ``esc()`` on every value (``format_html`` takes three times as
long); ``planning/views/tree.py:decorate_map`` attaches what they read (url, figure, health, part...).
"""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from bizops.templatetags.ui import badge, date, esc, progress, step_status

register = template.Library()


@register.simple_tag
def map_objective_row(objective) -> str:
    """The objective's line: title, team, owner, due date, health and progress (with its "why" link)."""
    meta = "Objective"
    if objective.team_id:
        meta += f" · {objective.team.name}"
    if objective.owner_id:
        meta += f" · {objective.owner.user.display_name}"
    if objective.due_date:
        meta += f" · due {date(objective.due_date, 'j M Y')}"
    tone, icon, label = objective.health
    percent = objective.figure.percent
    title = esc(objective.title)
    return mark_safe(  # every value is escaped (badge and progress escape theirs)
        f'<div class="tree__row"><span class="tree__kind" aria-hidden="true">●</span>'
        f'<span class="tree__main"><a class="tree__title" href="{esc(objective.url)}">{title}</a>'
        f'<span class="tree__meta">{esc(meta)}</span></span>{badge(label, icon, tone)}'
        f'<a class="tree__progress" href="{esc(objective.why_url)}" aria-label="Why {percent}%? '
        f'Progress of {title}">{progress(percent, small=True)}</a></div>'
    )


@register.simple_tag
def map_step(step) -> str:
    """A step's line: status, title, assignee, recurrence and this period's completion, due date.

    Plain f-strings with ``esc()`` on every value (a map can draw 5,000 of these; ``format_html``
    takes three times as long).
    """
    meta = esc(step.assignee_name) if step.assignee_id else '<span class="warn-text">unassigned</span>'
    if step.is_recurring:
        meta += f" · {esc(step.get_recurrence_display().lower())}, {esc(step.part.detail)}"
    if step.due_date:
        if step.overdue:
            meta += f' · <strong class="error">overdue since {esc(date(step.due_date, "j M"))}</strong>'
        else:
            meta += f" · due {esc(date(step.due_date, 'j M Y'))}"
    done = " is-done" if step.status == "done" else ""
    return mark_safe(  # every value above and below is escaped
        f'<li class="tree__step{done}">{step_status(step.status)} '
        f'<a class="tree__title" href="{esc(step.url)}">{esc(step.title)}</a> '
        f'<span class="tree__meta">{meta}</span></li>'
    )
