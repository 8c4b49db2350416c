"""Enrolment of face and voice templates, and the purge of kept enrolment photos."""

from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.services import audit_record
from biometrics import crypto, selectors
from biometrics.face import FaceRejected
from biometrics.models import FaceTemplate, VoiceTemplate
from biometrics.services.consent import consent_require
from biometrics.services.errors import BiometricRejected
from employees.models import Employee


def face_templates_enroll(*, actor: User, employee: Employee, images: list[bytes]) -> list[FaceTemplate]:
    """Enrol 1-N photos, all or nothing: one unusable photo rejects the whole request."""
    consent_require(employee)
    if not images:
        raise ValidationError({"images": "Send at least one photo."})
    matcher = selectors.face_matcher()
    samples = []
    for index, data in enumerate(images):
        try:
            samples.append(matcher.sample_extract(data))
        except FaceRejected as rejection:
            raise BiometricRejected("images", rejection.code, f"Photo {index + 1}: {rejection.detail}")
    retention_days = settings.BIOMETRIC_RAW_IMAGE_RETENTION_DAYS
    with transaction.atomic():
        templates = [
            FaceTemplate.objects.create(
                employee=employee,
                encoding_encrypted=crypto.encrypt(sample.encoding.astype(np.float64).tobytes()),
                face_size=sample.box.height,
                sharpness=sample.sharpness,
                image_encrypted=crypto.encrypt(data) if retention_days else None,
                image_purge_after=timezone.now() + timedelta(days=retention_days) if retention_days else None,
                created_by=actor,
            )
            for sample, data in zip(samples, images, strict=True)
        ]
        audit_record(
            actor=actor,
            action=AuditLogEntry.Action.CREATE,
            instance=employee,
            after={"face_templates_added": len(templates)},
            reason="Face enrolment",
        )
        site_id = employee.site_id
        transaction.on_commit(lambda: selectors.gallery_invalidate(site_id=site_id), robust=True)
    return templates


def raw_face_images_purge(*, now: datetime | None = None) -> int:
    """Drop kept enrolment photos whose retention has passed; the templates stay."""
    return FaceTemplate.objects.filter(image_purge_after__lte=now or timezone.now()).update(
        image_encrypted=None, image_purge_after=None
    )


def voice_template_enroll(*, actor: User, employee: Employee, clips: list[bytes]) -> VoiceTemplate:
    from biometrics.voice import AudioRejected

    consent_require(employee)
    if len(clips) < 2:
        raise ValidationError({"clips": "Voice enrolment needs at least two clips."})
    verifier = selectors.voice_verifier()
    embeddings = []
    for index, data in enumerate(clips):
        try:
            embeddings.append(verifier.embed(data))
        except AudioRejected as rejection:
            raise BiometricRejected("clips", rejection.code, f"Clip {index + 1}: {rejection.detail}")
    template = np.asarray(verifier.template_build(embeddings), dtype=np.float32)
    with transaction.atomic():
        VoiceTemplate.objects.filter(employee=employee).delete()
        stored = VoiceTemplate.objects.create(
            employee=employee,
            embedding_encrypted=crypto.encrypt(template.tobytes()),
            clip_count=len(clips),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditLogEntry.Action.CREATE,
            instance=employee,
            after={"voice_clips": len(clips)},
            reason="Voice enrolment",
        )
    return stored
