"""What planning gives the organization's search (``bizops.search``): plans, milestones, objectives,
action steps and comments, each found by its own fields, ranked, and linked to its page.

Each field list here is what the app's search indexes cover (``planning/migrations/0007_search``):
``tests/bizops/test_search.py`` holds each query to its index on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.urls import reverse

from bizops.models import Organization
from bizops.search import Fields, Hit, Source, Terms, excerpt, highlight, register_source, top

from .models import ActionStep, Comment, Milestone, NodeKind, Objective, Plan, PlanStatus

PLAN_SEARCHED: Fields = (("title", "A"), ("ultimate_goal", "B"), ("description", "B"))
MILESTONE_SEARCHED: Fields = (("title", "A"), ("description", "B"))
OBJECTIVE_SEARCHED: Fields = (("title", "A"), ("description", "B"), ("why", "B"))
STEP_SEARCHED: Fields = (("title", "A"), ("notes", "B"))
COMMENT_SEARCHED: Fields = (("body", "A"),)


def _rows(
    model: type[Model], fields: Fields, organization: Organization, terms: Terms, limit: int, *values: str
):
    return top(model._default_manager.filter(organization=organization), fields, terms, limit, *values)


def _node_url(organization: Organization, row: dict[str, Any], kind: str) -> str:
    return reverse("planning:node_detail", args=[organization.slug, row["plan_id"], kind, row["pk"]])


def find_plans(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    rows = _rows(
        Plan, PLAN_SEARCHED, organization, terms, limit, "title", "ultimate_goal", "description", "status"
    )
    return [
        Hit(
            name=row["title"],
            title=highlight(row["title"], terms),
            url=reverse("planning:plan_map", args=[organization.slug, row["pk"]]),
            context=PlanStatus(row["status"]).label,
            excerpt=excerpt(terms, row["ultimate_goal"], row["description"]),
            rank=row["search_rank"],
        )
        for row in rows
    ]


def find_milestones(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    rows = _rows(
        Milestone,
        MILESTONE_SEARCHED,
        organization,
        terms,
        limit,
        "plan_id",
        "title",
        "description",
        "plan__title",
    )
    return [
        Hit(
            name=row["title"],
            title=highlight(row["title"], terms),
            url=_node_url(organization, row, "milestone"),
            context=row["plan__title"],
            excerpt=excerpt(terms, row["description"]),
            rank=row["search_rank"],
        )
        for row in rows
    ]


def find_objectives(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    rows = _rows(
        Objective,
        OBJECTIVE_SEARCHED,
        organization,
        terms,
        limit,
        *("plan_id", "title", "description", "why", "plan__title", "milestone__title"),
    )
    return [
        Hit(
            name=row["title"],
            title=highlight(row["title"], terms),
            url=_node_url(organization, row, "objective"),
            context=f"{row['plan__title']} · {row['milestone__title']}",
            excerpt=excerpt(terms, row["description"], row["why"]),
            rank=row["search_rank"],
        )
        for row in rows
    ]


def find_steps(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    rows = _rows(
        ActionStep,
        STEP_SEARCHED,
        organization,
        terms,
        limit,
        *("plan_id", "title", "notes", "plan__title", "objective__title"),
    )
    return [
        Hit(
            name=row["title"],
            title=highlight(row["title"], terms),
            url=_node_url(organization, row, "step"),
            context=f"{row['plan__title']} · {row['objective__title']}",
            excerpt=excerpt(terms, row["notes"]),
            rank=row["search_rank"],
        )
        for row in rows
    ]


def find_comments(organization: Organization, terms: Terms, limit: int) -> list[Hit]:
    rows = _rows(
        Comment,
        COMMENT_SEARCHED,
        organization,
        terms,
        limit,
        *("plan_id", "node_kind", "node_id", "body", "plan__title", "author__display_name", "created_at"),
    )
    hits = []
    for row in rows:
        url = reverse(
            "planning:node_detail", args=[organization.slug, row["plan_id"], row["node_kind"], row["node_id"]]
        )
        on = NodeKind(row["node_kind"]).label.lower()
        hits.append(
            Hit(
                name=row["body"][:120],
                title=excerpt(terms, row["body"], around=120),
                url=f"{url}#comment-{row['pk']}",
                context=f"{row['author__display_name'] or 'Someone'} on the {on} · {row['plan__title']}",
                rank=row["search_rank"],
            )
        )
    return hits


def register() -> None:
    for order, kind, label, find in (
        (10, "plan", "Plans", find_plans),
        (20, "milestone", "Milestones", find_milestones),
        (30, "objective", "Objectives", find_objectives),
        (40, "step", "Action steps", find_steps),
        (70, "comment", "Comments", find_comments),
    ):
        register_source(Source(kind=kind, label=label, order=order, find=find))
