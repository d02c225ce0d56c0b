from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

from .badges import badge
from .models import Membership

if TYPE_CHECKING:
    from .requests import OrgRequest


def organization(request: HttpRequest) -> dict:
    """The current organization, the caller's permissions and the switcher's list, for the layout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        # Lazy: only pages that render the switcher pay for the query (org pages have it already).
        if hasattr(request, "my_memberships"):
            return request.my_memberships
        return list(
            Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")
        )

    org = getattr(request, "org", None)

    def unread():
        # Lazy too: one COUNT when the layout shows the bell.
        from .models import Notification

        if org is None:
            return 0
        return badge(
            cast("OrgRequest", request).membership,  # request.org is set: access.attach_membership ran
            "unread",
            lambda: Notification.objects.filter(
                recipient=user, organization=org, read_at__isnull=True
            ).count(),
        )

    return {
        "unread_notifications": unread,
        "org": org,
        "membership": getattr(request, "membership", None),
        "can": getattr(request, "can", None),
        "my_memberships": memberships,
    }
