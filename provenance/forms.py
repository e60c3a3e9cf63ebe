from __future__ import annotations

from typing import Any, cast

from django import forms

from provenance.models import TrainingMining
from provenance.selectors import signable_versions


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class SignForm(forms.Form):
    uploads = MultipleFileField(
        label="Files",
        help_text="Images, audio, video or PDF made by the model. Several at once are fine.",
    )
    model_version = forms.ModelChoiceField(
        queryset=signable_versions(), label="Model version that generated them"
    )
    deployment = forms.CharField(required=False, max_length=200, label="Deployment (optional)")
    training_mining = forms.ChoiceField(
        choices=TrainingMining.choices,
        initial=TrainingMining.NOT_ALLOWED,
        label="AI training and data mining",
    )
    watermark = forms.BooleanField(
        required=False, initial=True, label="Embed the invisible watermark (images)"
    )
    embed = forms.BooleanField(
        required=False,
        initial=True,
        label="Embed the manifest in the file (otherwise a sidecar .c2pa)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["uploads"].widget.attrs["multiple"] = True
        cast(forms.ModelChoiceField, self.fields["model_version"]).queryset = signable_versions()


class VerifyForm(forms.Form):
    file = forms.FileField(label="File to verify")
    manifest = forms.FileField(required=False, label="Sidecar manifest (.c2pa), if it has one")


class CredentialForm(forms.Form):
    """Register a signing credential: the certificate chain and where its key is, never the key."""

    name = forms.CharField(max_length=100)
    certificate_chain = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        max_length=64 * 1024,
        label="Certificate chain (PEM, leaf first)",
    )
    key_reference = forms.CharField(
        max_length=500,
        help_text="Where the private key is: file:/path/to/key.pem on the workers, or "
        "env:VARIABLE (the variable holds the PEM). The key itself is never uploaded.",
    )
    trust_anchor = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        max_length=64 * 1024,
        label="Trust anchor (PEM, optional)",
        help_text="The root the chain must lead to; verification then trusts it.",
    )
    activate = forms.BooleanField(
        required=False, initial=True, label="Make it the active credential (new jobs use it)"
    )
