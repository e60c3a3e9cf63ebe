from __future__ import annotations

from typing import Any, cast

from django import forms

from registry import conditions
from registry.models import License, RiskGrade

LIST_HELP = "Comma-separated; empty means no restriction."


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class ChoiceListField(forms.MultipleChoiceField):
    """Ticked boxes; also takes the comma-separated text that scripts and older forms post
    ("dev, prod"), matched to the choices whatever its case."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        choices = cast(list[tuple[str, str]], self.choices)
        by_lower = {str(key).lower(): str(key) for key, _label in choices}
        values = value if isinstance(value, list | tuple) else [value] if value else []
        return [by_lower.get(part.lower(), part) for item in values for part in _split(str(item))]


def _condition_vocabulary() -> dict[str, list[tuple[str, str]]]:
    # The values conditions are matched against are the policy app's facts (deployment
    # environment, region jurisdiction, data classification): offer exactly those, so a typo
    # cannot become a condition that silently denies every deployment.
    return {key: conditions.choices(key) for key in ApproveForm.CHOICE_FIELDS}


def _refuse_unknown(value: str, key: str) -> None:
    # The service's own check (registry.conditions), here so the error sits beside the field.
    try:
        conditions.canonical(key, _split(value))
    except conditions.UnknownValues as exc:
        raise forms.ValidationError(exc.message) from exc


class ApproveForm(forms.Form):
    environments = ChoiceListField(
        required=False, label="Environments", help_text="None ticked: any environment."
    )
    jurisdictions = ChoiceListField(
        required=False,
        label="Jurisdictions (where it may run)",
        help_text="None ticked: anywhere. Ticking EU allows every region in the EU/EEA.",
    )
    data_classes = ChoiceListField(
        required=False,
        label="Data it may process",
        help_text="None ticked: any data. Leave a class unticked to forbid it (e.g. PHI).",
    )
    regions = forms.CharField(
        required=False,
        label="Regions",
        help_text=LIST_HELP + " Region codes such as eu-west-1, westeurope.",
    )
    use_cases = forms.CharField(required=False, help_text=LIST_HELP + " e.g. coding-assistant")
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires at (UTC, optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    CHOICE_FIELDS = ("environments", "jurisdictions", "data_classes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in _condition_vocabulary().items():
            self.fields[name].choices = choices  # type: ignore[attr-defined]

    def clean_regions(self) -> str:
        value = self.cleaned_data.get("regions", "")
        _refuse_unknown(value, "regions")
        return value

    def clean_use_cases(self) -> str:
        value = self.cleaned_data.get("use_cases", "")
        _refuse_unknown(value, "use_cases")
        return value

    def conditions(self) -> dict[str, list[str]]:
        data = self.cleaned_data
        conditions = {key: list(data.get(key) or []) for key in self.CHOICE_FIELDS}
        for key in ("regions", "use_cases"):
            conditions[key] = _split(data.get(key, ""))
        return conditions


class CommentForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class SubmitForm(forms.Form):
    justification = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="What it is for."
    )


class RiskOverrideForm(forms.Form):
    grade = forms.ChoiceField(
        choices=[("", "— clear the override —"), *RiskGrade.choices], required=False
    )
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class CardImportForm(forms.Form):
    content = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        label="Model card (README.md)",
        help_text="Paste the README with its YAML front matter, or upload the file below.",
    )
    file = forms.FileField(required=False, label="…or upload README.md")
    hf_repo_id = forms.CharField(
        required=False,
        label="Hugging Face repository",
        help_text="e.g. meta-llama/Llama-3.1-8B-Instruct (names the model and its provider)",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("content") and not data.get("file"):
            raise forms.ValidationError("Paste the model card or upload it.")
        return data


class CardConfirmForm(forms.Form):
    content = forms.CharField(widget=forms.HiddenInput)
    hf_repo_id = forms.CharField(required=False, widget=forms.HiddenInput)
    slug = forms.SlugField()
    name = forms.CharField()
    provider = forms.CharField()
    provider_jurisdiction = forms.CharField(
        max_length=2, help_text="ISO 3166-1 country code (e.g. US, FR, GB), or EU"
    )
    license = forms.ChoiceField(choices=())
    owner_team = forms.ChoiceField(choices=(), required=False)
    version_label = forms.CharField(initial="1.0")

    def __init__(
        self, *args: Any, teams: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["license"].choices = [("", "— choose —")] + [  # type: ignore[attr-defined]
            (lic.spdx_id, f"{lic.spdx_id} — {lic.name}") for lic in License.objects.all()
        ]
        self.fields["owner_team"].choices = [("", "— my team —"), *(teams or [])]  # type: ignore[attr-defined]
