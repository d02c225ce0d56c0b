from django.http import HttpRequest

from .models import Membership


def organization(request: HttpRequest) -> dict:
    """The current organization, the caller's permissions and the switcher's list, for the layout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        # Lazy: only pages that render the switcher pay for the query.
        return list(
            Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")
        )

    return {
        "org": getattr(request, "org", None),
        "membership": getattr(request, "membership", None),
        "can": getattr(request, "can", None),
        "my_memberships": memberships,
    }
