from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.scopes import SCOPE_CHOICES


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Username",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. 'github-actions-deploy'.")
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple, required=True
    )
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires at (optional, UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
