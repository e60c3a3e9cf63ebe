"""The region list shows what policy rules read of a region, in_eea included."""

from __future__ import annotations

from policy.facts import region_doc
from policy.models import Region


def test_the_region_list_carries_in_eea_as_the_policy_input_does(api_client, admin_user, catalog):
    api_client.force_login(admin_user)
    listed = api_client.get("/api/v1/policy/regions/", {"page_size": 500}).json()["results"]
    assert len(listed) == Region.objects.count()
    by_code = {item["code"]: item for item in listed}
    for region in Region.objects.all():
        assert by_code[region.code] == region_doc(region)
    assert any(item["in_eea"] for item in listed)
    assert not all(item["in_eea"] for item in listed)


def test_in_eea_follows_the_jurisdiction(db):
    eu = Region.objects.create(
        code="x-eu", provider="aws", name="x", country="DE", jurisdiction="EU"
    )
    uk = Region.objects.create(
        code="x-uk", provider="aws", name="y", country="GB", jurisdiction="UK"
    )
    assert eu.in_eea and not uk.in_eea
