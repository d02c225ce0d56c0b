"""The strategy map's decoration and lazy steps, the plan editor (HTMX, one fragment per row), node pages and the "why" breakdowns."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bizops.access import org_view
from bizops.errors import Conflict, ValidationError
from bizops.forms import add_service_errors
from bizops.navigation import link_url_name
from bizops.requests import OrgRequest

from .. import selectors, services
from ..access import can_update_step
from ..forms import NODE_FORMS, CommentForm, QuickAddForm
from ..models import ActionStep, Milestone, Objective, StepQuerySet
from ..progress import HEALTH, Figure, Part, health
from .common import UrlFor, back, error_message, load_plan

# Past this many steps the map shows objectives first and loads each one's steps when it is opened.
LAZY_STEPS_ABOVE = 400
CHILD_KIND = {"plan": "milestone", "milestone": "objective", "objective": "step"}


def decorate_map(tree: selectors.ModelTree, today, slug: str) -> None:
    """Attach progress, health and links to each node, for the map's templates.

    Links are built here from one ``reverse()`` per kind (``UrlFor``), not by ``{% url %}`` per node.
    The tree is read with its roll-up and its steps as rows (``selectors.map_tree``).
    """
    rollup = tree.progress
    assert rollup is not None  # read with its roll-up (``with_progress``)
    plan_id = tree.plan.pk
    url = {
        kind: UrlFor("planning:node_detail", slug, plan_id, kind)
        for kind in ("milestone", "objective", "step")
    }
    why = {
        kind: UrlFor("planning:progress_breakdown", slug, plan_id, kind)
        for kind in ("milestone", "objective")
    }
    steps_url = UrlFor("planning:objective_steps", slug, plan_id)
    # Measures are another app's pages: asked for by name (bizops.navigation), "" where none answers.
    measures_name, key_result_name = link_url_name("objective_measures"), link_url_name("key_result_detail")
    measures_url = UrlFor(measures_name, slug) if measures_name else None
    key_result_url = UrlFor(key_result_name, slug) if key_result_name else None
    for milestone in tree.milestones:
        milestone.figure = rollup.milestones[milestone.pk]
        milestone.url, milestone.why_url = url["milestone"](milestone.pk), why["milestone"](milestone.pk)
        milestone.served_by = aligned(milestone.figure, slug)
        for objective in milestone.children:
            objective.figure = figure = rollup.objectives[objective.pk]
            objective.served_by = aligned(figure, slug)
            objective.serves = next((p for p in figure.aside if p.kind == "serves"), None)
            objective.health = HEALTH[health(figure, objective.start_date, objective.due_date, today)]
            objective.url, objective.why_url = url["objective"](objective.pk), why["objective"](objective.pk)
            objective.steps_url = steps_url(objective.pk)
            objective.measures_url = measures_url(objective.pk) if measures_url else ""
            objective.kr_parts = [part for part in figure.parts if part.kind == "key_result"]
            for part in objective.kr_parts:
                # a key result's part names it
                part.url = key_result_url(cast(int, part.node_id)) if key_result_url else ""
            tally = tree.step_tallies.get(objective.pk)
            objective.step_count = tally.count if tally is not None else len(objective.children)
            for step in cast("list[selectors.StepRow]", objective.children):  # read with ``step_rows``
                step.part = rollup.steps[step.pk]
                step.url = url["step"](step.pk)
                step.overdue = StepQuerySet.is_overdue(step, runs=tree.plan.runs, today=today)


def aligned(figure: Figure, slug: str) -> list[Part]:
    """The team objectives that serve a node (counted or shown beside it), and what the node serves,
    each with its link (few: ``reverse()`` per part)."""
    parts = [p for p in (*figure.parts, *figure.aside) if p.kind in ("contribution", "serves")]
    key_result_name = link_url_name("key_result_detail")
    for part in parts:
        if part.node_kind == "key_result":
            part.url = reverse(key_result_name, args=[slug, part.node_id]) if key_result_name else ""
        else:
            part.url = reverse(
                "planning:node_detail", args=[slug, part.plan_id, part.node_kind, part.node_id]
            )
    return [p for p in parts if p.kind == "contribution"]


@org_view("plan_view")
def objective_steps(request: OrgRequest, plan_id: int, objective_id: int) -> HttpResponse:
    """The steps of one objective, loaded when it is opened on a big plan's map (only its branch)."""
    plan = load_plan(request, plan_id)
    objective = selectors.node_get(plan=plan, kind="objective", node_id=objective_id)
    today = timezone.localdate()
    tree = _branch(plan, "objective", objective, today)
    decorate_map(tree, today, request.org.slug)
    objective = tree.objectives[objective.pk]
    return render(request, "planning/plan_map.html#step-list", {"plan": plan, "objective": objective})


