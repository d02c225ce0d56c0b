"""One check-in: key results measured by a KPI (one value, one source), and the check-in page that
updates everything a person owns in one form, saved in one transaction or not at all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from bizops.errors import ValidationError
from bizops.models import OutboundEmail
from metrics import reminders, services
from metrics.models import KPI, CheckIn, KeyResult, Measurement
from metrics.selectors import kpi_rows
from planning import services as planning_services
from planning.models import ActionStep, Objective, Plan, PlanStatus, StepCompletion
from planning.selectors import progress_tree
from tests.conftest import client_for
from tests.factories import MembershipFactory, make_plan

pytestmark = pytest.mark.django_db

MARCH_15 = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def in_march():
    """The fixture plan's objective runs from January to March 2027: today is in it."""
    with time_machine.travel(MARCH_15, tick=False):
        yield


def activate(plan: Plan) -> None:
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ACTIVE)


@pytest.fixture
def seller(acme):
    """A member who owns a key result but not the KPI behind it."""
    return MembershipFactory(organization=acme.org, role="member")


@pytest.fixture
def measured(acme, plan, tree, leads, seller):
    """A key result of the running plan measured by the “Leads reached a month” KPI (owned by the member)."""
    _, objective, _ = tree
    kr = services.key_result_create(
        actor=acme.manager,
        objective=objective,
        title="Leads reached",
        start=0,
        target=60,
        owner=seller,
        kpi=leads,
    )
    activate(plan)
    return kr


# --- Key results measured by a KPI ---------------------------------------------------------------------


def test_checking_in_on_the_key_result_records_the_kpi(acme, measured, leads, seller):
    check_in = services.check_in_key_result(
        actor=seller, key_result=measured, value="12", confidence="at_risk", note="Slow start"
    )
    measurement = Measurement.objects.get(kpi=leads)
    assert (measurement.period_start, measurement.value, measurement.recorded_by) == (
        date(2027, 3, 1),
        Decimal(12),
        seller.user,
    )
    measured.refresh_from_db()
    assert measured.current == 12 and check_in.value == 12 and check_in.previous_value == 0
    (row,) = kpi_rows(kpis=[leads])
    assert (row.latest.value, row.status.key) == (Decimal(12), "red")  # below the red line of 70

    # A second check-in in the same month corrects the KPI's value, keeping the first in its history.
    services.check_in_key_result(actor=seller, key_result=measured, value="15", confidence="on_track")
    assert list(Measurement.objects.filter(kpi=leads).values_list("value", "is_current").order_by("pk")) == [
        (Decimal(12), False),
        (Decimal(15), True),
    ]
    measured.refresh_from_db()
    assert measured.current == 15 and CheckIn.objects.filter(key_result=measured).count() == 2


def test_recording_the_kpi_moves_the_key_result_within_its_dates(acme, clients, measured, leads, tree):
    _, objective, _ = tree
    services.measurement_record(actor=acme.member, kpi=leads, period=date(2027, 2, 10), value="9")
    measured.refresh_from_db()
    assert measured.current == 9
    services.measurement_record(actor=acme.member, kpi=leads, period=date(2027, 3, 3), value="12")
    # April is past the objective's due date (31 March): it does not count for this key result.
    services.measurement_record(actor=acme.member, kpi=leads, period=date(2027, 4, 3), value="50")
    measured.refresh_from_db()
    assert measured.current == 12

    part = next(
        p
        for p in progress_tree(plan=measured.plan).progress.objectives[objective.pk].parts
        if p.kind == "key_result"
    )
    assert part.percent == 20
    assert part.detail == "12 of 60 — from KPI “Leads reached a month”, Mar 2027"
    why = reverse(
        "planning:progress_breakdown", args=[acme.org.slug, measured.plan_id, "objective", objective.pk]
    )
    assert (
        "12 of 60 — from KPI “Leads reached a month”, Mar 2027" in clients["viewer"].get(why).content.decode()
    )


def test_the_dashboard_shows_the_value_a_key_result_check_in_recorded(acme, clients, measured, seller):
    seller_client = client_for(seller)
    response = seller_client.post(
        reverse("metrics:key_result_detail", args=[acme.org.slug, measured.pk]),
        {"form": "check_in", "value": "12", "confidence": "on_track"},
    )
    assert response.status_code == 302
    page = clients["viewer"].get(reverse("metrics:dashboard", args=[acme.org.slug])).content.decode()
    tile = page[page.index("Leads reached a month") :][:900]
    assert '<span class="tile__value">12 <span class="muted small">/ 100</span>' in tile
    assert "Off track" in tile


