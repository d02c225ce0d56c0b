"""Teams: named groups of members with a lead; objectives are delegated to them."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from ..access import require
from ..audit import audit_record
from ..errors import ValidationError
from ..models import Membership, Organization, Team


def _audit(actor: Membership, team: Team, action: str, **changes: list) -> None:
    audit_record(
        organization_id=team.organization_id,
        actor=actor,
        kind="team",
        action=action,
        obj=team,
        changes=changes,
    )


def _person(membership: Membership | None) -> str | None:
    return (membership.user.display_name or membership.user.email) if membership is not None else None


def _check_member(org: Organization, membership: Membership | None, field: str) -> None:
    if membership is not None and membership.organization_id != org.pk:
        raise ValidationError({field: "Choose a member of this organization."})


@transaction.atomic
def team_create(*, actor: Membership, name: str, lead: Membership | None = None) -> Team:
    require(actor, "teams_manage")
    org = actor.organization
    _check_member(org, lead, "lead")
    team = Team(organization=org, name=name.strip(), lead=lead)
    team.full_clean()
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": "A team with this name exists already."}) from None
    if lead is not None:
        team.members.add(lead)
    _audit(actor, team, "created", name=[None, team.name], lead=[None, _person(lead)])
    return team


@transaction.atomic
def team_update(*, actor: Membership, team: Team, name: str, lead: Membership | None) -> Team:
    require(actor, "teams_manage")
    org = actor.organization
    if team.organization_id != org.pk:
        raise ValidationError("No such team.")
    _check_member(org, lead, "lead")
    before = {"name": team.name, "lead": _person(team.lead) if team.lead_id else None}
    team.name = name.strip()
    team.lead = lead
    team.full_clean()
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": "A team with this name exists already."}) from None
    if lead is not None:
        team.members.add(lead)
    after = {"name": team.name, "lead": _person(lead)}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        _audit(actor, team, "changed", **changes)
    return team


@transaction.atomic
def team_add_member(*, actor: Membership, team: Team, membership: Membership) -> None:
    require(actor, "teams_manage")
    _check_member(actor.organization, membership, "member")
    if team.organization_id != actor.organization_id:
        raise ValidationError("No such team.")
    if team.members.filter(pk=membership.pk).exists():
        return
    team.members.add(membership)
    _audit(actor, team, "added a member to", member=[None, _person(membership)])


@transaction.atomic
def team_remove_member(*, actor: Membership, team: Team, membership: Membership) -> None:
    require(actor, "teams_manage")
    if team.organization_id != actor.organization_id:
        raise ValidationError("No such team.")
    if not team.members.filter(pk=membership.pk).exists():
        return
    team.members.remove(membership)
    if team.lead_id == membership.pk:
        team.lead = None
        team.save(update_fields=["lead"])
    _audit(actor, team, "removed a member from", member=[_person(membership), None])


@transaction.atomic
def team_delete(*, actor: Membership, team: Team) -> None:
    require(actor, "teams_manage")
    if team.organization_id != actor.organization_id:
        raise ValidationError("No such team.")
    _audit(actor, team, "deleted", name=[team.name, None])
    team.delete()
