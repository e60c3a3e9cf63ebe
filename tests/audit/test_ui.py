"""The auditor's pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import ReportExport
from audit.services import export_run, record_event

pytestmark = pytest.mark.django_db


def test_auditors_see_the_explorer_with_filters_and_status(client, auditor, some_events):
    some_events(3, action="thing.created")
    some_events(1, action="thing.approved")
    client.force_login(auditor)
    response = client.get(reverse("audit:event-list"), {"action": "thing.approved"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "thing.approved" in page and "thing.created" not in page
    assert "Not verified yet" in page
    assert 'name="occurred_after"' in page


def test_others_are_refused(client, viewer, approver):
    for user in (viewer, approver):
        client.force_login(user)
        assert client.get(reverse("audit:event-list")).status_code == 403
        assert client.get(reverse("audit:export-list")).status_code == 403


def test_the_navigation_offers_the_audit_trail_only_to_who_may_read_it(
    client, auditor, admin_user, viewer, approver, owner
):
    audit_link = f'href="{reverse("audit:event-list")}"'
    for user, offered in (
        (auditor, True),
        (admin_user, True),
        (viewer, False),
        (approver, False),
        (owner, False),
    ):
        client.force_login(user)
        page = client.get(reverse("dashboard")).content.decode()
        assert (audit_link in page) is offered, user.username
        assert 'href="/models/"' in page


def test_admins_see_the_explorer(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("audit:event-list")).status_code == 200


def test_the_event_detail_shows_the_before_after_diff(client, auditor, viewer):
    event = record_event(
        actor=viewer,
        action="policy.changed",
        changes={"mode": {"before": "audit", "after": "enforce"}, "note": "go live"},
    )
    client.force_login(auditor)
    page = client.get(reverse("audit:event-detail", args=[event.seq])).content.decode()
    assert 'class="diff-del"><code>audit</code>' in page
    assert 'class="diff-add"><code>enforce</code>' in page
    assert event.hash in page
    assert client.get(reverse("audit:event-detail", args=[999])).status_code == 404


def test_an_export_is_requested_polled_and_downloaded(
    client, auditor, some_events, django_capture_on_commit_callbacks
):
    some_events(2)
    client.force_login(auditor)
    response = client.post(reverse("audit:export-list"), {"format": "csv", "action": "test."})
    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert export.filters == {"action": "test."}
    row = client.get(reverse("audit:export-row", args=[export.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in row, "a running export polls for progress"
    with django_capture_on_commit_callbacks(execute=True):
        export_run(export_id=export.pk)
    row = client.get(reverse("audit:export-row", args=[export.pk])).content.decode()
    assert "hx-trigger" not in row and "Download" in row
    download = client.get(reverse("audit:export-download", args=[export.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"


def test_a_bad_export_form_is_a_400(client, auditor):
    client.force_login(auditor)
    assert client.post(reverse("audit:export-list"), {"format": "docx"}).status_code == 400


def test_verify_now_queues_a_verification(client, auditor):
    from audit.models import ChainVerification

    client.force_login(auditor)
    assert client.post(reverse("audit:verify")).status_code == 302
    assert ChainVerification.objects.count() == 1


def test_the_dashboard_shows_the_chain_to_auditors_only(client, auditor, viewer, some_events):
    some_events(2)
    client.force_login(auditor)
    assert "Open the audit trail" in client.get("/").content.decode()
    client.force_login(viewer)
    assert "Open the audit trail" not in client.get("/").content.decode()


def test_the_trail_links_its_filters_to_a_prefilled_export_form(client, auditor, some_events):
    some_events(2)
    client.force_login(auditor)
    query = {"occurred_after": "2025-05-01", "occurred_before": "2025-06-01"}
    trail = client.get(reverse("audit:event-list"), query).content.decode()
    link = (
        f"{reverse('audit:export-list')}?occurred_after=2025-05-01&amp;occurred_before=2025-06-01"
    )
    assert f'href="{link}"' in trail
    form = client.get(reverse("audit:export-list"), query).content.decode()
    assert 'name="occurred_after" value="2025-05-01"' in form
    assert 'name="occurred_before" value="2025-06-01"' in form


def test_a_pdf_export_offers_its_report_and_the_key_that_signed_it(
    client, auditor, viewer, some_events, django_capture_on_commit_callbacks
):
    from audit.keys import load_public_key, signing_key

    some_events(2)
    client.force_login(auditor)
    client.post(reverse("audit:export-list"), {"format": "pdf"})
    export = ReportExport.objects.get()
    assert client.get(reverse("audit:export-report", args=[export.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        export_run(export_id=export.pk)
    row = client.get(reverse("audit:export-row", args=[export.pk])).content.decode()
    assert "Download PDF report" in row and "Download public key" in row

    report = client.get(reverse("audit:export-report", args=[export.pk]))
    assert report.status_code == 200 and report["Content-Type"] == "application/pdf"
    assert report.content.startswith(b"%PDF")
    key = client.get(reverse("audit:export-key", args=[export.pk]))
    assert key.status_code == 200 and 'filename="audit-public.pem"' in key["Content-Disposition"]
    public = load_public_key(key.content)
    assert public.public_bytes_raw() == signing_key().public_key.public_bytes_raw()

    client.force_login(viewer)
    assert client.get(reverse("audit:export-report", args=[export.pk])).status_code == 403
    assert client.get(reverse("audit:export-key", args=[export.pk])).status_code == 403


def test_a_csv_export_has_no_pdf_report(
    client, auditor, some_events, django_capture_on_commit_callbacks
):
    some_events(1)
    client.force_login(auditor)
    client.post(reverse("audit:export-list"), {"format": "csv"})
    export = ReportExport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        export_run(export_id=export.pk)
    assert client.get(reverse("audit:export-report", args=[export.pk])).status_code == 404
    row = client.get(reverse("audit:export-row", args=[export.pk])).content.decode()
    assert "Download PDF report" not in row and "Download signed bundle" in row
