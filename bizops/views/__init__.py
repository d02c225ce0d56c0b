"""Pages of the company core: sign-up, profile, organizations, members, teams, invitations, outbox."""

from .accounts import (  # noqa: F401
    AUTH_BACKEND,
    home,
    organization_create,
    organization_list,
    organization_settings,
    page_not_found,
    password_change,
    profile,
    profile_token_create,
    profile_token_revoke,
    sign_out_everywhere,
    signup,
)
from .inbox import (  # noqa: F401
    EMAIL_KIND_LABELS,
    email_kind_label,
    notification_list,
    notification_open,
    notification_preferences,
    outbox,
    outbox_detail,
)
from .people import (  # noqa: F401
    INVALID_REASONS,
    INVALID_STATUS,
    invitation_accept,
    invitation_revoke,
    member_change_role,
    member_invite,
    member_list,
    member_remove,
    team_create,
    team_detail,
    team_list,
)
from .search import search  # noqa: F401
