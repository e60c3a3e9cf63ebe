"""Objects the permission matrix's routes point at, built per test case.

``Ctx`` is what a row's builders get: the caller (``actor``; None when anonymous) and
helpers that create the registry, policy, provenance and audit objects a path or a body
names. Objects the caller acts on as an owner belong to the caller (their team, their
deployment, their signing job); requests the caller decides are made by someone else
(``requester``), so separation of duties never hides the allowed path. Builders are cheap:
rows straight from factories where no service logic is under test, services where the
object's state needs them (policy versions are published through the service).
"""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import ApiToken, Team, User
from accounts.roles import ADMIN, APPROVER, MODEL_OWNER
from accounts.services import token_create
from registry.models import (
    AIModel,
    Approval,
    Decision,
    License,
    ModelVersion,
    VersionStatus,
)
from tests.factories import TeamFactory, UserFactory
from tests.registry.factories import AIModelFactory, LicenseFactory, ModelVersionFactory

_serial = itertools.count(1)

# The smallest card the importer accepts: a licence in the front matter, a title.
MODEL_CARD = "---\nlicense: apache-2.0\nlanguage: en\n---\n# Matrix model\n\nA test model.\n"
LM_EVAL_RESULTS = {"results": {"mmlu": {"acc,none": 0.61, "acc_stderr,none": 0.01}}}
REGION = ("eu-west-1", "aws", "Europe (Ireland)", "IE")
USE_CASE = "document-translation"
RULE = {
    "rule_id": "matrix-rule",
    "title": "Matrix rule",
    "expression": "true",
    "message": "Never fails.",
    "severity": "deny",
}


def serial() -> int:
    return next(_serial)


def png_bytes(size: int = 32) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (90, 140, 200)).save(buffer, "PNG")
    return buffer.getvalue()


