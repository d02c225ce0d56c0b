"""Flow 1: the agency's founder signs up, invites a member and a manager, and both join by email."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import MANAGER, MEMBER, ORG_NAME, OWNER, accept_invitation, emailed_link, invite, sign_up

pytestmark = pytest.mark.e2e


def test_sign_up_then_invite_a_member_and_a_manager_who_join_by_email(page: Page, open_page):
    slug = sign_up(page, OWNER, ORG_NAME)
    expect(page.get_by_text(f"Welcome! {ORG_NAME} is ready.")).to_be_visible()
    expect(page.get_by_text("You are owner here.")).to_be_visible()

    # The Members page, from the Organization menu of the navigation.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Organization", exact=True).click()
    nav.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()
    invite(page, slug, MEMBER, "member")
    invite(page, slug, MANAGER, "manager")
    pending = page.locator("section", has=page.get_by_role("heading", name="Pending invitations"))
    expect(pending.get_by_role("row", name=re.compile(re.escape(MEMBER.email)))).to_contain_text("Member")
    expect(pending.get_by_role("row", name=re.compile(re.escape(MANAGER.email)))).to_contain_text("Manager")

    # Each invitee follows the link in their email, in a browser of their own, and creates an account.
    link = emailed_link(MEMBER.email)
    assert link.startswith(page.url.split("/o/")[0])  # the link points at this server
    member_page = open_page()
    assert accept_invitation(member_page, MEMBER) == slug
    expect(member_page.get_by_text("You are member here.")).to_be_visible()
    expect(member_page.get_by_role("navigation", name="Main")).not_to_contain_text("Waiting for me")

    manager_page = open_page()
    assert accept_invitation(manager_page, MANAGER) == slug
    expect(manager_page.get_by_text("You are manager here.")).to_be_visible()
    expect(manager_page.get_by_role("navigation", name="Main")).to_contain_text("Waiting for me")

    # The link works once.
    used = open_page()
    used.goto(link)
    expect(used.get_by_role("heading", name="This invitation was already used")).to_be_visible()

    # The owner sees three members and no pending invitation.
    page.reload()
    expect(page.get_by_text("3 members of")).to_be_visible()
    expect(page.get_by_text("No pending invitations.")).to_be_visible()

    from bizops.models import Invitation, Membership

    roles = dict(Membership.objects.filter(organization__slug=slug).values_list("user__email", "role"))
    assert roles == {OWNER.email: "owner", MEMBER.email: "member", MANAGER.email: "manager"}
    assert not Invitation.objects.filter(organization__slug=slug, accepted_at__isnull=True).exists()
