"""The organization's navigation and the links between apps (``bizops.navigation``)."""

from __future__ import annotations

from django import template

from .. import navigation

register = template.Library()


@register.simple_tag
def link(name: str, *args: object) -> str:
    """``{% link "objective_measures" org.slug objective.pk as url %}``: the URL, or "" where no app
    answers that link (then show nothing)."""
    return navigation.link(name, *args)


@register.simple_tag
def org_home(slug: str) -> str:
    """Where an organization opens (the link ``org_home``; its members page where none answers)."""
    return navigation.org_home(slug)


@register.simple_tag(takes_context=True)
def org_nav(context: template.Context) -> dict[str, list[navigation.ShownNavItem]]:
    """The navigation entries the current member sees, by section (``main``, ``organization``)."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if request is None or membership is None:
        return {}
    match = request.resolver_match
    return navigation.nav_for(
        membership, lambda action: request.can[action], match.view_name if match else None
    )
