"""Links between the apps without imports between them: the navigation's entries and named links.

The core draws the navigation and the pages' frame but knows no planning or metrics page, and
planning knows no metrics page. Each app registers, from its ``AppConfig.ready``:

- its **navigation entries** (``register_nav_item``): the main bar (Overview, Plans, KPIs...) and the
  Organization menu, each with the role action that shows it and an optional count (a badge);
- the **links** it answers for (``register_link``): a name another app asks for ("the page of an
  objective's measures", "the organization's home") mapped to one of its URL names. A page asks with
  ``{% link "objective_measures" org.slug objective.pk as url %}`` and shows nothing where no app
  answers (the ``link`` tag in ``bizops.templatetags.navigation``).

``tests/bizops/test_navigation.py`` holds the apps to it: no core template or module names a planning or
metrics URL, and no planning one names a metrics URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from django.urls import get_script_prefix, reverse

if TYPE_CHECKING:
    from .models import Membership

MAIN = "main"
ORGANIZATION = "organization"  # the Organization menu


@dataclass(frozen=True)
class NavItem:
    """An entry of an organization's navigation: a page taking only the organization's slug."""

    label: str
    url_name: str
    section: str = MAIN
    order: int = 100
    # View names (namespaced, as ``request.resolver_match.view_name``) where this entry is current.
    current_on: frozenset[str] = frozenset()
    permission: str | None = None  # a role action (``bizops.roles``) the viewer needs to see it
    count: Callable[[Membership], int] | None = None  # a badge: e.g. plans waiting for them
    count_label: str = "{count}"  # what the count means, for screen readers: "{count} plan{s} waiting"


@dataclass(frozen=True)
class ShownNavItem:
    """A ``NavItem`` as one member sees it on one page."""

    label: str
    url: str
    current: bool
    count: int
    count_label: str


_nav: dict[str, NavItem] = {}
_links: dict[str, str] = {}


def register_nav_item(item: NavItem) -> None:
    """Add (or replace, by URL name) an entry; registering twice is harmless."""
    _nav[item.url_name] = item
    _sorted.cache_clear()


@lru_cache(maxsize=1)
def _sorted() -> list[NavItem]:
    return sorted(_nav.values(), key=lambda i: (i.section, i.order, i.label))


@lru_cache(maxsize=4096)
def _org_url(url_name: str, slug: str, script_prefix: str) -> str:
    # Every organization page draws ~15 entries: their URLs depend only on these three.
    return reverse(url_name, args=[slug])


def register_link(name: str, url_name: str) -> None:
    _links[name] = url_name


def link_url_name(name: str) -> str | None:
    """The URL name answering ``name``, or None where no installed app answers it."""
    return _links.get(name)


def link(name: str, *args: object) -> str:
    """The URL of link ``name`` with these arguments, or "" where no app answers it."""
    url_name = _links.get(name)
    return reverse(url_name, args=args) if url_name else ""


def org_home(slug: str) -> str:
    """Where an organization opens (planning's Overview); its members page where no app answers."""
    return link("org_home", slug) or reverse("member_list", args=[slug])


def nav_for(membership: Membership, can: Callable[[str], bool], view_name: str | None) -> dict[str, list]:
    """The entries of each section this member may see, in order, with their URLs and counts."""
    sections: dict[str, list[ShownNavItem]] = {MAIN: [], ORGANIZATION: []}
    slug = membership.organization.slug
    prefix = get_script_prefix()
    for item in _sorted():
        if item.permission and not can(item.permission):
            continue
        count = item.count(membership) if item.count is not None else 0
        sections.setdefault(item.section, []).append(
            ShownNavItem(
                label=item.label,
                url=_org_url(item.url_name, slug, prefix),
                current=view_name == item.url_name or view_name in item.current_on,
                count=count,
                count_label=item.count_label.format(count=count, s="" if count == 1 else "s"),
            )
        )
    return sections


def _core_entries() -> None:
    """The core's own pages, in the Organization menu."""
    for order, label, url_name, permission, current_on in (
        (20, "Members", "member_list", None, ()),
        (30, "Teams", "team_list", None, ("team_detail",)),
        (40, "Outbox", "outbox", "outbox_view", ("outbox_detail",)),
        (50, "Audit log", "audit_log", "audit_view", ()),
        (60, "Webhooks", "webhook_list", "webhooks_manage", ("webhook_detail",)),
        (70, "Settings", "organization_settings", "org_settings", ()),
    ):
        register_nav_item(
            NavItem(
                label=label,
                url_name=url_name,
                section=ORGANIZATION,
                order=order,
                permission=permission,
                current_on=frozenset(current_on),
            )
        )


_core_entries()
