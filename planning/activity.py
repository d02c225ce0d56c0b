"""What a plan's Activity tab shows: the audit events of the plan, and those other apps attach to it.

The audit trail records a plan's own writes with its id (``AuditEvent.plan_id``). Other apps own
things that shape a plan without being part of it, such as the KPIs linked to its objectives; they
register a source here (from their ``ready()``, see ``metrics/apps.py``) returning a filter on
``AuditEvent`` for the plan, so planning never imports them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q

from .models import Plan

ActivitySource = Callable[[Plan], Q]

_SOURCES: list[ActivitySource] = []


def register_activity_source(source: ActivitySource) -> None:
    """Registering the same function twice is harmless."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def activity_filter(plan: Plan) -> Q:
    """The plan's events: its own, and those each registered source attaches to it."""
    found = Q(plan_id=plan.pk)
    for source in _SOURCES:
        found |= source(plan)
    return found
