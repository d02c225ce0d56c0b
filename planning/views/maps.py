"""The strategy map's two views: the outline (``plan_map``) and the visual map (SVG cards, opened and
closed by address), with the filters they share (``filtered_tree``, the form in ``map_filters``)."""

from __future__ import annotations

from datetime import date
from typing import cast

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from bizops.access import org_view
from bizops.requests import OrgRequest

from .. import selectors
from ..forms import MapFilterForm
from ..mapfilters import MapFilters
from ..models import Plan
from ..progress import HEALTH, health
from ..visual import STEP_TONES, Card, open_url, toggle_url
from ..visual import render as render_svg
from .common import load_plan
from .tree import LAZY_STEPS_ABOVE, decorate_map


def filtered_tree(
    request: OrgRequest, plan: Plan, today: date
) -> tuple[selectors.ModelTree, MapFilterForm, MapFilters]:
    """The map's tree, decorated, with the filters in the address applied (figures stay whole: they
    are computed before anything is filtered out). A big plan's steps are counted, not loaded, unless
    a filter on steps asks for them all."""
    form = MapFilterForm(request.GET, organization=request.org)
    filters = form.filters()
    if filters.active and filters.on_steps:
        tree = selectors.display_tree(plan=plan, today=today)
    else:
        tree = selectors.map_tree(plan=plan, today=today, steps_up_to=LAZY_STEPS_ABOVE)
    decorate_map(tree, today, request.org.slug)
    if filters.active:
        filters.apply(tree.milestones, steps_loaded=not tree.step_tallies)
    return tree, form, filters


@org_view("plan_view")
def map_filters(request: OrgRequest, plan_id: int) -> HttpResponse:
    """The map's filter form, loaded when its box is opened (the unfiltered map reads no member list)."""
    plan = load_plan(request, plan_id)
    page = "plan_visual" if request.GET.get("on") == "plan_visual" else "plan_map"
    context = {
        "plan": plan,
        "form": MapFilterForm(organization=request.org),
        "filters": MapFilters(),
        "show_filters": True,
        "action": reverse(f"planning:{page}", args=[request.org.slug, plan.pk]),
    }
    return render(request, "planning/map_filters.html#form", context)


@org_view("plan_view")
def plan_map(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    today = timezone.localdate()
    tree, form, filters = filtered_tree(request, plan, today)
    context = {
        "plan": plan,
        "tree": tree,
        "form": form,
        "filters": filters,
        "show_filters": filters.active or "filter" in request.GET,
        "lazy_steps": not tree.steps and bool(tree.step_tallies),
        "pending_suggestions": plan.suggestions.filter(status="pending").count(),
    }
    return render(request, "planning/plan_map.html", context)


# A plan with more objectives than this opens with its milestones only, each saying how many it holds.
OPEN_OBJECTIVES_UP_TO = 40


@org_view("plan_view")
def plan_visual(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    today = timezone.localdate()
    tree, form, filters = filtered_tree(request, plan, today)
    objectives = [o for m in tree.milestones for o in m.children]
    keys = {f"m{m.pk}" for m in tree.milestones} | {f"o{o.pk}" for o in objectives}
    if "open" in request.GET:
        # Only this plan's shown cards: every toggle's address repeats what is open, so a made-up
        # list would make the page as long as it is.
        opened = {key for key in request.GET.get("open", "")[:20_000].split(",") if key in keys}
    elif filters.active:  # the matches shown, up to the objectives a map opens by default
        matching = [f"o{o.pk}" for o in objectives if o.children][:OPEN_OBJECTIVES_UP_TO]
        opened = {f"m{m.pk}" for m in tree.milestones} | set(matching)
    elif len(objectives) <= OPEN_OBJECTIVES_UP_TO:
        opened = {f"m{m.pk}" for m in tree.milestones}
    else:
        opened = set()
    lazy = [o.pk for o in objectives if f"o{o.pk}" in opened and o.pk in tree.step_tallies]
    if lazy:  # a big plan's steps are counted; an opened objective's are read (its branch only)
        branch = selectors.display_tree(plan=plan, today=today, objective_ids=lazy)
        decorate_map(branch, today, request.org.slug)
        for pk in lazy:
            steps = branch.objectives[pk].children
            tree.objectives[pk].children = [
                s for s in steps if not filters.active or filters.step_matches(s, tree.objectives[pk])
            ]
    goal_url = reverse("planning:node_detail", args=[request.org.slug, plan.pk, "plan", plan.pk])
    root = _cards(plan, tree, opened, today, goal_url)
    toggles = {key: toggle_url(request.GET, opened, key) for key in _keys(root)}
    svg = render_svg(root, label=f"Visual map of {plan.title}", toggles=toggles)
    context = {
        "plan": plan,
        "svg": svg,
        "form": form,
        "filters": filters,
        "show_filters": filters.active or "filter" in request.GET,
        "empty": not tree.milestones,
        "milestones_url": open_url(request.GET, set()),
        "objectives_url": open_url(request.GET, {f"m{m.pk}" for m in tree.milestones}),
        "everything_url": open_url(request.GET, keys)
        if len(objectives) <= OPEN_OBJECTIVES_UP_TO
        and sum(o.step_count for o in objectives) <= LAZY_STEPS_ABOVE
        else "",
        "pending_suggestions": plan.suggestions.filter(status="pending").count(),
    }
    # The canvas alone for htmx's swaps; the whole page when htmx restores history it had not kept.
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "planning/plan_visual.html#canvas" if fragment else "planning/plan_visual.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # one address, two bodies: caches must tell them apart
    return response


def _keys(card: Card) -> list[str]:
    keys = [card.key] if card.count else []
    if card.is_open:
        for child in card.children:
            keys += _keys(child)
    return keys


def _cards(plan: Plan, tree: selectors.ModelTree, opened: set[str], today: date, goal_url: str) -> Card:
    assert tree.progress is not None  # read with its roll-up
    milestones = []
    for m in tree.milestones:
        objectives = []
        for o in m.children:
            steps = [
                Card(
                    f"s{s.pk}",
                    "Step",
                    s.title,
                    s.url,
                    None if s.is_recurring else (100 if s.status == "done" else 0),
                    "bad" if s.overdue else STEP_TONES.get(s.status, "neutral"),
                    "Overdue" if s.overdue else s.get_status_display(),
                    meta=s.assignee_name,
                )
                for s in cast("list[selectors.StepRow]", o.children)
            ]
            tone, _, label = o.health
            objectives.append(
                Card(
                    f"o{o.pk}",
                    "Objective",
                    o.title,
                    o.url,
                    o.figure.percent,
                    tone,
                    label,
                    meta=o.team.name if o.team is not None else "",
                    children=steps,
                    count=o.step_count,
                    count_label="steps" if o.step_count != 1 else "step",
                    is_open=f"o{o.pk}" in opened and bool(steps),
                )
            )
        tone, _, label = HEALTH[health(m.figure, plan.period_start, m.target_date or plan.period_end, today)]
        milestones.append(
            Card(
                f"m{m.pk}",
                "Milestone",
                m.title,
                m.url,
                m.figure.percent,
                tone,
                label,
                children=objectives,
                count=len(objectives),
                count_label="objectives" if len(objectives) != 1 else "objective",
                is_open=f"m{m.pk}" in opened,
            )
        )
    return Card(
        "plan",
        "Ultimate goal",
        plan.ultimate_goal,
        goal_url,
        tree.progress.plan.percent,
        "accent",
        plan.get_status_display(),
        children=milestones,
        is_open=True,
    )
