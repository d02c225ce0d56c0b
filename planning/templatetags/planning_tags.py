from django import template

from bizops.badges import badge

from ..selectors import review_queue

register = template.Library()


@register.simple_tag(takes_context=True)
def review_queue_count(context) -> int:
    """Plans waiting for the current member's decision: the count in the navigation (one query)."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in ("owner", "admin", "manager"):
        return 0
    return badge(membership, "review_queue", lambda: review_queue(membership=membership).count())
