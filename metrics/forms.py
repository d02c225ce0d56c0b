from __future__ import annotations

from django import forms

from bizops.forms import org_members
from bizops.models import Organization
from bizops.text import Form, ModelForm
from planning.forms import DATE, MemberChoiceField
from planning.models import Objective, StepStatus

from .models import KPI, Confidence, Direction, KeyResult, KeyResultKind


class KPIForm(ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = KPI
        fields = [
            "name",
            "description",
            "unit",
            "currency",
            "direction",
            "target",
            "target_upper",
            "amber_threshold",
            "red_threshold",
            "frequency",
            "owner",
            "objectives",
        ]
        labels = {
            "target_upper": "Upper bound (for a range)",
            "amber_threshold": "Amber line",
            "red_threshold": "Red line",
        }
        help_texts = {
            "amber_threshold": "Higher is better: amber below this line (the target if empty). Lower is better: amber above it.",
            "red_threshold": "Red past this line. For a range: the distance outside the range that turns it red.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = MemberChoiceField(
            queryset=org_members(organization), required=False, empty_label="Nobody yet", label="Owner"
        )
        self.fields["objectives"] = forms.ModelMultipleChoiceField(
            queryset=Objective.objects.filter(organization=organization)
            .select_related("plan")
            .order_by("plan__title", "position"),
            required=False,
            help_text="The objectives this KPI tells about.",
            widget=forms.SelectMultiple(attrs={"size": 6}),
        )
        self.fields["objectives"].label_from_instance = lambda o: f"{o.plan.title} › {o.title}"
        if not self.is_bound and self.instance.pk:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:  # the service validates
        pass


class MeasurementForm(Form):
    period = forms.DateField(widget=DATE, help_text="Any day in the period: it is rounded to its start.")
    value = forms.DecimalField(max_digits=18, decimal_places=4)
    note = forms.CharField(required=False, max_length=2000)


class ImportForm(Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: kpi, period (YYYY-MM-DD), value, note. Up to 1 MB. If any row is wrong, nothing is saved.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class KeyResultForm(ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = KeyResult
        fields = ["title", "kind", "start", "target", "current", "direction", "weight", "owner"]
        help_texts = {"weight": "How much it counts in the objective's progress (0–100)."}

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = MemberChoiceField(
            queryset=org_members(organization),
            required=False,
            empty_label="The objective's owner",
            label="Owner",
        )
        self.fields["kind"].choices = KeyResultKind.choices
        self.fields["direction"].choices = [
            (Direction.INCREASE, "Increase"),
            (Direction.DECREASE, "Decrease"),
        ]
        self.fields["current"].required = False
        self.fields["start"].required = False
        if not self.is_bound and self.instance.pk:
            self.initial["version"] = self.instance.version

    def _post_clean(self) -> None:
        pass


class CheckInForm(Form):
    confidence = forms.ChoiceField(
        choices=Confidence.choices, widget=forms.RadioSelect, initial=Confidence.ON_TRACK
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


class KeyResultCheckInForm(CheckInForm):
    value = forms.DecimalField(max_digits=18, decimal_places=4, label="New value")

    field_order = ["value", "confidence", "note"]


class StepCheckInForm(CheckInForm):
    status = forms.ChoiceField(choices=StepStatus.choices)

    field_order = ["status", "confidence", "note"]


class PeriodTargetForm(Form):
    period = forms.DateField(widget=DATE, help_text="Any day in the period.")
    target = forms.DecimalField(
        max_digits=18, decimal_places=4, required=False, help_text="Empty removes it."
    )
