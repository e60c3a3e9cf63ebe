"""The web UI: list, sign form, detail, download and verify pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from provenance.models import JobStatus, SigningJob
from provenance.services import signing_job_run
from registry.models import VersionStatus
from tests.provenance.conftest import upload
from tests.provenance.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, owner):
    client.force_login(owner)
    return client


def test_the_list_page_has_the_sign_form_with_approved_versions_only(browser, version, credential):
    from django.utils import timezone

    from tests.provenance.factories import approved_version

    draft = ModelVersionFactory(status=VersionStatus.DRAFT)
    lapsed = approved_version(expires_at=timezone.now() - timezone.timedelta(days=1))
    response = browser.get(reverse("provenance:job-list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert f'value="{version.pk}"' in page
    assert f'value="{draft.pk}"' not in page
    # The service would refuse it: the form does not offer it.
    assert f'value="{lapsed.pk}"' not in page


def test_signing_from_the_form_queues_jobs_and_the_list_shows_them(browser, version, credential):
    response = browser.post(
        reverse("provenance:job-list"),
        {
            "uploads": [upload("png"), upload("wav")],
            "model_version": version.pk,
            "training_mining": "notAllowed",
            "watermark": "on",
            "embed": "on",
        },
    )
    assert response.status_code == 302
    assert SigningJob.objects.filter(status=JobStatus.QUEUED).count() == 2
    page = browser.get(reverse("provenance:job-list")).content.decode()
    assert "gen.png" in page and "gen.wav" in page
    assert 'hx-trigger="every 3s"' in page


def test_a_bad_file_in_the_form_shows_the_reason(browser, version, credential):
    response = browser.post(
        reverse("provenance:job-list"),
        {
            "uploads": [SimpleUploadedFile("x.txt", b"hello there " * 20, "text/plain")],
            "model_version": version.pk,
            "training_mining": "notAllowed",
        },
    )
    assert response.status_code == 415
    assert "cannot tell what this file is" in response.content.decode()


def test_the_detail_page_offers_downloads_once_signed(browser, version, credential, owner):
    browser.post(
        reverse("provenance:job-list"),
        {"uploads": [upload("jpeg")], "model_version": version.pk, "training_mining": "notAllowed"},
    )
    job = SigningJob.objects.get()
    signing_job_run(job_id=job.pk)
    page = browser.get(reverse("provenance:job-detail", args=[job.pk])).content.decode()
    assert "Download signed file" in page
    # The issued manifest reads as JSON, not as a Python dict's repr.
    assert "&quot;active_manifest&quot;: &quot;urn:c2pa:" in page
    assert "&#x27;active_manifest&#x27;" not in page
    assert "<dt>Training / mining</dt><dd>Not allowed</dd>" in page
    download = browser.get(reverse("provenance:job-download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")


def test_the_verify_page_shows_the_state_and_the_job(browser, version, credential):
    browser.post(
        reverse("provenance:job-list"),
        {
            "uploads": [upload("png")],
            "model_version": version.pk,
            "training_mining": "notAllowed",
            "embed": "on",
        },
    )
    job = signing_job_run(job_id=SigningJob.objects.get().pk)
    data = job.output_file.open("rb").read()
    response = browser.post(
        reverse("provenance:verify"), {"file": SimpleUploadedFile("s.png", data, "image/png")}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "trusted" in page
    assert f"Signing job #{job.pk}" in page
    job_url = reverse("provenance:job-detail", args=[job.pk])
    assert f'href="{job_url}"' in page


def test_the_verify_page_links_the_job_only_for_who_may_open_it(
    browser, version, credential, client, viewer
):
    browser.post(
        reverse("provenance:job-list"),
        {"uploads": [upload("png")], "model_version": version.pk, "training_mining": "allowed"},
    )
    job = signing_job_run(job_id=SigningJob.objects.get().pk)
    data = job.output_file.open("rb").read()
    client.force_login(viewer)
    response = client.post(
        reverse("provenance:verify"), {"file": SimpleUploadedFile("s.png", data, "image/png")}
    )
    page = response.content.decode()
    job_url = reverse("provenance:job-detail", args=[job.pk])
    assert f"Signing job #{job.pk}" in page
    assert f'href="{job_url}"' not in page
    assert client.get(job_url).status_code == 404  # the link would have led here


def test_the_page_links_of_a_filtered_job_list_keep_the_filter(browser, owner, version):
    SigningJob.objects.bulk_create(
        SigningJob(
            requester=owner,
            model_version=version,
            input_file=f"provenance/input/{n}.png",
            input_name=f"{n}.png",
            input_size=1,
            input_sha256="0" * 64,
            mime_type="image/png",
            status=JobStatus.FAILED if n % 2 else JobStatus.SUCCEEDED,
        )
        for n in range(120)
    )
    page = browser.get(reverse("provenance:job-list"), {"status": "failed"}).content.decode()
    assert "Page 1 of 2" in page
    assert 'href="?status=failed&amp;page=2"' in page
    page = browser.get(reverse("provenance:job-list"), {"status": "failed", "page": 2})
    assert 'href="?status=failed&amp;page=1"' in page.content.decode()


def test_an_invalid_filter_is_shown_and_lists_no_job(browser, owner, version):
    SigningJob.objects.create(
        requester=owner,
        model_version=version,
        input_file="provenance/input/a.png",
        input_name="listed-anyway.png",
        input_size=1,
        input_sha256="0" * 64,
        mime_type="image/png",
    )
    response = browser.get(reverse("provenance:job-list"), {"status": "done"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error" role="alert"' in page and "listed-anyway.png" not in page


def test_a_viewer_sees_no_sign_form(client, viewer, credential):
    client.force_login(viewer)
    page = client.get(reverse("provenance:job-list")).content.decode()
    assert "Sign files" not in page
    assert client.post(reverse("provenance:job-list"), {}).status_code == 403


def test_the_dashboard_has_a_provenance_panel(browser, credential):
    assert "Signed media" in browser.get(reverse("dashboard")).content.decode()
