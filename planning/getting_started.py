"""The Overview's getting-started checklist: the first steps of a new organization, each ticked when the
data says it is done (one query, whatever the organization's size)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse

from bizops.models import AuditEvent, Invitation, Membership, Organization, Team
from bizops.roles import Role, can

from .models import IN_PLANNING_STATUSES, Plan

APPROVER_ROLES = [role for role in Role.values if can(role, "plan_approve")]


@dataclass(frozen=True)
class ChecklistItem:
    label: str
    url: str
    done: bool


def getting_started(*, membership: Membership) -> list[ChecklistItem] | None:
    """The checklist for this person's Overview, or None once they dismissed it or everything is done.

    "Checked in" is read from the audit trail (every check-in records ``checked in``), so the core and
    planning need not know the metrics app.
    """
    if membership.getting_started_dismissed_at is not None:
        return None
    org_id = membership.organization_id
    plans = Plan.objects.filter(organization=OuterRef("pk"))
    facts = (
        Organization.objects.filter(pk=org_id)
        .annotate(
            # Another approver than this person: one already here, or one invited.
            has_approver=Exists(
                Membership.objects.filter(organization=OuterRef("pk"), role__in=APPROVER_ROLES).exclude(
                    pk=membership.pk
                )
            ),
            has_approver_invited=Exists(
                Invitation.objects.filter(organization=OuterRef("pk"), role__in=APPROVER_ROLES)
            ),
            has_team=Exists(Team.objects.filter(organization=OuterRef("pk"))),
            has_plan=Exists(plans),
            has_submitted=Exists(
                plans.filter(Q(submitted_at__isnull=False) | ~Q(status__in=IN_PLANNING_STATUSES))
            ),
            has_check_in=Exists(AuditEvent.objects.filter(organization=OuterRef("pk"), action="checked in")),
            draft_id=Subquery(
                plans.filter(status__in=IN_PLANNING_STATUSES).order_by("-created_at", "-pk").values("pk")[:1]
            ),
        )
        .values(
            "slug",
            "has_approver",
            "has_approver_invited",
            "has_team",
            "has_plan",
            "has_submitted",
            "has_check_in",
            "draft_id",
        )
        .get()
    )
    slug = facts["slug"]
    submit_url = (
        reverse("planning:plan_review", args=[slug, facts["draft_id"]]) + "#ready-h"
        if facts["draft_id"]
        else reverse("planning:plan_list", args=[slug])
    )
    items = [
        ChecklistItem(
            "Invite an approver (a manager or admin)",
            reverse("member_list", args=[slug]),
            facts["has_approver"] or facts["has_approver_invited"],
        ),
        ChecklistItem("Create a team", reverse("team_list", args=[slug]), facts["has_team"]),
        ChecklistItem(
            "Start the plan from the template",
            reverse("planning:plan_create", args=[slug]) + "?start_from=template",
            facts["has_plan"],
        ),
        ChecklistItem("Submit it for review", submit_url, facts["has_submitted"]),
        ChecklistItem(
            "Record the first check-in", reverse("planning:my_work", args=[slug]), facts["has_check_in"]
        ),
    ]
    if all(item.done for item in items):
        return None
    return items
