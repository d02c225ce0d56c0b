"""Account security: the security stamp and what rotating it ends, lockout notices, reset throttling.

``User.security_stamp`` is a random value that every credential derived from the account carries:
the session hash (``User.get_session_auth_hash``), one-click links (``bizops.links``). Rotating it —
on every password change and on "Sign out everywhere" — ends the other sessions, makes emailed
links read as invalid and revokes the account's API tokens, visibly on the profile page.

Every password change rotates it, whichever way it is made (the profile page, the emailed reset link,
the admin, ``manage.py changepassword``): Django tells each entry of ``AUTH_PASSWORD_VALIDATORS`` that
has a ``password_changed`` method when ``User.save()`` stores a new password, and
``RotateStampOnPasswordChange`` is one. Django does not call it for a hash upgrade at log-in.
"""

from __future__ import annotations

import hashlib
import logging

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .audit import audit_record
from .lockout import cooloff_minutes, normalize_account
from .models import ApiToken, User, new_security_stamp

log = logging.getLogger(__name__)

PASSWORD_RESET_WINDOW = 60 * 60  # seconds: the limits below count per hour


# --- The security stamp -----------------------------------------------------------------------------


@transaction.atomic
def security_stamp_rotate(*, user: User) -> int:
    """Give ``user`` a new stamp: their other sessions end at their next request, links sent before
    stop working, and their live API tokens are revoked. Their failed log-ins are forgotten too: a
    new password is the way out of a lock (the lockout email says so). Returns the tokens revoked.

    ``user`` gets the new stamp in memory as well, so ``update_session_auth_hash`` afterwards keeps
    the caller's own session.
    """
    user.security_stamp = new_security_stamp()
    User.objects.filter(pk=user.pk).update(security_stamp=user.security_stamp)
    live = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True))
    revoked = ApiToken.objects.filter(pk__in=[t.pk for t in live]).update(revoked_at=timezone.now())
    for token in live:  # each organization's audit trail says its tokens went, and why
        audit_record(
            organization_id=token.organization_id,
            actor=user,
            kind="api_token",
            action="revoked",
            obj=token,
            title=f"{token.name} ({token.prefix}…)",
            comment="New password or “Sign out everywhere”.",
        )
    account = normalize_account(user.email)
    if account:
        axes_reset(username=account)
        account_lockout_cleared(username=account)
    return revoked


def user_sign_out_everywhere(*, actor: User) -> int:
    """The profile page's "Sign out everywhere": the stamp rotated; the caller's view keeps its own
    session with ``update_session_auth_hash``. Returns the API tokens revoked."""
    revoked = security_stamp_rotate(user=actor)
    log.info("user %s signed out everywhere (%d API tokens revoked)", actor.pk, revoked)
    return revoked


class RotateStampOnPasswordChange:
    """An ``AUTH_PASSWORD_VALIDATORS`` entry that validates nothing: Django calls its
    ``password_changed`` after a new password is saved, and it rotates the stamp."""

    def validate(self, password: str, user: User | None = None) -> None:
        return None

    def password_changed(self, password: str, user: User | None = None) -> None:
        if user is not None and user.pk is not None:
            security_stamp_rotate(user=user)

    def get_help_text(self) -> str:
        return "A new password signs you out on your other devices and stops your API tokens."


# --- Lockout notices --------------------------------------------------------------------------------


def lock_notice_key(account: str) -> str:
    return f"bizops:lock-notice:{hashlib.sha256(account.encode()).hexdigest()}"


def account_lockout_notify(*, username: str, lock_id: int, ip_address: str | None) -> None:
    """Tell the owner of ``username`` (if it is an account) that log-ins to it are paused, once a lock.

    Called on every locked attempt (``bizops.lockout.LockoutHandler``). The cache note, kept alive
    while the attempts go on, spares the email's rendering and insert on each; the outbox's
    ``dedupe_key`` (the lock's first attempt row) is what makes it one email even when the cache
    forgot or two processes raced.
    """
    timeout = max(60, cooloff_minutes() * 60)
    note = lock_notice_key(username)
    if not cache.add(note, lock_id, timeout=timeout):
        cache.touch(note, timeout=timeout)
        return
    user = User.objects.filter(email__iexact=username, is_active=True).first()
    if user is None:
        return  # no such account: it is locked all the same, and nobody is told
    from .emails import email_enqueue

    email_enqueue(
        to=user,
        template="account_locked",
        kind="account_locked",
        dedupe_key=f"account_locked:{user.pk}:{lock_id}",
        context={
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": cooloff_minutes(),
            "ip_address": ip_address or "an unknown address",
            # The reset form, not a reset link: the outbox keeps bodies in the database, and a live
            # reset token there would open the account to whoever reads it.
            "reset_path": reverse("password_reset"),
        },
    )


def account_lockout_cleared(*, username: str) -> None:
    """The account's failures are forgotten (a log-in, a new password): its next lock is told again."""
    cache.delete(lock_notice_key(username))


# --- Password reset throttling ----------------------------------------------------------------------


def _count(key: str, window: int) -> int:
    """One more hit on ``key`` in a fixed window of ``window`` seconds from its first hit; the count."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr: this hit opens the next one
        cache.set(key, 1, timeout=window)
        return 1


def password_reset_address_key(address: str | None) -> str:
    return f"bizops:pwreset:address:{address or 'unknown'}"


def password_reset_account_key(user_id: int) -> str:
    return f"bizops:pwreset:account:{user_id}"


def password_reset_address_allow(*, address: str | None) -> bool:
    """Count a reset request from ``address``; ``False`` past ``PASSWORD_RESET_REQUESTS_PER_ADDRESS``
    in the hour. Every request counts, for an account or not, so an address cannot probe or flood."""
    count = _count(password_reset_address_key(address), PASSWORD_RESET_WINDOW)
    return count <= settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS


def password_reset_account_allow(*, user: User) -> bool:
    """Count a reset email to ``user``; ``False`` past ``PASSWORD_RESET_EMAILS_PER_ACCOUNT`` in the
    hour, so nobody can fill a mailbox with reset emails from many addresses."""
    count = _count(password_reset_account_key(user.pk), PASSWORD_RESET_WINDOW)
    return count <= settings.PASSWORD_RESET_EMAILS_PER_ACCOUNT
