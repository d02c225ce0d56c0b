"""What the project's middleware and decorators add to a request, for type checkers.

Django passes views an ``HttpRequest``; these subclasses only name the attributes set on it on the
way in (django-stubs' documented pattern for request attributes added by middleware), so views
annotated with them are checked. Nothing constructs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from .access import Permissions
    from .models import Membership, Organization, User


class HtmxRequest(HttpRequest):
    """Any request past ``django_htmx``'s middleware: ``request.htmx`` says whether HTMX sent it."""

    htmx: HtmxDetails


class OrgRequest(HtmxRequest):
    """A request inside an organization, as ``access.org_view`` leaves it: a logged-in member."""

    user: User  # type: ignore[assignment]  # org_view has checked the log-in: never AnonymousUser
    org: Organization
    membership: Membership
    can: Permissions
    my_memberships: list[Membership]
