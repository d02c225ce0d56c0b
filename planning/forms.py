"""Input for the planning pages. Forms check shapes; the services check the rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, cast

from django import forms
from django.utils import timezone

from bizops.forms import member_label, org_members
from bizops.models import Membership, Organization, Team
from bizops.text import Form, ModelForm

from .blueprints import BLUEPRINTS
from .mapfilters import MapFilters
from .models import ActionStep, Milestone, Objective, Plan, PlanStatus, Recurrence, StepStatus
from .selectors import PERIOD_FILTERS

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    from django.db.models import QuerySet

    class _LabelledChoices(Protocol):
        """A model choice field whose labels a form sets on the instance (``label_from_instance``)."""

        queryset: QuerySet[Any] | None
        label_from_instance: Callable[[Any], str]


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return member_label(obj)


def _members(organization: Organization, label: str, empty: str = "Nobody yet") -> MemberChoiceField:
    return MemberChoiceField(
        queryset=org_members(organization), required=False, empty_label=empty, label=label
    )


class PlanFilterForm(Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *PlanStatus.choices], required=False)
    period = forms.ChoiceField(choices=list(PERIOD_FILTERS.items()), required=False, initial="all")


def next_quarter(today: date) -> tuple[date, date]:
    """The first and last day of the calendar quarter after the one ``today`` is in."""
    quarter = (today.month - 1) // 3 + 1
    year, quarter = (today.year + 1, 1) if quarter == 4 else (today.year, quarter + 1)
    start = date(year, 3 * quarter - 2, 1)
    end = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)) - timedelta(days=1)
    return start, end


class PlanCreateForm(Form):
    """A new plan, dated the next quarter unless changed. The ultimate goal is required (and marked so)
    for a blank plan; the template and copies bring their own."""

    START_CHOICES = [
        ("blank", "A blank plan"),
        ("template", "The four-stage template (a copywriting agency closing five clients a month)"),
        ("clone", "A copy of an earlier plan, moved into the new period"),
    ]
    start_from = forms.ChoiceField(choices=START_CHOICES, widget=forms.RadioSelect, initial="blank")
    source = forms.ModelChoiceField(
        queryset=Plan.objects.none(), required=False, label="Plan to copy", empty_label="Choose a plan"
    )
    title = forms.CharField(max_length=200, help_text="E.g. “Growth plan 2027”.")
    period_start = forms.DateField(widget=DATE, label="Period starts")
    period_end = forms.DateField(widget=DATE, label="Period ends")
    ultimate_goal = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The vision this plan serves. The template and copies bring their own; you can change it later.",
        error_messages={"required": "Write the ultimate goal: the vision this plan serves."},
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["source"]).queryset = Plan.objects.filter(
            organization=organization
        ).order_by("-period_start")
        self.fields["owner"] = _members(organization, "Plan owner", empty="Me")
        self.fields["assignees"] = forms.ModelMultipleChoiceField(
            queryset=org_members(organization),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Who does the template's action steps",
            help_text="With the template: its steps are shared among them in turn (change any one in the "
            "editor). Nobody chosen: they start unassigned, and the review asks for an assignee.",
        )
        cast("_LabelledChoices", self.fields["assignees"]).label_from_instance = member_label
        start_from = self.data.get("start_from") if self.is_bound else self.initial.get("start_from")
        self.fields["ultimate_goal"].required = (start_from or "blank") == "blank"
        if not self.is_bound:
            start, end = next_quarter(timezone.localdate())
            self.initial.setdefault("period_start", start)
            self.initial.setdefault("period_end", end)

    def clean(self):
        data = super().clean()
        if data.get("start_from") == "clone" and not data.get("source"):
            self.add_error("source", "Choose the plan to copy.")
        return data


class PlanForm(ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Plan
        fields = ["title", "ultimate_goal", "description", "period_start", "period_end", "owner", "parent"]
        widgets = {
            "period_start": DATE,
            "period_end": DATE,
            "ultimate_goal": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _members(organization, "Plan owner")
        # Any other plan of the organization; the service refuses one that would close a loop.
        self.fields["parent"] = forms.ModelChoiceField(
            queryset=Plan.objects.filter(organization=organization)
            .exclude(pk=self.instance.pk)
            .order_by("title"),
            required=False,
            label="Serves plan",
            empty_label="None: this plan serves no other",
            help_text="The company plan (or a department's) this plan serves. Its objectives then say "
            "which milestone, objective or key result of that plan each one serves.",
        )
        if not self.is_bound and self.instance.pk:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:  # the service validates against the database, not the form
        pass


class CloneForm(Form):
    title = forms.CharField(max_length=200)
    period_start = forms.DateField(widget=DATE, label="Period starts")
    period_end = forms.DateField(widget=DATE, label="Period ends")
    only_unfinished = forms.BooleanField(required=False, label="Carry over unfinished objectives only")


# --- Nodes ------------------------------------------------------------------------------------------


class NodeForm(ModelForm):
    """Base for milestone, objective and step forms; ``version`` is what the editor loaded."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, plan: Plan, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        if not self.is_bound and self.instance.pk:
            self.initial["version"] = self.instance.version
        for name in ("target_date", "start_date", "due_date"):
            if name in self.fields:
                self.fields[name].widget = DATE
                self.fields[name].widget.attrs.update(
                    {"min": plan.period_start.isoformat(), "max": plan.period_end.isoformat()}
                )
        if "title" in self.fields:
            self.fields["title"].widget.attrs.update({"autofocus": True, "autocomplete": "off"})
        for name in ("description", "why", "notes"):
            if name in self.fields:
                self.fields[name].widget = forms.Textarea(attrs={"rows": 2})

    def _post_clean(self) -> None:  # model validation is the service's job
        pass

    def service_fields(self) -> dict:
        assert self._meta.fields is not None  # each node form's ``Meta`` lists its fields
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}


