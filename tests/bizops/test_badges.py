"""The navigation's counts, annotated onto the membership query every organization page runs."""

import pytest
from django.utils import timezone

from bizops.access import memberships_with_current
from bizops.models import Notification
from planning import services
from planning.selectors import review_queue
from tests.factories import MembershipFactory


def badges_of(membership, slug):
    current, everyone = memberships_with_current(membership.user, slug, badges=True)
    return current, {m.organization.slug: m for m in everyone}


@pytest.mark.django_db
def test_unread_counts_only_my_unread_notifications_in_each_organization(acme, other):
    me = acme.member
    MembershipFactory(organization=other.org, user=me.user)

    def notify(org, user, read=False):
        Notification.objects.create(
            organization=org,
            recipient=user,
            kind="mention",
            title="Hi",
            read_at=timezone.now() if read else None,
        )

    notify(acme.org, me.user)
    notify(acme.org, me.user)
    notify(acme.org, me.user, read=True)
    notify(acme.org, acme.admin.user)  # someone else's
    notify(other.org, me.user)

    current, by_slug = badges_of(me, "acme")
    assert current.badge_unread == 2
    assert by_slug["globex"].badge_unread == 1
    assert badges_of(acme.admin, "acme")[0].badge_unread == 1
    assert badges_of(acme.viewer, "acme")[0].badge_unread == 0


@pytest.mark.django_db
def test_review_queue_count_follows_the_queue_through_a_review(acme, other, plan, tree):
    acme.org.approvals_required = 2
    acme.org.save()
    services.plan_submit(actor=acme.manager, plan=plan, approvers=[acme.admin, acme.owner])

    def count(membership):
        value = badges_of(membership, "acme")[0].badge_review_queue
        assert value == review_queue(membership=membership).count()
        return value

    assert (count(acme.admin), count(acme.owner), count(acme.manager)) == (1, 1, 0)
    services.plan_approve(actor=acme.admin, plan=plan)
    assert (count(acme.admin), count(acme.owner)) == (0, 1)
    assert badges_of(other.owner, "globex")[0].badge_review_queue == 0
