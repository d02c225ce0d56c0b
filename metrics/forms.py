from __future__ import annotations

import re
from typing import cast

from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe

from bizops.forms import org_members
from bizops.models import Organization
from bizops.text import Form, ModelForm
from planning.forms import DATE, MemberChoiceField
from planning.models import Objective, StepStatus

from .models import KPI, Confidence, Direction, KeyResult, KeyResultKind
from .rules import plain_number
from .services import KEY_RESULT_FIELDS, KPI_FIELDS


class KPIForm(ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = KPI
        fields = [*KPI_FIELDS, "objectives"]
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
        objectives = cast(forms.ModelMultipleChoiceField, self.fields["objectives"])
        # Set on the instance, as Django allows; mypy refuses assigning to a method (mypy#2427).
        objectives.label_from_instance = lambda o: f"{o.plan.title} › {o.title}"  # type: ignore[method-assign, assignment]
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
        fields = [*KEY_RESULT_FIELDS]
        help_texts = {"weight": "How much it counts in the objective's progress (0–100)."}
        labels = {"kpi": "Measured by a KPI"}

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = MemberChoiceField(
            queryset=org_members(organization),
            required=False,
            empty_label="The objective's owner",
            label="Owner",
        )
        cast(forms.ChoiceField, self.fields["kind"]).choices = KeyResultKind.choices
        cast(forms.ChoiceField, self.fields["direction"]).choices = [
            (Direction.INCREASE, "Increase"),
            (Direction.DECREASE, "Decrease"),
        ]
        self.fields["current"].required = False
        self.fields["start"].required = False
        # Only KPIs a key result can follow: this organization's, in a unit a key result counts in.
        self.fields["kpi"] = forms.ModelChoiceField(
            queryset=KPI.objects.filter(organization=organization).order_by("name"),
            required=False,
            empty_label="No KPI: check-ins set its value",
            label="Measured by a KPI",
            help_text="For a number, percent or currency key result: its value follows the KPI's latest value "
            "in the objective's dates, and a check-in on it records the KPI's value.",
        )
        kpi = cast(forms.ModelChoiceField, self.fields["kpi"])
        # Set on the instance, as Django allows; mypy refuses assigning to a method (mypy#2427).
        kpi.label_from_instance = lambda k: f"{k.name} ({k.get_unit_display().lower()})"  # type: ignore[method-assign, assignment]
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


# --- One check-in: every item a person owns, in one form ---------------------------------------------

# The prefixes of the page's items in field names: "kr-12-value", "kpi-3-value", "step-40-status".
ITEM_KEY = re.compile(r"^(?:initial-)?((?:kr|kpi|step)-\d+)-")


def _number(label: str, initial) -> forms.DecimalField:
    # Text, not type=number: a typo is answered with the page's own field error, the same in every browser.
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=18,
        decimal_places=4,
        initial=plain_number(initial) if initial is not None else None,
        show_hidden_initial=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 10}),
    )


