"""Roles and what each may do, defined once.

Views ask ``can(role, action)``; templates ask the same map through ``request.can`` (see
``bizops.access``) so that a button is hidden exactly when the action would be refused.
"""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


EVERYONE = frozenset(Role)
ADMINS = frozenset({Role.OWNER, Role.ADMIN})
MANAGERS = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER})
CONTRIBUTORS = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER, Role.MEMBER})

# action -> roles allowed. Object-level rules (a plan's owner, a step's assignee) live in the
# app that owns the object and start from this map.
PERMISSIONS: dict[str, frozenset[str]] = {
    "org_view": EVERYONE,
    "org_settings": ADMINS,
    "members_view": EVERYONE,
    "members_invite": ADMINS,
    "members_change_role": ADMINS,
    "members_remove": ADMINS,
    "teams_view": EVERYONE,
    "teams_manage": MANAGERS,
    "outbox_view": ADMINS,
    "audit_view": ADMINS,
    # planning
    "plan_view": EVERYONE,
    "plan_create": MANAGERS,
    "plan_edit": MANAGERS,
    "plan_suggest": CONTRIBUTORS,
    "plan_comment": CONTRIBUTORS,
    "step_update_own": CONTRIBUTORS,
    "plan_approve": MANAGERS,
    "workload_view": MANAGERS,
    "kpi_view": EVERYONE,
    "kpi_manage": MANAGERS,
    "kpi_record": CONTRIBUTORS,  # members record only the KPIs they own (checked in metrics)
    "check_in": CONTRIBUTORS,  # on what they own; managers on their teams' work
    "metrics_import": MANAGERS,
    "webhooks_manage": ADMINS,
}


def can(role: str | None, action: str) -> bool:
    """True when ``role`` may do ``action``; an unknown action is a programming error."""
    allowed = PERMISSIONS[action]
    return role is not None and role in allowed


def assignable_roles(actor_role: str) -> list[str]:
    """Roles an actor may hand out: only owners make or unmake owners."""
    if actor_role == Role.OWNER:
        return list(Role.values)
    if actor_role == Role.ADMIN:
        return [r for r in Role.values if r != Role.OWNER]
    return []
