"""The company core's models: people, organizations (the tenants), memberships, teams and invitations;
the outbox and notifications; API tokens and webhooks; the audit trail.

Import them from here (``from bizops.models import Membership``): the modules are how they are kept.
"""

from .audit import (
    AuditEvent,
    AuditEventQuerySet,
)
from .integrations import (
    ApiToken,
    ApiTokenQuerySet,
    Webhook,
    WebhookDelivery,
)
from .messages import (
    Notification,
    OutboundEmail,
    new_message_token,
)
from .people import (
    Invitation,
    Membership,
    Organization,
    Team,
    User,
    UserManager,
    Weekday,
    new_security_stamp,
    validate_time_zone,
)

__all__ = [
    "ApiToken",
    "ApiTokenQuerySet",
    "AuditEvent",
    "AuditEventQuerySet",
    "Invitation",
    "Membership",
    "Notification",
    "Organization",
    "OutboundEmail",
    "Team",
    "User",
    "UserManager",
    "Webhook",
    "WebhookDelivery",
    "Weekday",
    "new_message_token",
    "new_security_stamp",
    "validate_time_zone",
]
