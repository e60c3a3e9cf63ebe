from __future__ import annotations

from typing import Any

from django import forms

from registry.models import License, RiskGrade

LIST_HELP = "Comma-separated; empty means no restriction."


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class ApproveForm(forms.Form):
    environments = forms.CharField(required=False, help_text=LIST_HELP + " e.g. dev, staging, prod")
    regions = forms.CharField(required=False, help_text=LIST_HELP)
    jurisdictions = forms.CharField(required=False, help_text=LIST_HELP + " e.g. EU, US")
    data_classes = forms.CharField(
        required=False, help_text=LIST_HELP + " e.g. public, internal, confidential, pii"
    )
    use_cases = forms.CharField(required=False, help_text=LIST_HELP + " e.g. coding-assistant")
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires at (UTC, optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def conditions(self) -> dict[str, list[str]]:
        keys = ("environments", "regions", "jurisdictions", "data_classes", "use_cases")
        return {key: _split(self.cleaned_data.get(key, "")) for key in keys}


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
    provider_jurisdiction = forms.CharField(max_length=2, help_text="Two letters, e.g. US, FR")
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
