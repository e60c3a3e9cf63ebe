from __future__ import annotations

from django import forms

from audit.models import ExportFormat


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=ExportFormat.choices,
        help_text="PDF for reading; CSV for spreadsheets; JSON Lines or OCSF for a SIEM.",
    )
