from __future__ import annotations

import json
from typing import Any

from django import forms

from policy.models import (
    DataClass,
    Environment,
    Hosting,
    Jurisdiction,
    Mode,
    Policy,
    Region,
    Severity,
    UseCase,
)
from policy.services.deployments import MAX_EXPECTED_MAU
from registry.models import ModelVersion


def apply_domain_error(form: forms.Form, exc: Any) -> None:
    """Show a service's DomainError on the form: field errors where the field exists."""
    placed = False
    for field, errors in (exc.fields or {}).items():
        for error in errors if isinstance(errors, list) else [errors]:
            if field in form.fields:
                form.add_error(field, str(error))
                placed = True
    if not placed:
        form.add_error(None, exc.message)


class RuleForm(forms.Form):
    rule_id = forms.SlugField(max_length=64, help_text="Stable id; waivers refer to it.")
    title = forms.CharField(max_length=200, required=False)
    expression = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        strip=False,
        help_text="CEL that must be true for a deployment to comply. Variables: model, version, "
        "license, risk, approval, deployment, region, use_case, data, params, now.",
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown when the rule fails. {cel} placeholders, e.g. {region.code}.",
    )
    severity = forms.ChoiceField(choices=Severity.choices)


class ParamsForm(forms.Form):
    params = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text="A JSON object; rules read it as params.*",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_params(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["params"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        except RecursionError:
            raise forms.ValidationError("Not valid JSON: nested too deeply.") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Must be a JSON object.")
        return value


class PolicyModeForm(forms.Form):
    mode = forms.ChoiceField(choices=Mode.choices)


class DeploymentForm(forms.Form):
    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200, required=False)
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.select_related("model").order_by("model__slug", "label")
    )
    environment = forms.ChoiceField(choices=Environment.choices)
    region = forms.ModelChoiceField(queryset=Region.objects.all(), to_field_name="code")
    hosting = forms.ChoiceField(choices=Hosting.choices)
    use_case = forms.ModelChoiceField(queryset=UseCase.objects.all(), to_field_name="slug")
    data_classes = forms.MultipleChoiceField(
        choices=DataClass.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    data_subject_region = forms.ChoiceField(choices=Jurisdiction.choices, initial=Jurisdiction.EU)
    expected_mau = forms.IntegerField(
        min_value=0, max_value=MAX_EXPECTED_MAU, required=False, label="Expected monthly users"
    )
    commercial = forms.BooleanField(required=False, initial=True)
    team = forms.ChoiceField(
        required=False,
        help_text="The team the deployment belongs to. Required when you are in several teams.",
    )

    def __init__(self, *args: Any, teams: Any = None, **kwargs: Any) -> None:
        """``teams``: those the user may choose from when registering; None when editing
        (a deployment's team is set when it is registered)."""
        super().__init__(*args, **kwargs)
        choices = [(team.slug, team.name) for team in teams] if teams is not None else []
        if not choices:
            del self.fields["team"]
            return
        field = self.fields["team"]
        field.choices = [("", "—"), *choices]  # type: ignore[attr-defined]
        if len(choices) == 1:
            field.initial = choices[0][0]


class WaiverForm(forms.Form):
    policy = forms.ModelChoiceField(queryset=Policy.objects.all(), to_field_name="slug")
    rule_id = forms.SlugField(max_length=64, label="Rule id")
    deployment = forms.SlugField(max_length=100, help_text="Slug of the deployment to excuse")
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    expires_at = forms.DateTimeField(
        label="Expires at (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class DecisionCommentForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000)