class MilestoneForm(NodeForm):
    class Meta:
        model = Milestone
        fields = ["title", "description", "target_date", "owner", "weight"]

    def __init__(self, *args, plan: Plan, **kwargs) -> None:
        super().__init__(*args, plan=plan, **kwargs)
        self.fields["owner"] = _members(plan.organization, "Owner")
        self.fields["weight"].help_text = "How much it counts in the plan's progress (0–100)."


class ObjectiveForm(NodeForm):
    class Meta:
        model = Objective
        fields = ["title", "why", "description", "start_date", "due_date", "team", "owner", "weight"]

    def __init__(self, *args, plan: Plan, **kwargs) -> None:
        super().__init__(*args, plan=plan, **kwargs)
        self.fields["owner"] = _members(plan.organization, "Owner")
        self.fields["team"] = forms.ModelChoiceField(
            queryset=Team.objects.filter(organization=plan.organization),
            required=False,
            empty_label="No team",
        )
        self.fields["title"].help_text = "Specific and measurable, e.g. “Close five new clients a month”."


class StepForm(NodeForm):
    class Meta:
        model = ActionStep
        fields = ["title", "notes", "assignee", "due_date", "recurrence", "status"]

    def __init__(self, *args, plan: Plan, assignee_only: bool = False, **kwargs) -> None:
        super().__init__(*args, plan=plan, **kwargs)
        self.fields["assignee"] = _members(plan.organization, "Assignee")
        self.fields["recurrence"] = forms.ChoiceField(
            choices=Recurrence.choices, initial=Recurrence.NONE, label="Repeats"
        )
        self.fields["status"] = forms.ChoiceField(choices=StepStatus.choices, initial=StepStatus.TODO)
        if assignee_only:
            for name in list(self.fields):
                if name not in ("status", "notes", "version"):
                    del self.fields[name]

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


NODE_FORMS = {"milestone": MilestoneForm, "objective": ObjectiveForm, "step": StepForm}


class QuickAddForm(Form):
    """The one-line “add” form under each level of the editor."""

    title = forms.CharField(max_length=200, label="Title")


class SuggestionForm(Form):
    kind = forms.ChoiceField(
        choices=[("milestone", "A milestone"), ("objective", "An objective"), ("step", "An action step")],
        label="I suggest",
    )
    milestone = forms.ModelChoiceField(
        queryset=Milestone.objects.none(), required=False, label="Under milestone"
    )
    objective = forms.ModelChoiceField(
        queryset=Objective.objects.none(), required=False, label="Under objective"
    )
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Why, and any detail"
    )

    def __init__(self, *args, plan: Plan, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["milestone"]).queryset = Milestone.objects.filter(
            plan=plan
        ).order_by("position")
        cast(forms.ModelChoiceField, self.fields["objective"]).queryset = Objective.objects.filter(
            plan=plan
        ).order_by("milestone__position", "position")


class DeclineForm(Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason")


class CommentForm(Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Comment",
        help_text="Mention someone with @ and the name before the @ of their email, e.g. @mia.",
    )


BLUEPRINT_CHOICES = [(key, bp.name) for key, bp in BLUEPRINTS.items()]


# --- Review -----------------------------------------------------------------------------------------


class SubmitForm(Form):
    approvers = forms.ModelMultipleChoiceField(
        queryset=Plan.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The managers and admins who review this plan.",
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Note to the approvers"
    )

    def __init__(self, *args, eligible: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from bizops.models import Membership

        approvers = cast("_LabelledChoices", self.fields["approvers"])
        approvers.queryset = Membership.objects.filter(pk__in=[m.pk for m in eligible]).select_related("user")
        approvers.label_from_instance = member_label
        if not self.is_bound:
            self.initial["approvers"] = [m.pk for m in eligible]


class DecisionForm(Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required when you request changes.",
    )
    # The content the approver saw (``baselines.digest``): an approval of an older view is refused.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)


class ReviewCommentForm(Form):
    """A comment on any node of the plan, left from its review page."""

    node = forms.ChoiceField(label="On")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Your comment on it",
        help_text="Mention someone with @ and the name before the @ of their email, e.g. @mia.",
    )

    def __init__(self, *args, nodes: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["node"]).choices = nodes


class ScoreForm(Form):
    score = forms.IntegerField(min_value=0, max_value=100, label="Score (0–100%)")
    reflection = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class MapFilterForm(Form):
    """The strategy map's filters (the outline and the visual map): each a query parameter, so a
    filtered view has its own address. A value that is not a choice is ignored, never an error."""

    q = forms.CharField(label="Text", required=False, max_length=200)
    owner = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="Anyone")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="Any team")
    status = forms.ChoiceField(
        label="Step status", choices=[("", "Any status"), *StepStatus.choices], required=False
    )
    at_risk = forms.BooleanField(label="At risk", required=False, help_text="Objectives at risk or off track")
    overdue = forms.BooleanField(label="Overdue", required=False, help_text="Steps past their due date")

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = org_members(organization)
        cast("_LabelledChoices", self.fields["owner"]).label_from_instance = member_label
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = Team.objects.filter(
            organization=organization
        ).order_by("name")

    def filters(self) -> MapFilters:
        """The valid values as filters; an invalid one (another organization's id, a word for a
        choice) is dropped from ``cleaned_data`` and filters nothing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return MapFilters(
            text=(data.get("q") or "").strip(),
            owner_id=data["owner"].pk if data.get("owner") else None,
            team_id=data["team"].pk if data.get("team") else None,
            status=data.get("status") or "",
            at_risk=bool(data.get("at_risk")),
            overdue=bool(data.get("overdue")),
        )
