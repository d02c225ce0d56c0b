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


class TracedRequest(HttpRequest):
    """Any request: ``RequestIdMiddleware``, first in the stack, names it (``request.request_id``)."""

    request_id: str


class AxesRequest(HttpRequest):
    """A log-in attempt as django-axes hands it to its handler (``bizops.lockout.LockoutHandler``): its
    ``AxesProxyHandler.update_request`` has set the client's address first."""

    axes_ip_address: str | None


class HtmxRequest(TracedRequest):
    """Any request past ``django_htmx``'s middleware: ``request.htmx`` says whether HTMX sent it."""

    htmx: HtmxDetails


class AuthenticatedRequest(HtmxRequest):
    """A request past ``login_required``: a logged-in user, never ``AnonymousUser`` (no organization)."""

    user: User


class OrgRequest(AuthenticatedRequest):
    """A request inside an organization, as ``access.org_view`` leaves it: a logged-in member."""

    org: Organization
    membership: Membership
    can: Permissions
    my_memberships: list[Membership]