@org_view("plan_view")
def plan_editor(request: OrgRequest, plan_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    if not plan.can_edit:
        raise PermissionDenied("Only the plan's owner, managers and admins edit the plan.")
    if not plan.is_editable:
        messages.warning(
            request, f"This plan is {plan.get_status_display().lower()}: its map is locked while it runs."
        )
        return redirect("planning:plan_map", org_slug=request.org.slug, plan_id=plan.pk)
    return _render_editor(request, plan)


def _render_editor(request: OrgRequest, plan, status: int = 200, template: str = "planning/plan_editor.html"):
    tree = selectors.editing_tree(plan=plan)
    for milestone in tree.milestones:
        milestone.child_count = len(milestone.children) + sum(len(o.children) for o in milestone.children)
        for objective in milestone.children:
            objective.child_count = len(objective.children)
    context = {"plan": plan, "tree": tree, "add_form": QuickAddForm()}
    return render(request, template, context, status=status)


def _editor_tree(request: OrgRequest, plan, status: int = 200) -> HttpResponse:
    """After a structural edit: the whole tree fragment for HTMX, the editor page otherwise."""
    if request.htmx:
        return _render_editor(request, plan, status, "planning/plan_editor.html#editor-tree")
    return redirect("planning:plan_editor", org_slug=request.org.slug, plan_id=plan.pk)


@org_view("plan_view")
@require_POST
def node_add(request: OrgRequest, plan_id: int, kind: str, node_id: int | None = None) -> HttpResponse:
    """Add a child: a milestone to the plan, an objective to a milestone, a step to an objective."""
    plan = load_plan(request, plan_id)
    parent = plan if kind == "plan" else selectors.node_get(plan=plan, kind=kind, node_id=node_id)
    child = CHILD_KIND.get(kind)
    if child is None:
        raise Http404
    form = QuickAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give it a title.")
        return _editor_tree(request, plan, 400)
    title = form.cleaned_data["title"]
    try:
        if child == "milestone":
            services.milestone_create(actor=request.membership, plan=plan, title=title)
        elif child == "objective":  # ``kind`` is "milestone": ``parent`` is one
            services.objective_create(
                actor=request.membership, milestone=cast(Milestone, parent), title=title
            )
        else:  # ``kind`` is "objective": ``parent`` is one
            services.step_create(actor=request.membership, objective=cast(Objective, parent), title=title)
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_message(exc))
        return _editor_tree(request, plan, 400)
    return _editor_tree(request, plan)


