"""The alignment view's objective row, drawn by a tag: each objective with the team objectives that
serve it under it, down the plans. A recursive include would cost ~150 µs a row; this tag writes the
markup as f-strings with ``esc()`` on every value, like the strategy map's rows
(``planning/templatetags/map_rows.py``)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from bizops.templatetags.ui import badge, esc, progress
from planning.services.plans import MAX_PLAN_DEPTH

from ..selectors.alignment_view import AlignedObjective

register = template.Library()


@register.simple_tag
def aligned_objectives(items: list[AlignedObjective], served: bool = False) -> str:
    """``items`` as a list, each followed by the objectives that serve it (only those ``shown``)."""
    return mark_safe(_list(items, served, 0))  # every value is escaped in ``_row``


def _list(items: list[AlignedObjective], served: bool, depth: int) -> str:
    rows = [_row(item, served, depth) for item in items if item.shown]
    if not rows:
        return ""
    css = ' class="align-served"' if served else ""
    return f"<ol{css}>{''.join(rows)}</ol>"


def _row(item: AlignedObjective, served: bool, depth: int) -> str:
    objective = item.objective
    meta = []
    if served:
        meta.append(f"“{item.plan.title}”")
    if objective.team is not None:
        meta.append(objective.team.name)
    if objective.owner is not None:
        meta.append(objective.owner.user.display_name)
    if served and item.via:
        meta.append(f"via key result {item.via}")
    if served and not item.counted:
        meta.append("shown, not counted")
    tone, icon, label = item.health
    title = esc(objective.title)
    kind = "Team objective" if served else "Objective"
    below = _list(item.served_by, True, depth + 1) if depth < MAX_PLAN_DEPTH else ""
    return (
        f'<li><div class="align-row"><span class="visually-hidden">{kind}: </span>'
        f'<span class="align-row__title"><a href="{esc(item.url)}">{title}</a> '
        f'<span class="tree__meta">{esc(" · ".join(meta))}</span></span>{badge(label, icon, tone)}'
        f"{progress(item.figure.percent, small=True, label=objective.title)}</div>{below}</li>"
    )