def test_a_check_in_outside_the_key_results_dates_is_refused(acme, measured, seller, leads):
    april = time_machine.travel(datetime(2027, 4, 10, 12, tzinfo=UTC), tick=False)
    with april, pytest.raises(ValidationError) as refused:
        services.check_in_key_result(actor=seller, key_result=measured, value="20", confidence="on_track")
    assert "Apr 2027 is outside those dates" in refused.value.message_dict["value"][0]
    assert not Measurement.objects.exists() and not CheckIn.objects.exists()


def test_who_may_check_in_on_a_measured_key_result(acme, measured, seller):
    # The KPI's owner (the member) may record the KPI, but the key result is the seller's.
    with pytest.raises(PermissionDenied):
        services.check_in_key_result(actor=acme.member, key_result=measured, value="3", confidence="on_track")
    with pytest.raises(PermissionDenied):
        services.check_in_key_result(actor=acme.viewer, key_result=measured, value="3", confidence="on_track")
    assert not Measurement.objects.exists()


def test_which_key_results_a_kpi_may_measure(acme, other, plan, tree, leads):
    _, objective, _ = tree
    revenue = services.kpi_create(
        actor=acme.manager,
        name="Revenue",
        unit="currency",
        currency="EUR",
        direction="increase",
        target=1000,
        frequency="monthly",
    )
    theirs = KPI.objects.create(organization=other.org, name="Theirs", target=1)
    for fields, message in [
        ({"kind": "yes_no", "kpi": leads}, "Only number, percent and currency key results"),
        ({"kind": "milestone", "kpi": leads}, "Only number, percent and currency key results"),
        ({"kind": "number", "target": 5, "kpi": revenue}, "“Revenue” is a currency KPI"),
        ({"kind": "number", "target": 5, "kpi": theirs}, "Choose a KPI of this organization."),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.key_result_create(actor=acme.manager, objective=objective, title="KR", **fields)
        assert refused.value.message_dict["kpi"][0].startswith(message)
    assert not KeyResult.objects.exists()


def test_the_api_links_a_key_result_to_a_kpi(acme, other, plan, tree, key_result, leads):
    from tests.planning.factories import api_client

    services.measurement_record(actor=acme.member, kpi=leads, period=date(2027, 3, 1), value="40")
    theirs = KPI.objects.create(organization=other.org, name="Theirs", target=1)
    manager = api_client(acme.manager)
    target = reverse("metrics_api:api_key_result_detail", args=["acme", key_result.pk])

    foreign = manager.patch(target, {"kpi": theirs.pk})
    assert foreign.status_code == 400 and "kpi" in foreign.json()["fields"]
    wrong_kind = manager.patch(target, {"kind": "yes_no", "kpi": leads.pk})
    assert wrong_kind.status_code == 400 and "kpi" in wrong_kind.json()["fields"]

    linked = manager.patch(target, {"target": 60, "kpi": leads.pk})
    assert linked.status_code == 200, linked.json()
    assert (linked.json()["kpi"], linked.json()["current"]) == (leads.pk, "40.0000")
    assert (
        "from KPI “Leads reached a month”, Mar 2027"
        in manager.get(reverse("metrics_api:api_plan_progress", args=["acme", plan.pk])).content.decode()
    )

    unlinked = manager.patch(target, {"kpi": None})
    assert unlinked.status_code == 200 and unlinked.json()["kpi"] is None
    key_result.refresh_from_db()
    assert key_result.kpi_id is None and key_result.current == 40  # keeps the last value it showed


def test_the_key_result_form_links_a_kpi(acme, clients, key_result, leads):
    url = reverse("metrics:key_result_detail", args=[acme.org.slug, key_result.pk])
    assert "Measured by a KPI" in clients["manager"].get(url).content.decode()
    response = clients["manager"].post(
        url,
        {
            "form": "edit",
            "title": "Leads",
            "kind": "number",
            "start": "0",
            "target": "60",
            "current": "0",
            "direction": "increase",
            "weight": "1",
            "kpi": str(leads.pk),
            "version": "1",
        },
    )
    assert response.status_code == 302
    key_result.refresh_from_db()
    assert key_result.kpi_id == leads.pk


def test_a_yes_no_key_result_takes_0_or_1(acme, plan, tree):
    _, objective, _ = tree
    launched = services.key_result_create(
        actor=acme.manager, objective=objective, title="Launched", kind="yes_no"
    )
    with pytest.raises(ValidationError) as refused:
        services.check_in_key_result(
            actor=acme.manager, key_result=launched, value="5", confidence="on_track"
        )
    assert refused.value.message_dict == {"value": ["A yes/no key result is 0 (not yet) or 1 (done)."]}
    services.check_in_key_result(actor=acme.manager, key_result=launched, value="1", confidence="on_track")


# --- The check-in page ------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would submit for the page's form when nothing is changed."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[a["name"]] = a.get("value", "on")
            elif a.get("type") != "submit":
                self.data[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.data):
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.data[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def page_form(client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    reader = _FormReader()
    reader.feed(response.content.decode())
    return reader.data


@pytest.fixture
def desk(acme, plan, tree, leads):
    """The member's week: two key results (one measured by the KPI they own), a second KPI, a one-off
    step (the fixture's), a second one, and a weekly step, in the running plan."""
    _, objective, step = tree
    calls = services.kpi_create(
        actor=acme.manager,
        name="Calls made",
        direction="increase",
        target=50,
        frequency="weekly",
        owner=acme.member,
    )
    clients_kr = services.key_result_create(
        actor=acme.manager, objective=objective, title="Clients signed", target=5, owner=acme.member
    )
    leads_kr = services.key_result_create(
        actor=acme.manager,
        objective=objective,
        title="Leads reached",
        target=60,
        owner=acme.member,
        kpi=leads,
    )
    second = planning_services.step_create(
        actor=acme.manager, objective=objective, title="Send the proposals", assignee=acme.member
    )
    weekly = planning_services.step_create(
        actor=acme.manager,
        objective=objective,
        title="Call ten leads",
        assignee=acme.member,
        recurrence="weekly",
    )
    activate(plan)
    return {
        "clients": clients_kr,
        "leads": leads_kr,
        "calls": calls,
        "step": step,
        "second": second,
        "weekly": weekly,
    }


def url_of(acme) -> str:
    return reverse("metrics:check_in", args=[acme.org.slug])


def test_the_page_lists_what_the_member_owns_once(acme, clients, desk, leads):
    page = clients["member"].get(url_of(acme)).content.decode()
    for title in (
        "Clients signed",
        "Leads reached",
        "Calls made",
        "Reach out to leads",
        "Send the proposals",
    ):
        assert title in page
    assert "Done for this week" in page
    # The KPI behind a listed key result is entered through the key result only.
    assert f'name="kpi-{leads.pk}-value"' not in page and f'name="kpi-{desk["calls"].pk}-value"' in page
    assert (
        "Measured by the KPI “Leads reached a month”: a new value is recorded as the KPI's value for Mar 2027."
        in page
    )


def test_saving_records_exactly_the_touched_items(acme, clients, desk, leads):
    client = clients["member"]
    services.check_in_key_result(
        actor=acme.member, key_result=desk["clients"], value="1", confidence="at_risk"
    )
    data = page_form(client, url_of(acme))
    assert data[f"kr-{desk['clients'].pk}-value"] == "1"
    assert data[f"kr-{desk['clients'].pk}-confidence"] == "at_risk"  # the last check-in's
    data[f"kr-{desk['leads'].pk}-value"] = "12"
    data[f"step-{desk['step'].pk}-status"] = "done"
    data[f"step-{desk['weekly'].pk}-done"] = "on"

    response = client.post(url_of(acme), data)

    assert response.status_code == 302
    assert CheckIn.objects.filter(key_result=desk["leads"]).count() == 1
    assert CheckIn.objects.filter(key_result=desk["clients"]).count() == 1  # the earlier one only
    assert list(Measurement.objects.values_list("kpi_id", "value")) == [(leads.pk, Decimal(12))]
    statuses = dict(ActionStep.objects.values_list("title", "status"))
    assert statuses["Reach out to leads"] == "done" and statuses["Send the proposals"] == "todo"
    assert StepCompletion.objects.filter(step=desk["weekly"], period_start=date(2027, 3, 15)).exists()
    followed = client.get(response["Location"]).content.decode()
    assert "Check-in saved: 1 key result, 2 steps." in followed

    # Saved again untouched (as shown after the save): nothing new.
    before = (CheckIn.objects.count(), Measurement.objects.count(), StepCompletion.objects.count())
    response = client.post(url_of(acme), page_form(client, url_of(acme)))
    assert response.status_code == 302
    assert (CheckIn.objects.count(), Measurement.objects.count(), StepCompletion.objects.count()) == before
    assert "Nothing changed" in client.get(response["Location"]).content.decode()


def test_a_kpi_value_and_a_confidence_alone_count(acme, clients, desk):
    client = clients["member"]
    data = page_form(client, url_of(acme))
    data[f"kpi-{desk['calls'].pk}-value"] = "42"
    data[f"kr-{desk['clients'].pk}-confidence"] = "off_track"  # the value stays 0: a check-in all the same
    assert client.post(url_of(acme), data).status_code == 302
    measurement = Measurement.objects.get(kpi=desk["calls"])
    assert (measurement.period_start, measurement.value) == (
        date(2027, 3, 15),
        Decimal(42),
    )  # the week's Monday
    check_in = CheckIn.objects.get(key_result=desk["clients"])
    assert (check_in.value, check_in.confidence) == (Decimal(0), "off_track")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("clients", "twelve", "Enter a number."),
        ("clients", "", "Enter the new value"),
        ("launched", "5", "A yes/no key result is 0 (not yet) or 1 (done)."),
    ],
)
def test_bad_values_show_field_errors_and_save_nothing(acme, clients, desk, tree, field, value, message):
    _, objective, _ = tree
    Plan.objects.filter(pk=objective.plan_id).update(status=PlanStatus.DRAFT)
    desk["launched"] = services.key_result_create(
        actor=acme.manager, objective=objective, title="Launched", kind="yes_no", owner=acme.member
    )
    activate(Plan.objects.get(pk=objective.plan_id))
    client = clients["member"]
    data = page_form(client, url_of(acme))
    data[f"kr-{desk['leads'].pk}-value"] = "12"  # fine on its own: saved first, then rolled back
    data[f"step-{desk['step'].pk}-status"] = "done"
    data[f"kr-{desk[field].pk}-value"] = value
    if not value:
        data[f"kr-{desk[field].pk}-note"] = "A note without a value"

    response = client.post(url_of(acme), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'id="id_kr-{desk[field].pk}-value_error"' in page
    assert f'name="kr-{desk["leads"].pk}-value" value="12"' in page  # the entered values are kept
    assert f'name="initial-kr-{desk["leads"].pk}-value" value="0"' in page  # and what was first shown
    assert not CheckIn.objects.exists() and not Measurement.objects.exists()
    assert ActionStep.objects.get(pk=desk["step"].pk).status == "todo"


def test_other_members_steps_and_other_organizations_ids_are_refused(acme, other, clients, desk, tree):
    _, objective, _ = tree
    theirs = ActionStep.objects.create(
        organization=acme.org,
        plan_id=objective.plan_id,
        objective=objective,
        title="The admin's",
        assignee=acme.admin,
    )
    foreign_plan = make_plan(
        other.org, other.member, milestones=1, objectives=1, steps=1, status=PlanStatus.ACTIVE
    )
    foreign_kr = KeyResult.objects.create(
        organization=other.org,
        plan=foreign_plan,
        objective=foreign_plan.objectives.get(),
        title="KR",
        target=5,
        owner=other.member,
    )
    client = clients["member"]
    for key, value in [
        (f"step-{theirs.pk}-status", "done"),
        (f"kr-{foreign_kr.pk}-value", "5"),
        (f"step-{foreign_plan.steps.get().pk}-status", "done"),
    ]:
        data = page_form(client, url_of(acme))
        data[f"step-{desk['step'].pk}-status"] = "done"
        data[key] = value
        response = client.post(url_of(acme), data)
        assert response.status_code == 400
        assert "not yours to update here" in response.content.decode()
    assert set(ActionStep.objects.values_list("status", flat=True)) == {"todo"}
    assert not CheckIn.objects.exists()
    assert KeyResult.objects.get(pk=foreign_kr.pk).current == 0


def test_who_may_use_the_page(acme, clients, desk):
    url = url_of(acme)
    assert clients["anonymous"].get(url).status_code == 302
    assert clients["outsider"].get(url).status_code == 404
    assert clients["viewer"].get(url).status_code == 403
    data = {f"step-{desk['step'].pk}-status": "done"}
    assert clients["viewer"].post(url, data).status_code == 403
    assert ActionStep.objects.get(pk=desk["step"].pk).status == "todo"
    assert (
        "Check in</a>"
        not in clients["viewer"].get(reverse("planning:my_work", args=[acme.org.slug])).content.decode()
    )


def test_the_empty_page_says_what_to_do(acme, clients):
    page = clients["admin"].get(url_of(acme)).content.decode()
    assert "Nothing to check in on." in page and "Ask your manager to name you as an owner" in page


def test_my_work_the_navigation_and_the_reminder_link_to_it(acme, clients, desk):
    url = url_of(acme)
    work = clients["member"].get(reverse("planning:my_work", args=[acme.org.slug])).content.decode()
    assert f'href="{url}"' in work and ">Check in</a>" in work  # the button and the navigation
    sent = reminders.send_checkin_due([acme.member], {acme.member.pk: "2027-03-15"})
    assert sent == 1
    email = OutboundEmail.objects.get(kind="checkin_due")
    assert (
        f"http://testserver{url}" in email.body_text and f'href="http://testserver{url}"' in email.body_html
    )


# --- Queries ----------------------------------------------------------------------------------------------


def _owned_items(acme, plan: Plan, *, steps: int, key_results: int, kpis: int) -> None:
    """Give the member ``steps`` of the plan's steps (every third recurring, one done this week),
    ``key_results`` key results (every other one measured by a KPI they own, each checked in once)
    and ``kpis`` more KPIs with a value."""
    member = acme.member
    chosen = list(ActionStep.objects.filter(plan=plan).order_by("pk")[:steps])
    for i, step in enumerate(chosen):
        step.assignee = member
        step.recurrence = "weekly" if i % 3 == 0 else "none"
    ActionStep.objects.bulk_update(chosen, ["assignee", "recurrence"])
    StepCompletion.objects.create(organization=acme.org, step=chosen[0], period_start=date(2027, 3, 15))
    backing = [
        KPI.objects.create(organization=acme.org, name=f"Backing {plan.pk}.{i}", target=10, owner=member)
        for i in range(kpis)
    ]
    objectives = list(Objective.objects.filter(plan=plan).order_by("pk"))
    krs = KeyResult.objects.bulk_create(
        KeyResult(
            organization=acme.org,
            plan=plan,
            objective=objectives[i % len(objectives)],
            title=f"KR {i}",
            target=10,
            owner=member,
            kpi=backing[i % len(backing)] if i % 2 else None,
        )
        for i in range(key_results)
    )
    CheckIn.objects.bulk_create(
        CheckIn(
            organization=acme.org,
            plan=plan,
            target="key_result",
            key_result=kr,
            value=1,
            confidence="on_track",
            author=member.user,
        )
        for kr in krs
    )
    for i in range(kpis):
        kpi = KPI.objects.create(organization=acme.org, name=f"Own {plan.pk}.{i}", target=10, owner=member)
        Measurement.objects.create(organization=acme.org, kpi=kpi, period_start=date(2027, 2, 1), value=3)


def test_the_page_does_not_grow_with_the_plan_or_the_items(acme, clients, django_assert_max_num_queries):
    client = clients["member"]
    url = url_of(acme)
    small = make_plan(acme.org, acme.manager, milestones=1, objectives=3, steps=2, status=PlanStatus.ACTIVE)
    _owned_items(acme, small, steps=3, key_results=2, kpis=1)
    client.get(url)  # the session settles
    with django_assert_max_num_queries(14) as captured:
        assert client.get(url).status_code == 200
    count = len(captured.captured_queries)

    big = make_plan(acme.org, acme.manager, milestones=10, objectives=9, steps=10, status=PlanStatus.ACTIVE)
    assert big.milestones.count() + big.objectives.count() + big.steps.count() == 1000
    _owned_items(acme, big, steps=60, key_results=20, kpis=4)
    with django_assert_max_num_queries(count):
        page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count('class="work-row"') > 80


def test_unticking_a_recurring_step_undoes_this_period_only(acme, clients, desk):
    weekly = desk["weekly"]
    planning_services.step_set_status(actor=acme.member, step=weekly, status="done")
    StepCompletion.objects.create(organization=acme.org, step=weekly, period_start=date(2027, 3, 8))
    client = clients["member"]
    data = page_form(client, url_of(acme))
    assert data[f"step-{weekly.pk}-done"] == "on"
    del data[f"step-{weekly.pk}-done"]
    assert client.post(url_of(acme), data).status_code == 302
    assert list(StepCompletion.objects.filter(step=weekly).values_list("period_start", flat=True)) == [
        date(2027, 3, 8)
    ]