@org_view("plan_view")
def node_edit(request: OrgRequest, plan_id: int, kind: str, node_id: int) -> HttpResponse:
    """The edit form of one node: a row fragment under HTMX, a page without JavaScript."""
    plan = load_plan(request, plan_id)
    node = selectors.node_get(plan=plan, kind=kind, node_id=node_id)
    assignee_only = kind == "step" and not plan.can_edit
    if assignee_only and not can_update_step(request.membership, cast(ActionStep, node), plan):
        raise PermissionDenied
    if not assignee_only and not plan.can_edit:
        raise PermissionDenied
    form_class = NODE_FORMS[kind]
    extra: dict[str, Any] = {"assignee_only": assignee_only} if kind == "step" else {}
    # Ids unique per node: two inline edit forms may be open in the editor at once.
    extra["auto_id"] = f"id_{kind}{node.pk}_%s"
    form = form_class(request.POST or None, instance=node, plan=plan, **extra)
    conflict = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                node = services.node_update(
                    actor=request.membership,
                    node=node,
                    version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except services.StaleEdit as exc:
                conflict = exc
                data = form.data.copy()
                data["version"] = str(exc.current_version)
                form = form_class(data, instance=exc.node, plan=plan, **extra)
                form.is_valid()
                status = 409
            except ValidationError as exc:
                add_service_errors(form, exc)
                status = 400
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                if request.htmx:
                    return _render_row(request, plan, node)
                messages.success(request, f"“{node.title}” is saved.")
                return back(request, reverse("planning:plan_editor", args=[request.org.slug, plan.pk]))
        else:
            status = 400
    context = {"plan": plan, "node": node, "form": form, "conflict": conflict, "kind": kind}
    template = "planning/node_edit.html#edit-form" if request.htmx else "planning/node_edit.html"
    return render(request, template, context, status=status)


@org_view("plan_view")
def node_row(request: OrgRequest, plan_id: int, kind: str, node_id: int) -> HttpResponse:
    """One editor row (the Cancel of an inline edit)."""
    plan = load_plan(request, plan_id)
    node = selectors.node_get(plan=plan, kind=kind, node_id=node_id)
    if not request.htmx:
        return redirect("planning:plan_editor", org_slug=request.org.slug, plan_id=plan.pk)
    return _render_row(request, plan, node)


def _render_row(request: OrgRequest, plan, node) -> HttpResponse:
    node.plan = plan
    node.child_count = services.node_child_count(node=node)
    return render(request, "planning/plan_editor.html#node-row", {"plan": plan, "node": node})


@org_view("plan_view")
@require_POST
def node_move(request: OrgRequest, plan_id: int, kind: str, node_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    node = selectors.node_get(plan=plan, kind=kind, node_id=node_id)
    direction = request.POST.get("direction")
    parent = None
    parent_id = request.POST.get("parent")
    if parent_id:
        parent_kind = {"objective": "milestone", "step": "objective"}.get(kind)
        if parent_kind is None:
            raise Http404
        parent = selectors.node_get(plan=plan, kind=parent_kind, node_id=parent_id)
    if direction not in ("up", "down", None) and parent is None:
        raise Http404
    try:
        services.node_move(actor=request.membership, node=node, direction=direction, parent=parent)
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_message(exc))
        return _editor_tree(request, plan, 400)
    return _editor_tree(request, plan)


@org_view("plan_view")
@require_POST
def node_delete(request: OrgRequest, plan_id: int, kind: str, node_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    node = selectors.node_get(plan=plan, kind=kind, node_id=node_id)
    child_count = services.node_child_count(node=node)
    if child_count and request.POST.get("confirm") != "yes":
        # Deleting a node with children asks first; with JavaScript htmx asks, without it this page.
        if not plan.can_edit_tree:
            raise PermissionDenied
        if request.htmx:
            messages.error(
                request, f"“{node.title}” has {child_count} items under it: confirm to delete them."
            )
            return _editor_tree(request, plan, 409)
        context = {"plan": plan, "node": node, "kind": kind, "child_count": child_count}
        return render(request, "planning/node_delete_confirm.html", context)
    try:
        services.node_delete(actor=request.membership, node=node)
    except Conflict as exc:
        messages.error(request, exc.message)
        return _editor_tree(request, plan, 409)
    if not request.htmx:
        messages.success(request, f"“{node.title}” is deleted.")
    return _editor_tree(request, plan)


# --- Node pages, comments and the "why" breakdown ---------------------------------------------------


@org_view("plan_view")
def node_detail(request: OrgRequest, plan_id: int, kind: str, node_id: int) -> HttpResponse:
    plan = load_plan(request, plan_id)
    node = plan if kind == "plan" else selectors.node_get(plan=plan, kind=kind, node_id=node_id)
    if kind == "plan" and int(node_id) != plan.pk:
        raise Http404
    form = CommentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.comment_create(
                    actor=request.membership,
                    plan=plan,
                    node_kind=kind,
                    node=node,
                    body=form.cleaned_data["body"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Your comment is posted.")
                return redirect(request.path + "#comments")
        status = 400
    today = timezone.localdate()
    tree = _branch(plan, kind, node, today)
    decorate_map(tree, today, request.org.slug)
    figure, children = _figure_for(tree, kind, node)
    context = {
        "plan": plan,
        "node": node,
        "kind": kind,
        "tree_node": _tree_node(tree, kind, node),
        "figure": figure,
        "breakdown": children,
        "comments": selectors.node_comments(plan=plan, kind=kind, node_id=node.pk),
        "comment_form": form,
        "can_update": kind == "step" and can_update_step(request.membership, cast(ActionStep, node), plan),
        "step_statuses": ActionStep._meta.get_field("status").choices,
    }
    return render(request, "planning/node_detail.html", context, status=status)


def _branch(plan, kind: str, node, today) -> selectors.ModelTree:
    """The part of the tree a node's figure needs: its objective's branch for a step or an objective."""
    objective_id = {"objective": "pk", "step": "objective_id"}.get(kind)
    return selectors.display_tree(
        plan=plan, today=today, objective_ids=[getattr(node, objective_id)] if objective_id else None
    )


def _tree_node(tree, kind, node):
    if kind == "milestone":
        return next((m for m in tree.milestones if m.pk == node.pk), node)
    if kind == "objective":
        return tree.objectives.get(node.pk, node)
    if kind == "step":
        return tree.steps.get(node.pk, node)
    return node


def _figure_for(tree, kind: str, node) -> tuple[Figure, list[Part]]:
    rollup = tree.progress
    if kind == "plan":
        figure = rollup.plan
    elif kind == "milestone":
        figure = rollup.milestones[node.pk]
    elif kind == "objective":
        figure = rollup.objectives[node.pk]
    else:
        part = rollup.steps[node.pk]
        figure = Figure(part.value, [], part.detail)
    return figure, figure.parts


@org_view("plan_view")
def progress_breakdown(request: OrgRequest, plan_id: int, kind: str, node_id: int) -> HttpResponse:
    """“Why 62%”: the parts a figure was computed from, as a fragment (HTMX) or a page."""
    plan = load_plan(request, plan_id)
    node = plan if kind == "plan" else selectors.node_get(plan=plan, kind=kind, node_id=node_id)
    tree = _branch(plan, kind, node, timezone.localdate())
    figure, parts = _figure_for(tree, kind, node)
    context = {"plan": plan, "node": node, "kind": kind, "figure": figure, "parts": parts}
    template = (
        "planning/progress_breakdown.html#breakdown" if request.htmx else "planning/progress_breakdown.html"
    )
    return render(request, template, context)
