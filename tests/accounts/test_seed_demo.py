from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"accounts", "registry", "policy", "provenance", "audit", "auth"}
        and model._meta.label not in {"audit.AuditEvent", "audit.ChainHead"}
    }


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_rows():
    call_command("seed_demo")
    first = _row_counts()
    from audit.models import AuditEvent

    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert _row_counts() == first
    assert first["accounts.User"] >= 6
    # A second run changes nothing, so it records nothing either.
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_seed_demo_gives_every_role_a_user():
    from accounts.models import User
    from accounts.roles import ROLES

    call_command("seed_demo")
    for role in ROLES:
        assert User.objects.filter(groups__name=role).exists(), role


@pytest.mark.django_db
def test_every_role_permission_of_every_app_is_granted_after_migrate():
    from django.contrib.auth.models import Group

    from accounts.roles import collected_role_permissions

    for role, codes in collected_role_permissions().items():
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert codes <= granted, (role, sorted(codes - granted))
