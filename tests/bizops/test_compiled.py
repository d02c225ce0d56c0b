"""``CompiledQuery``: the same instances as the ORM's querysets, from SQL compiled once per connection;
with ``BIZOPS_COMPILED_QUERIES`` off, the ORM's own."""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from bizops.access import membership_for, memberships_with_current
from bizops.badges import with_badges
from bizops.compiled import CompiledQuery
from bizops.models import Membership, Organization, User
from tests.factories import MembershipFactory


@pytest.fixture(autouse=True)
def _compiled_on(settings):
    """These tests check the compiled path itself, on PostgreSQL and on SQLite, whatever the default."""
    settings.BIZOPS_COMPILED_QUERIES = True


def memberships(user_id):
    return (
        with_badges(Membership.objects.filter(user_id=user_id)).select_related("organization").order_by("pk")
    )


def fields_of(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.mark.django_db
def test_the_same_instances_as_the_queryset_with_related_rows_and_annotations(acme, other):
    MembershipFactory(organization=other.org, user=acme.member.user)
    compiled = CompiledQuery(memberships)

    for user_id in (acme.member.user_id, acme.admin.user_id, 0):
        expected = list(memberships(user_id))
        got = compiled(user_id=user_id)
        assert [fields_of(m) for m in got] == [fields_of(m) for m in expected]
        assert [fields_of(m.organization) for m in got] == [fields_of(m.organization) for m in expected]
        assert [(m.badge_unread, m.badge_review_queue) for m in got] == [
            (m.badge_unread, m.badge_review_queue) for m in expected
        ]
    assert len(compiled(user_id=acme.member.user_id)) == 2
    with CaptureQueriesContext(connection) as queries:
        got = compiled(user_id=acme.member.user_id)
        assert {m.organization.slug for m in got} == {"acme", "globex"}  # no query for the organizations
    assert len(queries) == 1


@pytest.mark.django_db
def test_text_parameters_and_values_that_need_quoting(acme):
    compiled = CompiledQuery(lambda slug: Organization.objects.filter(slug=slug), text=("slug",))
    assert [o.pk for o in compiled(slug="acme")] == [acme.org.pk]
    assert compiled(slug="acme' OR '1'='1") == []


@pytest.mark.django_db
def test_a_parameter_that_does_not_reach_the_sql_as_one_value_is_refused():
    with pytest.raises(ValueError, match="email"):
        CompiledQuery(lambda email: User.objects.filter(email__contains=email), text=("email",))(email="a")
    with pytest.raises(ValueError, match="pk"):
        CompiledQuery(lambda pk: User.objects.filter(pk__gt=pk + 1))(pk=1)
    with pytest.raises(TypeError):
        CompiledQuery(lambda user_id: Membership.objects.filter(user_id=user_id).values("pk"))(user_id=1)


@pytest.mark.django_db(transaction=True)
def test_another_thread_runs_the_compiled_query_on_its_own_connection(acme):
    compiled = CompiledQuery(lambda pk: Organization.objects.filter(pk=pk))
    results = []

    def run():
        try:
            results.append([o.slug for o in compiled(pk=acme.org.pk)])
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    assert [o.slug for o in compiled(pk=acme.org.pk)] == ["acme"]
    thread.start()
    thread.join()
    assert results == [["acme"]]
    assert list(compiled._compiled) == ["default"]  # compiled once, whatever the connection


@pytest.mark.django_db
def test_the_access_lookups_find_only_the_users_own_memberships(acme, other):
    member = acme.member
    current, everyone = memberships_with_current(member.user, "acme", badges=True)
    assert current.pk == member.pk and current.organization == acme.org and current.user is member.user
    assert [m.pk for m in everyone] == [member.pk]
    assert membership_for(member.user, "acme").pk == member.pk
    from django.http import Http404

    for lookup in (
        lambda: membership_for(member.user, "globex"),
        lambda: memberships_with_current(member.user, "globex"),
        lambda: membership_for(member.user, "no-such-org"),
    ):
        with pytest.raises(Http404):
            lookup()


@pytest.mark.django_db
def test_the_backend_loads_active_users_only(acme, client):
    from bizops.backends import ModelBackend

    backend = ModelBackend()
    user = acme.member.user
    assert fields_of(backend.get_user(str(user.pk))) == fields_of(User.objects.get(pk=user.pk))
    assert backend.get_user(0) is None and backend.get_user("not-an-id") is None
    client.force_login(user, backend="bizops.backends.ModelBackend")
    assert client.get("/o/acme/my-work/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None
    assert client.get("/o/acme/my-work/").status_code == 302  # signed out: off to the login page


@pytest.mark.django_db
def test_org_objects_finds_only_the_organizations_own_and_treats_odd_ids_as_missing(acme, other):
    from django.http import Http404

    from bizops.access import OrgObjects
    from bizops.models import Team

    teams = OrgObjects(lambda: Team.objects.all())
    mine = Team.objects.create(organization=acme.org, name="Sales")
    theirs = Team.objects.create(organization=other.org, name="Sales")
    assert teams.get_or_404(acme.org, mine.pk) == mine
    assert teams.get_or_404(acme.org, str(mine.pk)) == mine
    for pk in (theirs.pk, 0, -1, 2**63, 10**30, "x", None):
        with pytest.raises(Http404):
            teams.get_or_404(acme.org, pk)


@pytest.mark.django_db
def test_org_scoped_ids_give_drfs_answers_through_the_compiled_lookup(acme, other):
    from rest_framework import serializers

    from bizops.models import Team
    from planning.serializers import OrgScopedField, member_field

    class Form(serializers.Serializer):
        team = OrgScopedField(Team, required=False)
        member = member_field(required=False)

    mine = Team.objects.create(organization=acme.org, name="Sales")
    theirs = Team.objects.create(organization=other.org, name="Sales")

    def check(data, context={"organization": acme.org}):  # noqa: B006 - read only
        form = Form(data=data, context=context)
        return (
            form.validated_data
            if form.is_valid()
            else {k: [str(e) for e in v] for k, v in form.errors.items()}
        )

    assert check({"team": mine.pk, "member": str(acme.member.pk)}) == {"team": mine, "member": acme.member}
    with CaptureQueriesContext(connection) as queries:
        assert check({"member": acme.member.pk})["member"].user == acme.member.user  # the user came along
    assert len(queries) == 1
    missing = f'Invalid pk "{theirs.pk}" - object does not exist.'
    assert check({"team": theirs.pk}) == {"team": [missing]}
    assert check({"team": 2**63}) == {"team": [f'Invalid pk "{2**63}" - object does not exist.']}
    assert check({"team": "x"}) == {"team": ["Incorrect type. Expected pk value, received str."]}
    assert check({"team": True}) == {"team": ["Incorrect type. Expected pk value, received bool."]}
    assert check({"team": [1]}) == {"team": ["Incorrect type. Expected pk value, received list."]}
    assert check({"team": mine.pk}, context={}) == {
        "team": [f'Invalid pk "{mine.pk}" - object does not exist.']
    }


@pytest.mark.django_db(transaction=True)
def test_a_compiled_lock_outside_a_transaction_is_refused_every_time(acme):
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    locked = CompiledQuery(lambda pk: Organization.objects.select_for_update().filter(pk=pk))
    with transaction.atomic():
        assert [o.pk for o in locked(pk=acme.org.pk)] == [acme.org.pk]
    with pytest.raises(TransactionManagementError):
        locked(pk=acme.org.pk)


@pytest.mark.django_db
def test_an_infinite_id_is_a_bad_id_not_a_crash(acme):
    from django.http import Http404
    from rest_framework import serializers

    from bizops.access import OrgObjects
    from bizops.models import Team
    from planning.serializers import OrgScopedField

    class Form(serializers.Serializer):
        team = OrgScopedField(Team)

    form = Form(data={"team": float("inf")}, context={"organization": acme.org})
    assert not form.is_valid() and "Incorrect type" in str(form.errors["team"][0])
    with pytest.raises(Http404):
        OrgObjects(lambda: Team.objects.all()).get_or_404(acme.org, float("inf"))


@pytest.mark.django_db
def test_turned_off_it_runs_the_orm_and_compiles_nothing(acme, settings):
    settings.BIZOPS_COMPILED_QUERIES = False
    compiled = CompiledQuery(memberships)
    got = compiled(user_id=acme.member.user_id)
    expected = list(memberships(acme.member.user_id))
    assert [fields_of(m) for m in got] == [fields_of(m) for m in expected]
    assert got[0].badge_unread == expected[0].badge_unread and got[0].organization == acme.org
    assert compiled._compiled == {}
    # What the ORM does, not the compiled path: a parameter it could not compile is simply used.
    assert CompiledQuery(lambda pk: User.objects.filter(pk__gt=pk + 1))(pk=0) is not None
