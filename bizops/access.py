"""Access helpers: every page and endpoint finds its organization and objects through these.

"Does not exist" and "not yours" are the same 404 (as zulip's ``access_stream_by_id`` does), so an id
from another organization tells a caller nothing. A role that may see the organization but not do an
action gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from .badges import with_badges
from .compiled import CompiledQuery
from .models import Membership, Organization
from .roles import PERMISSIONS, can

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User
    from .requests import OrgRequest

M = TypeVar("M", bound=Model)


class Permissions:
    """``request.can.members_invite`` in templates; ``request.can["members_invite"]`` in code."""

    def __init__(self, role: str | None) -> None:
        self.role = role

    def __getattr__(self, action: str) -> bool:
        if action not in PERMISSIONS:
            raise AttributeError(action)
        return can(self.role, action)

    __getitem__ = __getattr__


# Every API call and every organization page runs one of these: compiled once (``bizops.compiled``).
_MEMBERSHIP = CompiledQuery(
    lambda user_id, slug: Membership.objects.select_related("organization").filter(
        user_id=user_id, organization__slug=slug
    ),
    text=("slug",),
)
_MEMBERSHIPS = CompiledQuery(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id)
        .select_related("organization")
        .order_by("organization__name")
    )
)
_MEMBERSHIPS_WITH_BADGES = CompiledQuery(
    lambda user_id: (
        with_badges(Membership.objects.filter(user_id=user_id))
        .select_related("organization")
        .order_by("organization__name")
    )
)


def membership_for(user: User | AnonymousUser, org_slug: str) -> Membership:
    """The user's membership of the organization with this slug, or 404 (the API's lookup: no
    switcher, so no list of every membership)."""
    if not user.is_authenticated:
        raise Http404
    found = _MEMBERSHIP(user_id=user.pk, slug=org_slug)
    if not found:
        raise Http404("No such organization.")
    membership = found[0]
    membership.user = user
    return membership


def memberships_with_current(
    user: User | AnonymousUser, org_slug: str, badges: bool = False
) -> tuple[Membership, list[Membership]]:
    """The membership for ``org_slug`` and all of the user's memberships (for the switcher), in one
    query: people belong to a handful of organizations, so fetching them all costs nothing extra.
    ``badges`` adds the navigation's counts to each (``bizops.badges``), in the same query."""
    if not user.is_authenticated:
        raise Http404
    memberships = (_MEMBERSHIPS_WITH_BADGES if badges else _MEMBERSHIPS)(user_id=user.pk)
    current = None
    for membership in memberships:
        membership.user = user  # already loaded by the session: no join for it
        if membership.organization.slug == org_slug:
            current = membership
    if current is None:
        raise Http404("No such organization.")
    return current, memberships


def require(membership: Membership, action: str) -> None:
    if not can(membership.role, action):
        raise PermissionDenied("Your role does not allow this.")


def org_object_or_404(queryset: QuerySet[M] | type[M], organization: Organization, **lookup: Any) -> M:
    """Fetch one tenant-owned object; another organization's id answers 404 like a missing one."""
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    try:
        return qs.get(organization=organization, **lookup)
    # DoesNotExist: django-stubs give it to each concrete model class, not to a type variable's bound.
    except (qs.model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise Http404(f"No such {qs.model._meta.verbose_name}.") from None


class OrgObjects:
    """``org_object_or_404`` by id for the objects a page loads on every request, compiled once
    (``bizops.compiled``): ``KEY_RESULTS = OrgObjects(lambda: KeyResult.objects.select_related(...))``
    at import, ``KEY_RESULTS.get_or_404(request.org, key_result_id)`` in the view."""

    def __init__(self, queryset: Callable[[], QuerySet]) -> None:
        self.query = CompiledQuery(
            lambda organization_id, pk: queryset().filter(organization_id=organization_id, pk=pk)
        )
        self.queryset = queryset

    def get(self, organization: Organization, pk: int) -> Model | None:
        """The organization's object with this id, or None (missing, another organization's)."""
        # Ids are positive 64-bit integers; anything else is as missing as another organization's.
        found = self.query(organization_id=organization.pk, pk=pk) if 0 < pk < 2**63 else []
        return found[0] if found else None

    def get_or_404(self, organization: Organization, pk: Any) -> Model:
        try:
            pk = int(pk)
        except (TypeError, ValueError, OverflowError):
            pk = 0
        obj = self.get(organization, pk)
        if obj is None:
            raise Http404(f"No such {self.queryset().model._meta.verbose_name}.")
        return obj


def org_view(action: str = "org_view") -> Callable:
    """Decorate a view taking ``org_slug``: log-in required, membership resolved, action checked.

    Sets ``request.org``, ``request.membership`` and ``request.can`` and passes the view ``request``
    and the remaining URL arguments.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership, memberships = memberships_with_current(request.user, org_slug, badges=True)
            org_request = cast("OrgRequest", request)  # what the next lines make of it
            attach_membership(org_request, membership)
            org_request.my_memberships = memberships
            require(membership, action)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def attach_membership(request: OrgRequest, membership: Membership) -> None:
    request.membership = membership
    request.org = membership.organization
    request.can = Permissions(membership.role)
    # Remember the last organization used, for "/" and the switcher.
    if request.session.get("current_org") != membership.organization.slug:
        request.session["current_org"] = membership.organization.slug
