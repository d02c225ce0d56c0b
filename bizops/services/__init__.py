"""Every write of the company core, as ``<thing>_<verb>(*, actor, ...)`` functions.

Each checks its own permission against the one role map (``bizops.access.require``), writes, and
records an audit event (``bizops.audit``) in the same transaction.
"""

from .invitations import (
    INVITATION_SALT,
    InvitationInvalid,
    invitation_accept,
    invitation_accept_with_signup,
    invitation_create,
    invitation_from_token,
    invitation_revoke,
    invitation_token,
    invitation_url,
)
from .members import (
    membership_change_role,
    membership_dismiss_getting_started,
    membership_remove,
    membership_set_preferences,
    notifications_mark_read,
)
from .organizations import (
    RESERVED_SLUGS,
    organization_create,
    organization_update,
    user_signup,
    user_update_profile,
)
from .teams import team_add_member, team_create, team_delete, team_remove_member, team_update
from .webhooks import (
    webhook_create,
    webhook_delete,
    webhook_pause,
    webhook_ping,
    webhook_resume,
    webhook_rotate_secret,
)

__all__ = [
    "INVITATION_SALT",
    "RESERVED_SLUGS",
    "InvitationInvalid",
    "invitation_accept",
    "invitation_accept_with_signup",
    "invitation_create",
    "invitation_from_token",
    "invitation_revoke",
    "invitation_token",
    "invitation_url",
    "membership_change_role",
    "membership_dismiss_getting_started",
    "membership_remove",
    "membership_set_preferences",
    "notifications_mark_read",
    "organization_create",
    "organization_update",
    "team_add_member",
    "team_create",
    "team_delete",
    "team_remove_member",
    "team_update",
    "user_signup",
    "user_update_profile",
    "webhook_create",
    "webhook_delete",
    "webhook_pause",
    "webhook_ping",
    "webhook_resume",
    "webhook_rotate_secret",
]
