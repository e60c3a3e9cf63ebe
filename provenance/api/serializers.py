from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from provenance.models import ManifestMode, SigningJob, TrainingMining
from provenance.selectors import issued_manifest


class SignRequestSerializer(serializers.Serializer[None]):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        allow_empty=False,
        help_text="One or more files (repeat the `files` field for a batch).",
    )
    model_version = serializers.IntegerField(
        help_text="Registry id of the approved model version that generated the files."
    )
    deployment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Deployment slug or id, if known.",
    )
    training_mining = serializers.ChoiceField(
        choices=TrainingMining.choices, default=TrainingMining.NOT_ALLOWED
    )
    watermark = serializers.BooleanField(
        default=True, help_text="Embed the invisible watermark in images."
    )
    embed = serializers.BooleanField(
        default=True,
        help_text="Embed the manifest in the file; false gives a sidecar .c2pa instead.",
    )


class ModelVersionRefSerializer(serializers.Serializer[None]):
    id = serializers.IntegerField()
    model = serializers.CharField(source="model.name")
    version = serializers.CharField(source="label")
    provider = serializers.CharField(source="model.provider")
    status = serializers.CharField()


class SigningJobSerializer(serializers.ModelSerializer[SigningJob]):
    # Blank until the job has signed (then "embedded" or "sidecar").
    manifest_mode = serializers.ChoiceField(
        choices=ManifestMode.choices, allow_blank=True, read_only=True
    )
    model_version = ModelVersionRefSerializer(read_only=True)
    requester = serializers.CharField(source="requester.username", read_only=True)
    credential = serializers.CharField(source="credential.name", read_only=True, allow_null=True)
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    manifest_url = serializers.SerializerMethodField()

    class Meta:
        model = SigningJob
        fields = [
            "id",
            "batch",
            "status",
            "status_url",
            "requester",
            "model_version",
            "deployment_ref",
            "input_name",
            "input_size",
            "input_sha256",
            "mime_type",
            "width",
            "height",
            "options",
            "attempts",
            "error",
            "credential",
            "output_sha256",
            "output_size",
            "manifest_mode",
            "manifest_label",
            "watermark_id",
            "watermark_algorithm",
            "watermark_note",
            "download_url",
            "manifest_url",
            "created_at",
            "enqueued_at",
            "started_at",
            "finished_at",
            "timings",
        ]
        read_only_fields = fields

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_status_url(self, job: SigningJob) -> str:
        return self._absolute(reverse("provenance-api-job-detail", args=[job.pk]))

    def get_download_url(self, job: SigningJob) -> str | None:
        if not job.output_file:
            return None
        return self._absolute(reverse("provenance-api-job-download", args=[job.pk]))

    def get_manifest_url(self, job: SigningJob) -> str | None:
        if not job.manifest_file:
            return None
        url = reverse("provenance-api-job-download", args=[job.pk]) + "?part=manifest"
        return self._absolute(url)


class SigningJobDetailSerializer(SigningJobSerializer):
    manifest = serializers.SerializerMethodField()

    class Meta(SigningJobSerializer.Meta):
        fields = [*SigningJobSerializer.Meta.fields, "manifest"]
        read_only_fields = fields

    def get_manifest(self, job: SigningJob) -> dict[str, Any] | None:
        return issued_manifest(job)


class SignAcceptedSerializer(serializers.Serializer[None]):
    batch = serializers.UUIDField(allow_null=True)
    jobs = SigningJobSerializer(many=True)


class VerifyRequestSerializer(serializers.Serializer[None]):
    file = serializers.FileField(allow_empty_file=True)
    manifest = serializers.FileField(
        required=False, help_text="The sidecar .c2pa, for files signed without embedding."
    )


class VerifyManifestSerializer(serializers.Serializer[None]):
    state = serializers.ChoiceField(choices=["trusted", "valid-untrusted", "invalid"])
    validation_state = serializers.CharField(allow_null=True)
    failure_codes = serializers.ListField(child=serializers.CharField())
    label = serializers.CharField(allow_null=True)  # type: ignore[assignment]
    embedded = serializers.BooleanField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    issued_by_steward = serializers.BooleanField()
    digital_source_type = serializers.CharField(allow_null=True)
    software_agent = serializers.DictField(allow_null=True)
    training_mining = serializers.DictField(allow_null=True)
    watermark = serializers.DictField(allow_null=True)


class VerifyWatermarkSerializer(serializers.Serializer[None]):
    decoded_id = serializers.CharField(allow_null=True)
    job_id = serializers.IntegerField(allow_null=True)
    algorithm = serializers.CharField(required=False)
    note = serializers.CharField(required=False)
    sizes_tried = serializers.IntegerField(
        required=False, help_text="Sizes decoded when no job was found (see the note)."
    )


class VerifyJobSerializer(serializers.Serializer[None]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    manifest_label = serializers.CharField()
    model_version = serializers.DictField()
    created_at = serializers.DateTimeField()
    watermark_id = serializers.CharField(allow_null=True)


class VerifyResultSerializer(serializers.Serializer[None]):
    sha256 = serializers.CharField()
    mime_type = serializers.CharField(allow_null=True)
    found_by = serializers.ChoiceField(choices=["manifest", "watermark", "sha256"], allow_null=True)
    manifest = VerifyManifestSerializer(allow_null=True)
    watermark = VerifyWatermarkSerializer(allow_null=True)
    job = VerifyJobSerializer(allow_null=True)
    stored_manifest = serializers.JSONField(required=False)

    def to_representation(self, instance: Any) -> Any:
        return instance
