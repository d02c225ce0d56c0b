"""The counts the navigation shows on every organization page ("3 unread", "2 waiting for me").

Each badge is a subquery annotated onto the membership query that every organization page runs
anyway (``access.memberships_with_current``, compiled once per process), so the counts cost no query
of their own. Apps add their badges with ``register_badge`` from their ``AppConfig.ready`` (planning
adds the review queue), so the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import Expression, F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

if TYPE_CHECKING:
    from .models import Membership

# name -> a function returning an expression over the outer Membership row (OuterRef("pk"), ...)
_badges: dict[str, Callable[[], Expression]] = {}


def register_badge(name: str, expression: Callable[[], Expression]) -> None:
    _badges[name] = expression


def count_of(queryset: QuerySet) -> Expression:
    """``COUNT(*)`` of a queryset correlated with the outer row, as an integer (0 when none)."""
    # A plain COUNT function, not Django's Count aggregate, which would add a GROUP BY.
    counted = queryset.order_by().annotate(_count=Func(F("pk"), function="COUNT")).values("_count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_badges(queryset: QuerySet[Membership]) -> QuerySet[Membership]:
    """``queryset`` (of ``Membership``) with a ``badge_<name>`` count per badge."""
    return queryset.annotate(**{f"badge_{name}": expression() for name, expression in _badges.items()})


def badge(membership, name: str, fallback: Callable[[], int]) -> int:
    """The annotated count, or ``fallback()`` (a query) where the membership came without badges."""
    value = getattr(membership, f"badge_{name}", None)
    return fallback() if value is None else value


def _unread() -> Expression:
    from .models import Notification

    return count_of(
        Notification.objects.filter(
            recipient_id=OuterRef("user_id"),
            organization_id=OuterRef("organization_id"),
            read_at__isnull=True,
        )
    )


register_badge("unread", _unread)