class CheckInPageForm(Form):
    """One field group per item of ``selectors.check_in_items``; what the person left as it was shown
    is not saved.

    Each field carries the value it was shown with (``show_hidden_initial``): an item counts as
    touched when a field differs from what the person saw, not from what the database holds by the
    time they save, so a check-in someone else made meanwhile is not overwritten by an untouched row.
    """

    def __init__(self, *args, items, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for kr in items.key_results:
            if kr.kpi_id is not None and kr.kpi_period is None:
                continue  # the KPI's dates are over: nothing to enter here
            key = f"kr-{kr.pk}"
            kr.key = key
            self.fields[f"{key}-value"] = _number("New value", kr.current)
            # Not "required": a row may be left alone; the service asks for a confidence when it is not.
            self.fields[f"{key}-confidence"] = forms.ChoiceField(
                label="Confidence",
                required=False,
                choices=Confidence.choices,
                initial=kr.previous.confidence if kr.previous else Confidence.ON_TRACK,
                show_hidden_initial=True,
            )
            self.fields[f"{key}-note"] = forms.CharField(label="Note", required=False, max_length=5000)
        for kpi in items.kpis:
            key = f"kpi-{kpi.pk}"
            kpi.key = key
            value = kpi.this_period.value if kpi.this_period else None
            self.fields[f"{key}-value"] = _number(f"Value for {kpi.period_label}", value)
        for step in items.steps:
            key = f"step-{step.pk}"
            step.key = key
            if step.is_recurring:
                self.fields[f"{key}-done"] = forms.BooleanField(
                    label=f"Done for this {OCCURRENCE[step.recurrence]}",
                    required=False,
                    initial=step.done_this_period,
                    show_hidden_initial=True,
                )
            else:
                self.fields[f"{key}-status"] = forms.ChoiceField(
                    label="Status",
                    required=False,
                    choices=StepStatus.choices,
                    initial=step.status,
                    show_hidden_initial=True,
                )
        # Each item carries its fields, so the page draws its rows without searching the form.
        by_key: dict[str, list[str]] = {}
        for name in self.fields:
            match = ITEM_KEY.match(name)
            assert match is not None  # every field above is named after its item
            by_key.setdefault(match.group(1), []).append(name)
        for item in [*items.key_results, *items.kpis, *items.steps]:
            item.form_fields = FieldGroup([self[name] for name in by_key.get(getattr(item, "key", ""), [])])

    def clean(self):
        cleaned = super().clean()
        # Ids the page did not offer (another member's step, another organization's key result, an
        # item finished or reassigned meanwhile) are refused as a whole: nothing is saved.
        offered = {m.group(1) for name in self.fields if (m := ITEM_KEY.match(name))}
        posted = {m.group(1) for name in self.data if (m := ITEM_KEY.match(name))}
        if posted - offered:
            raise forms.ValidationError(
                "This form holds items that are not yours to update here (reassigned, finished or "
                "someone else's). Nothing was saved: check the page and save again.",
                code="foreign_item",
            )
        for kr in self.items.key_results:
            key = getattr(kr, "key", None)
            if key is None or not self._touched(key):
                continue
            if cleaned.get(f"{key}-value") is None and f"{key}-value" not in self.errors:
                self.add_error(f"{key}-value", "Enter the new value (or leave the row as it was).")
        return cleaned

    def _touched(self, key: str) -> bool:
        """A key result row counts when its value or confidence differs from what was shown, or it
        has a note."""
        return any(f"{key}-{name}" in self.changed_data for name in ("value", "confidence", "note"))

    def entries(self) -> list:
        """The touched items as ``services.CheckInEntry``s (call after ``is_valid``)."""
        from .services import CheckInEntry

        data = self.cleaned_data
        result = []
        for kr in self.items.key_results:
            key = getattr(kr, "key", None)
            if key is not None and self._touched(key):
                result.append(
                    CheckInEntry(
                        key=key,
                        target=kr,
                        fields=("value", "confidence", "note"),
                        value=data[f"{key}-value"],
                        confidence=data[f"{key}-confidence"],
                        note=data[f"{key}-note"],
                    )
                )
        for kpi in self.items.kpis:
            name = f"{kpi.key}-value"
            # Emptying a value is not a measurement: a KPI period has a value or none, never "blank".
            if name in self.changed_data and data.get(name) is not None:
                result.append(CheckInEntry(key=kpi.key, target=kpi, fields=("value",), value=data[name]))
        for step in self.items.steps:
            if step.is_recurring:
                name = f"{step.key}-done"
                if name in self.changed_data:
                    status = StepStatus.DONE if data[name] else _undone_status(step)
                    result.append(CheckInEntry(key=step.key, target=step, fields=("done",), status=status))
            else:
                name = f"{step.key}-status"
                if name in self.changed_data:
                    result.append(
                        CheckInEntry(key=step.key, target=step, fields=("status",), status=data[name])
                    )
        return result


OCCURRENCE = {"daily": "day", "weekly": "week", "monthly": "month"}


def _undone_status(step) -> str:
    """Unticking a recurring step's period: it stays in progress (a recurring step is never done)."""
    return step.status if step.status != StepStatus.DONE else StepStatus.DOING


class FieldGroup:
    """An item's fields, drawn when the template prints them (after the view added any errors).

    The page repeats them for every item a person owns: drawn in Python they cost a tenth of
    ``components/field.html`` and Django's widget templates, with the same markup (label, input,
    the value it was shown with, help and errors, every value escaped), plus ``aria-invalid`` and
    ``aria-describedby`` naming the error on a field that has one.
    """

    def __init__(self, fields: list) -> None:
        self.fields = fields

    def __bool__(self) -> bool:
        return bool(self.fields)

    def __str__(self) -> str:
        return mark_safe("".join(_field_html(field) for field in self.fields))  # escaped in _field_html

    __html__ = __str__


def _field_html(bound) -> str:
    field, widget, auto_id = bound.field, bound.field.widget, bound.auto_id
    errors = list(bound.errors)
    attrs = {"name": bound.html_name, "id": auto_id, **widget.attrs}
    if errors:
        attrs.update({"aria-invalid": "true", "aria-describedby": f"{auto_id}_error"})
    value = bound.value()
    check = isinstance(widget, forms.CheckboxInput)
    if check:
        control = f'<input type="checkbox"{_attrs(attrs)}{" checked" if widget.check_test(value) else ""}>'
    elif isinstance(widget, forms.Select):
        chosen = "" if value is None else str(value)
        options = "".join(
            f'<option value="{escape(v)}"{" selected" if str(v) == chosen else ""}>{escape(label)}</option>'
            for v, label in field.choices
        )
        control = f"<select{_attrs(attrs)}>{options}</select>"
    else:
        shown = widget.format_value(value)
        value_attr = "" if shown is None else f' value="{escape(shown)}"'
        control = f'<input type="{escape(widget.input_type)}" name="{escape(bound.html_name)}"{value_attr}'
        control += f"{_attrs({k: v for k, v in attrs.items() if k != 'name'})}>"
    if field.show_hidden_initial:
        # Shown again after an error, the form keeps the value first shown, as Django's widget does.
        posted = bound.form.data.get(bound.html_initial_name) if bound.form.is_bound else None
        initial = posted if posted is not None else field.hidden_widget().format_value(bound.initial)
        control += (
            f'<input type="hidden" name="{escape(bound.html_initial_name)}" value="{escape(initial or "")}" '
            f'id="{escape(bound.html_initial_id)}">'
        )
    classes = "field" + (" field--error" if errors else "") + (" field--check" if check else "")
    required = ' <span class="req" aria-hidden="true">*</span>' if field.required else ""
    help_text = (
        f'<p class="field__help" id="{escape(auto_id)}_helptext">{escape(field.help_text)}</p>'
        if field.help_text
        else ""
    )
    error_html = "".join(
        f'<p class="field__error" id="{escape(auto_id)}_error">{escape(e)}</p>' for e in errors
    )
    return (
        f'<div class="{classes}"><label for="{escape(auto_id)}">{escape(field.label)}{required}</label>'
        f"{control}{help_text}{error_html}</div>"
    )


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {escape(k)}" if v is True else f' {escape(k)}="{escape(v)}"'
        for k, v in attrs.items()
        if v is not None and v is not False
    )