class Ctx:
    """The caller and, cached per test case, the objects built for it."""

    def __init__(self, actor: User | None) -> None:
        self.actor = actor
        # Set by a row about someone else's objects: then the team, the deployment and the
        # signing job belong to ``requester``, not to the caller.
        self.stranger = False
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # --- people -------------------------------------------------------------------------------

    @property
    def owner(self) -> User:
        """Who owns what the path points at: the caller, or an admin for anonymous callers."""
        if self.actor is not None:
            return self.actor
        return self.user("matrix-owner", ADMIN)

    def user(self, username: str, role: str) -> User:
        return self._once(f"user:{username}", lambda: UserFactory(username=username, roles=[role]))

    @property
    def requester(self) -> User:
        """A model owner (not the caller) who asks for approvals and waivers."""
        return self.user("matrix-requester", MODEL_OWNER)

    @property
    def author(self) -> User:
        """An approver (not the caller) who writes policies and decides approvals."""
        return self.user("matrix-author", APPROVER)

    def token(self, *scopes: str) -> ApiToken:
        token, _ = token_create(
            actor=self.owner,
            owner=self.owner,
            name=f"matrix-{serial()}",
            scopes=list(scopes or ["registry:read"]),
        )
        return token

    def team(self) -> Team:
        """The caller's team: the owner team of the models built here."""

        def make() -> Team:
            team = TeamFactory(slug=f"matrix-team-{serial()}")
            team.members.add(self.requester)
            if not self.stranger:
                team.members.add(self.owner)
            return team

        return self._once("team", make)

    # --- registry -----------------------------------------------------------------------------

    def license(self) -> License:
        return self._once("license", LicenseFactory)

    def model(self) -> AIModel:
        return self._once(
            "model",
            lambda: AIModelFactory(
                slug=f"matrix-model-{serial()}", license=self.license(), owner_team=self.team()
            ),
        )

    def version(self, status: str = VersionStatus.DRAFT) -> ModelVersion:
        return ModelVersionFactory(model=self.model(), created_by=self.owner, status=status)  # type: ignore[no-any-return]

    def submitted(self) -> ModelVersion:
        """Waiting for a decision, requested by ``requester``."""
        version = self.version(VersionStatus.SUBMITTED)
        Approval.objects.create(version=version, requested_by=self.requester)
        return version

    def approved(self) -> ModelVersion:
        """Approved (in force for 90 days) by ``author`` at ``requester``'s request."""
        version = self.version(VersionStatus.APPROVED)
        approval = Approval.objects.create(
            version=version,
            requested_by=self.requester,
            decision=Decision.APPROVED,
            decided_by=self.author,
            decided_at=timezone.now(),
            expires_at=timezone.now() + timedelta(days=90),
        )
        version.current_approval = approval
        version.save(update_fields=["current_approval"])
        return version

    def usable_version(self) -> ModelVersion:
        """One approved version shared by the deployments built for this case."""
        return self._once("usable", self.approved)

    # --- policy -------------------------------------------------------------------------------

    def catalog(self) -> None:
        """The one region and use case the deployments here use (not the whole catalog)."""
        from policy.catalog import USE_CASES, eu_adequacy_of, jurisdiction_of
        from policy.models import Region, UseCase

        def make() -> None:
            code, provider, name, country = REGION
            Region.objects.get_or_create(
                code=code,
                defaults={
                    "provider": provider,
                    "name": name,
                    "country": country,
                    "jurisdiction": jurisdiction_of(country),
                    "eu_adequacy": eu_adequacy_of(country),
                },
            )
            slug, label, ai_class, reference, description = next(
                u for u in USE_CASES if u[0] == USE_CASE
            )
            UseCase.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": label,
                    "eu_ai_act_class": ai_class,
                    "legal_reference": reference,
                    "description": description,
                },
            )

        self._once("catalog", make)

    def policy(self) -> Any:
        """A policy whose version 1 (one rule that always holds) is published and active."""
        from policy import services

        def make() -> Any:
            policy = services.policy_create(
                actor=self.author, slug=f"matrix-policy-{serial()}", name="Matrix policy"
            )
            draft = services.version_create_draft(actor=self.author, policy=policy)
            services.rule_create(actor=self.author, version=draft, **RULE)
            services.version_publish(actor=self.author, version=draft, reevaluate=False)
            policy.refresh_from_db()
            return policy

        return self._once("policy", make)

    def policy_draft(self) -> Any:
        """Version 2 of ``policy()``: a draft with the same rule."""
        from policy import services

        return self._once(
            "policy-draft",
            lambda: services.version_create_draft(actor=self.author, policy=self.policy()),
        )

    def deployment_fields(self, slug: str | None = None) -> dict[str, Any]:
        self.catalog()
        return {
            "slug": slug or f"matrix-dep-{serial()}",
            "environment": "prod",
            "region": REGION[0],
            "hosting": "self_hosted",
            "use_case": USE_CASE,
            "data_classes": ["internal"],
        }

    def deployment(self) -> Any:
        """The caller's deployment (owned by them, in their team), evaluated once."""
        from policy.services import deployment_create

        return self._once(
            "deployment",
            lambda: deployment_create(
                actor=self.user("matrix-admin-builder", ADMIN),
                model_version=self.usable_version(),
                owner=self.requester if self.stranger else self.owner,
                team=self.team(),
                **self.deployment_fields(),
            ),
        )

    def decision(self) -> Any:
        return self.deployment().last_decision

    def waiver(self, *, approved: bool = False) -> Any:
        """A waiver of the policy's rule for the caller's deployment, asked by ``requester``."""
        from policy.models import Waiver, WaiverStatus

        policy = self.policy()
        waiver = Waiver.objects.create(
            policy=policy,
            rule_id=RULE["rule_id"],
            deployment=self.deployment(),
            justification="Matrix pilot.",
            expires_at=timezone.now() + timedelta(days=30),
            requested_by=self.requester,
        )
        if approved:
            waiver.status = WaiverStatus.APPROVED
            waiver.decided_by = self.author
            waiver.decided_at = timezone.now()
            waiver.save()
        return waiver

    # --- provenance ---------------------------------------------------------------------------

    def signer(self) -> User:
        """Who requested the signing job: the caller when their role signs, else a model
        owner — so readers without ``view_signingjob`` meet someone else's job."""
        if not self.stranger and self.owner.has_perm("provenance.add_signingjob"):
            return self.owner
        return self.user("matrix-signer", MODEL_OWNER)

    def credential(self) -> Any:
        """An active credential row. Nothing is signed in these requests (jobs stay queued),
        so no key is needed; credential_register's real test signature would cost ~0.1 s."""
        from provenance.models import SigningCredential

        def make() -> Any:
            n = serial()
            now = timezone.now()
            return SigningCredential.objects.create(
                name=f"matrix-{n}",
                algorithm="ES256",
                certificate_chain="-----BEGIN CERTIFICATE-----\n",
                key_reference="file:/nonexistent",
                subject="CN=matrix",
                issuer="CN=matrix",
                fingerprint_sha256=f"{n:064x}",
                not_before=now - timedelta(days=1),
                not_after=now + timedelta(days=30),
                is_active=True,
            )

        return self._once("credential", make)

    def signing_job(self) -> Any:
        """A finished job with a (tiny, fake) signed file and manifest to download."""
        from provenance.models import JobStatus, SigningJob

        data = png_bytes()
        job = SigningJob(
            requester=self.signer(),
            model_version=self.usable_version(),
            input_name="matrix.png",
            input_size=len(data),
            input_sha256="0" * 64,
            mime_type="image/png",
            status=JobStatus.SUCCEEDED,
            finished_at=timezone.now(),
        )
        job.input_file.save("matrix-in.png", ContentFile(data), save=False)
        job.output_file.save("matrix-out.png", ContentFile(data), save=False)
        job.manifest_file.save("matrix.c2pa", ContentFile(b"c2pa"), save=False)
        job.save()
        return job

    def sign_body(self) -> dict[str, Any]:
        self.credential()
        return {
            "files": [SimpleUploadedFile("matrix.png", png_bytes(), "image/png")],
            "model_version": self.usable_version().pk,
            "training_mining": "notAllowed",
            "watermark": "false",
        }

    # --- audit --------------------------------------------------------------------------------

    def audit_event(self) -> Any:
        from audit.services import record_event

        return record_event(
            actor=self.owner, action="matrix.touched", target=("matrix.thing", 1, "thing")
        )

    def audit_pdf_export(self) -> Any:
        """A finished PDF export whose bundle holds the report, signed by the current key."""
        import io
        import zipfile

        from audit.keys import signing_key

        export = self.audit_export()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("report.pdf", b"%PDF-1.4\n%%EOF\n")
        (Path(settings.STEWARD_AUDIT_EXPORT_DIR) / export.bundle_name).write_bytes(
            buffer.getvalue()
        )
        export.format = "pdf"
        export.manifest = {"key_id": signing_key().key_id}
        export.save(update_fields=["format", "manifest"])
        return export

    def audit_export(self) -> Any:
        """A finished export whose bundle file exists."""
        from audit.models import JobStatus, ReportExport

        name = f"matrix-export-{serial()}.zip"
        folder = Path(settings.STEWARD_AUDIT_EXPORT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
        return ReportExport.objects.create(
            format="jsonl",
            status=JobStatus.SUCCEEDED,
            requested_by=self.user("matrix-auditor", "auditor"),
            finished_at=timezone.now(),
            bundle_name=name,
        )
