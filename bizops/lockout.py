"""Failed log-ins: what django-axes counts, which address a request comes from, and what a lock says.

Axes is wired through its documented settings (``bizops.settings``): ``AXES_USERNAME_CALLABLE``,
``AXES_CLIENT_IP_CALLABLE``, ``AXES_HANDLER`` and ``AXES_LOCKOUT_CALLABLE`` name the functions and the
class below.

- **Accounts are counted by their email, case-insensitively.** The login forms (ours and the admin's)
  post the email as ``username``; ``lockout_username`` reads that and lowercases it, so
  ``Mia@Acme.example`` and ``mia@acme.example`` are one account to the lockout.
- **An account and an address are locked separately, each with its own limit.** ``AXES_FAILURE_LIMIT``
  failures against one account within the cool-off lock that account, wherever they came from;
  ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address lock the address, whichever accounts they
  tried. The address limit is higher because an office behind one NAT address is many people.
- **The address is the socket's** (``REMOTE_ADDR``) unless ``TRUSTED_PROXY_COUNT`` says how many
  proxies of ours stand in front: only then is ``X-Forwarded-For`` read, and only the entry our
  outermost proxy wrote. A client can put anything in that header.
- **A locked account answers the same whatever the password.** The axes backend refuses before the
  password is checked, so the right password and a wrong one both get the lockout page (429).
"""

from __future__ import annotations

import ipaddress
import logging
import operator
from functools import reduce
from typing import TYPE_CHECKING

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

if TYPE_CHECKING:
    from .requests import AxesRequest

log = logging.getLogger(__name__)


def normalize_account(value: object) -> str | None:
    """The account name the lockout counts: the email stripped and lowercased (emails are
    case-insensitive here, ``User.email`` is stored lowercased); ``None`` when there is none."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()


def lockout_username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the account a log-in attempt is for, from the credentials given to
    ``authenticate`` (or the posted form when axes has none)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        return normalize_account(credentials.get(field))
    if request is None:
        return None
    return normalize_account(getattr(request, "POST", {}).get(field))


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT = n`` proxies in front, the
    n-th ``X-Forwarded-For`` entry from the right (each proxy appends the address it was called from,
    so entries further left were written by the client and prove nothing).

    Too few entries or a malformed one means the request did not come through all our proxies: the
    socket's address is used then, which can only lock too much, never let a guesser pick an address.
    DRF's throttles read the same setting (``REST_FRAMEWORK["NUM_PROXIES"]``).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        log.warning("X-Forwarded-For entry %r is not an address; using the socket's", candidate[:60])
        return remote


def cooloff_minutes(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request)
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per account and another per address.

    Axes compares one number, ``get_failures``, with ``AXES_FAILURE_LIMIT`` (before a log-in is tried
    and after each failure). Here that number is the account's failures, or the limit itself once the
    address is over ``LOGIN_ADDRESS_FAILURE_LIMIT``; so either lock applies, each at its own count.
    """

    def failure_counts(self, request: AxesRequest, credentials: dict | None = None) -> tuple[int, int]:
        """(failures against this account, failures from this address) within the cool-off, in one query."""
        wanted = {}
        username = get_client_username(request, credentials)
        if username:
            wanted["account"] = Q(username=username)
        if request.axes_ip_address:
            wanted["address"] = Q(ip_address=request.axes_ip_address)
        if not wanted:
            return 0, 0
        counts = (
            self.recent_attempts(request)
            .filter(reduce(operator.or_, wanted.values()))
            .aggregate(**{name: Sum("failures_since_start", filter=q) for name, q in wanted.items()})
        )
        return counts.get("account") or 0, counts.get("address") or 0

    def recent_attempts(self, request: HttpRequest):
        attempts = AccessAttempt.objects.all()
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts

    def get_failures(self, request: AxesRequest, credentials: dict | None = None) -> int:
        per_account, per_address = self.failure_counts(request, credentials)
        if per_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(per_account, get_failure_limit(request, credentials))
        return per_account

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or not getattr(request, "axes_locked_out", False):
            return
        per_account, _ = self.failure_counts(request, credentials)
        if per_account < get_failure_limit(request, credentials):
            return  # only the address is locked: there is no account owner to tell
        username = get_client_username(request, credentials)
        # The lock's oldest attempt row names this lock: the rows go when the cool-off passes or the
        # owner logs in, so a later lock has another and tells the owner again.
        first_attempt = (
            self.recent_attempts(request)
            .filter(username=username)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if first_attempt is None:
            return
        from .account_security import account_lockout_notify

        account_lockout_notify(username=username, lock_id=first_attempt, ip_address=request.axes_ip_address)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """A successful log-in clears the account's failures, not its address's: otherwise a guesser
        with an account of their own (anyone can sign up) would wipe their address's record of
        spraying other accounts by logging in to it now and then."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        from .account_security import account_lockout_cleared

        account_lockout_cleared(username=username)
        return count


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the lockout page, the same for every locked attempt (the right
    password or a wrong one, a browser or a script), and without echoing the account name."""
    context = {"cooloff_minutes": cooloff_minutes(request)}
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
