"""Writes of the biometrics app: consent, enrolment, erasure, and biometric check-ins.

A check-in by face, voice or QR ends in ``attendance.services.attendance_event_record``
like every other check-in; this module only decides who the person is.
"""

import base64
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.services import audit_record, model_snapshot
from attendance.models import AttendanceEvent, Device
from attendance.selectors import attendance_event_by_client_id
from attendance.services import RecordOutcome, RecordResult, attendance_event_record
from attendance_site.outages import is_outage
from biometrics import crypto, selectors
from biometrics.face import FaceRejected, face_sample_extract
from biometrics.gallery import confidence_from_distance, gallery_identify, gallery_verify
from biometrics.models import (
    BiometricConsent,
    FaceTemplate,
    QrCredential,
    QrTokenUse,
    SiteBiometricPolicy,
    VoiceTemplate,
)
from employees.models import Employee
from environment.selectors import device_method_refusal, device_requires_liveness


class RecognitionUnavailable(Exception):
    """No recognition worker answered in time (or the broker is down): retry later."""


class BiometricRejected(ValidationError):
    """A sample that does not identify anyone; raised as a 400 naming the field and why."""

    def __init__(self, field: str, code: str, detail: str):
        super().__init__({field: [ValidationError(detail, code=code)]})
        self.field = field
        self.reason_code = code
        self.detail = detail


# --- Consent ---------------------------------------------------------------------


@transaction.atomic
def consent_grant(*, actor, employee: Employee, notice_version: str) -> BiometricConsent:
    if selectors.consent_active(employee_id=employee.pk) is not None:
        raise ValidationError({"employee": "This employee already has an active consent; withdraw it first."})
    consent = BiometricConsent.objects.create(
        employee=employee, notice_version=notice_version, granted_at=timezone.now(), recorded_by=actor
    )
    audit_record(actor=actor, action=AuditLogEntry.Action.CREATE, instance=consent, after=model_snapshot(consent))
    return consent


@transaction.atomic
def consent_withdraw(*, actor, consent: BiometricConsent) -> BiometricConsent:
    """Withdrawal erases every template of the employee in the same transaction."""
    if consent.withdrawn_at is not None:
        raise ValidationError("This consent was already withdrawn.")
    before = model_snapshot(consent)
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    audit_record(
        actor=actor,
        action=AuditLogEntry.Action.UPDATE,
        instance=consent,
        before=before,
        after=model_snapshot(consent),
        reason="Consent withdrawn",
    )
    biometrics_erase(actor=actor, employee=consent.employee, reason="Consent withdrawn")
    return consent


@dataclass(frozen=True)
class ErasureResult:
    face_templates: int
    voice_templates: int


@transaction.atomic
def biometrics_erase(*, actor, employee: Employee, reason: str) -> ErasureResult:
    """Delete every face and voice template (and kept photo) of an employee, audited."""
    faces, _ = FaceTemplate.objects.filter(employee=employee).delete()
    voices, _ = VoiceTemplate.objects.filter(employee=employee).delete()
    audit_record(
        actor=actor,
        action=AuditLogEntry.Action.DELETE,
        instance=employee,
        before={"face_templates": faces, "voice_templates": voices},
        after={"face_templates": 0, "voice_templates": 0},
        reason=f"Biometric data erased: {reason}",
    )
    site_id = employee.site_id
    transaction.on_commit(lambda: selectors.gallery_invalidate(site_id=site_id), robust=True)
    return ErasureResult(face_templates=faces, voice_templates=voices)


def _require_consent(employee: Employee) -> None:
    if selectors.consent_active(employee_id=employee.pk) is None:
        raise ValidationError({"employee": "This employee has not consented to biometric processing."})


# --- Enrolment ---------------------------------------------------------------------


def face_templates_enroll(*, actor, employee: Employee, images: list[bytes]) -> list[FaceTemplate]:
    """Enrol 1-N photos, all or nothing: one unusable photo rejects the whole request."""
    _require_consent(employee)
    if not images:
        raise ValidationError({"images": "Send at least one photo."})
    samples = []
    for index, data in enumerate(images):
        try:
            samples.append(face_sample_extract(data))
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


def voice_template_enroll(*, actor, employee: Employee, clips: list[bytes]) -> VoiceTemplate:
    from biometrics import voice

    _require_consent(employee)
    if len(clips) < 2:
        raise ValidationError({"clips": "Voice enrolment needs at least two clips."})
    embeddings = []
    for index, data in enumerate(clips):
        try:
            embeddings.append(voice.voice_embedding(voice.audio_decode(data)))
        except voice.AudioRejected as rejection:
            raise BiometricRejected("clips", rejection.code, f"Clip {index + 1}: {rejection.detail}")
    template = voice.voice_template_build(embeddings).astype(np.float32)
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


def site_policy_update(*, actor, site, fields: dict) -> SiteBiometricPolicy:
    from accounts.services import audited_create, audited_update

    policy = SiteBiometricPolicy.objects.filter(site=site).first()
    if policy is None:
        return audited_create(actor=actor, model=SiteBiometricPolicy, fields={"site": site, **fields})
    return audited_update(actor=actor, instance=policy, fields=fields)


# --- Identification (runs in the biometrics worker) ----------------------------------


def face_identify(
    *,
    site_id: int,
    image: bytes,
    claimed_employee_id: int | None = None,
    frames: list[bytes] | None = None,
    liveness_required: bool = False,
) -> dict:
    """Who is in the picture, as a JSON-safe dict (it travels back through Celery).

    Keys: employee_id (None when rejected), distance, confidence, liveness_score,
    code and detail (why it was rejected, or "identified").
    """
    policy = selectors.site_policy(site_id=site_id)
    liveness_score = None
    try:
        if frames:
            liveness_score = _liveness_score(frames)
        elif policy.liveness_required or liveness_required:
            raise FaceRejected("liveness_required", "This site requires a liveness check: send a burst of frames.")
        sample = face_sample_extract(image)
    except FaceRejected as rejection:
        return _identification(None, None, None, liveness_score, rejection.code, rejection.detail)
    if liveness_score is not None and liveness_score < 0.5:
        return _identification(None, None, None, liveness_score, "liveness_failed", "The liveness check failed.")

    gallery = selectors.site_gallery(site_id=site_id)
    threshold = policy.face_distance_threshold
    if claimed_employee_id is not None:
        result = gallery_verify(gallery, sample.encoding, employee_id=claimed_employee_id, threshold=threshold)
    else:
        result = gallery_identify(gallery, sample.encoding, threshold=threshold, margin=policy.face_margin)
    confidence = None if result.distance is None else confidence_from_distance(result.distance, threshold)
    code = "identified" if result.accepted else "face_not_recognised"
    return _identification(result.employee_id, result.distance, confidence, liveness_score, code, result.reason)


def _liveness_score(frames: list[bytes]) -> float:
    from biometrics.face import image_decode
    from biometrics.liveness import liveness_check

    result = liveness_check([image_decode(frame) for frame in frames])
    if not result.passed:
        raise FaceRejected("liveness_failed", f"The liveness check failed: {result.reason}")
    return result.score


def _identification(employee_id, distance, confidence, liveness_score, code, detail) -> dict:
    return {
        "employee_id": employee_id,
        "distance": distance,
        "confidence": confidence,
        "liveness_score": liveness_score,
        "code": code,
        "detail": detail,
    }


# --- Check-in by face, voice or QR (web process) --------------------------------------


@dataclass(frozen=True)
class BiometricCheckIn:
    device: Device
    direction: str
    client_event_id: str
    occurred_at: datetime | None = None
    source: str = AttendanceEvent.Source.ONLINE


def _record(check: BiometricCheckIn, *, employee: Employee, method: str, **scores) -> RecordResult:
    return attendance_event_record(
        employee=employee,
        device=check.device,
        direction=check.direction,
        method=method,
        occurred_at=check.occurred_at,
        client_event_id=check.client_event_id,
        source=check.source,
        **scores,
    )


def _replayed(check: BiometricCheckIn) -> RecordResult | None:
    # Before any recognition work: a retried request costs one indexed lookup.
    event = attendance_event_by_client_id(device=check.device, client_event_id=check.client_event_id)
    return None if event is None else RecordResult(event=event, outcome=RecordOutcome.REPLAYED)


def _employee_at_site(*, employee_id: int, site_id: int) -> Employee:
    employee = Employee.objects.select_related("site").filter(pk=employee_id, site_id=site_id).first()
    if employee is None:
        raise ValidationError({"employee": "No such employee at this device's site."})
    return employee


def face_check_in(
    *,
    check: BiometricCheckIn,
    image: bytes,
    claimed_employee_id: int | None = None,
    frames: list[bytes] | None = None,
) -> RecordResult:
    """Identify (or verify) the face in a worker, then record the event."""
    from biometrics.tasks import face_identify_task

    replayed = _replayed(check)
    if replayed is not None:
        return replayed
    refusal = device_method_refusal(device=check.device, method=AttendanceEvent.Method.FACE)
    if refusal is not None:
        # Refused before any recognition work; the device is told which modes work.
        raise BiometricRejected("method", "method_not_allowed", refusal)
    if claimed_employee_id is not None:
        _require_consent(_employee_at_site(employee_id=claimed_employee_id, site_id=check.device.site_id))
    # One deadline for the whole wait, sending the task included: the device was promised
    # an answer (or a 503) within BIOMETRIC_RECOGNITION_TIMEOUT_SECONDS.
    timeout = settings.BIOMETRIC_RECOGNITION_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    try:
        result = face_identify_task.apply_async(
            kwargs={
                "site_id": check.device.site_id,
                "image_b64": base64.b64encode(image).decode(),
                "claimed_employee_id": claimed_employee_id,
                "frames_b64": [base64.b64encode(frame).decode() for frame in frames or []],
                "liveness_required": device_requires_liveness(device=check.device),
            },
            expires=timeout,
            # Without a broker there is nobody to recognise the face: say so at once
            # rather than spend the device's wait on reconnecting.
            retry=False,
        )
        outcome = result.get(timeout=max(0.1, deadline - time.monotonic()))
    except CeleryTimeoutError as error:
        raise RecognitionUnavailable("no recognition worker answered in time") from error
    except Exception as error:
        # Celery wraps a lost result store in a RuntimeError; what matters is the cause.
        if is_outage(error):
            raise RecognitionUnavailable("the recognition queue is unreachable") from error
        raise
    if outcome["employee_id"] is None:
        raise BiometricRejected("image", outcome["code"], outcome["detail"])
    employee = _employee_at_site(employee_id=outcome["employee_id"], site_id=check.device.site_id)
    return _record(
        check,
        employee=employee,
        method=AttendanceEvent.Method.FACE,
        confidence=outcome["confidence"],
        liveness_score=outcome["liveness_score"],
    )


def voice_check_in(*, check: BiometricCheckIn, clip: bytes, claimed_employee_id: int) -> RecordResult:
    """Voice verifies a claimed identity (1:1); it is too weak to pick one person out of many."""
    from biometrics import voice

    replayed = _replayed(check)
    if replayed is not None:
        return replayed
    employee = _employee_at_site(employee_id=claimed_employee_id, site_id=check.device.site_id)
    _require_consent(employee)
    template = selectors.voice_template_of(employee_id=employee.pk)
    if template is None:
        raise ValidationError({"employee": "This employee has no voice enrolled."})
    try:
        probe = voice.voice_embedding(voice.audio_decode(clip))
    except voice.AudioRejected as rejection:
        raise BiometricRejected("clip", rejection.code, rejection.detail)
    score = voice.voice_score(template, probe)
    if score < voice.VOICE_ACCEPT_THRESHOLD:
        raise BiometricRejected("clip", "voice_not_recognised", "The voice does not match the claimed employee.")
    return _record(
        check, employee=employee, method=AttendanceEvent.Method.VOICE, confidence=float(np.clip(score, 0.0, 1.0))
    )


# --- QR tokens ---------------------------------------------------------------------

_QR_SALT = "biometrics.qr-token"
_QR_LINK_SALT = "biometrics.qr-page"


def _qr_window(moment: datetime) -> int:
    return int(moment.timestamp()) // settings.QR_TOKEN_WINDOW_SECONDS


def qr_credential_of(employee: Employee) -> QrCredential:
    credential, _ = QrCredential.objects.get_or_create(employee=employee)
    return credential


@dataclass(frozen=True)
class QrToken:
    token: str
    valid_until: datetime


def qr_token_issue(*, employee: Employee, now: datetime | None = None) -> QrToken:
    """The current rotating token: signed (HMAC), tied to employee, site, version and window."""
    credential = qr_credential_of(employee)
    if credential.revoked_at is not None:
        raise ValidationError("This employee's QR codes are revoked; re-issue them first.")
    window = _qr_window(now or timezone.now())
    token = signing.dumps(
        {"e": employee.pk, "s": employee.site_id, "v": credential.version, "w": window}, salt=_QR_SALT, compress=True
    )
    valid_until = datetime.fromtimestamp((window + 1) * settings.QR_TOKEN_WINDOW_SECONDS, tz=UTC)
    return QrToken(token=token, valid_until=valid_until)


@transaction.atomic
def qr_credential_revoke(*, actor, employee: Employee) -> QrCredential:
    """Invalidate every QR token and QR page link issued so far; new ones work again."""
    credential = qr_credential_of(employee)
    credential.version += 1
    credential.revoked_at = None
    credential.save(update_fields=["version", "revoked_at"])
    audit_record(
        actor=actor,
        action=AuditLogEntry.Action.REVOKE,
        instance=employee,
        after={"qr_version": credential.version},
        reason="QR codes re-issued",
    )
    return credential


def qr_page_link_issue(*, employee: Employee) -> str:
    """A bearer link to the employee's QR page, valid until the QR credential is revoked."""
    credential = qr_credential_of(employee)
    return signing.dumps({"e": employee.pk, "v": credential.version}, salt=_QR_LINK_SALT)


def qr_page_employee(*, link_token: str) -> Employee | None:
    try:
        payload = signing.loads(link_token, salt=_QR_LINK_SALT)
    except signing.BadSignature:
        return None
    employee = Employee.objects.select_related("site").filter(pk=payload.get("e"), is_active=True).first()
    if employee is None or qr_credential_of(employee).version != payload.get("v"):
        return None
    return employee


def _qr_token_read(token: str) -> dict:
    max_age = 2 * settings.QR_TOKEN_WINDOW_SECONDS
    try:
        payload = signing.loads(token, salt=_QR_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BiometricRejected("token", "qr_expired", "This QR code has expired; show the current one.")
    except signing.BadSignature:
        raise BiometricRejected("token", "qr_invalid", "This is not a valid QR code of this system.")
    return payload


def qr_check_in(*, check: BiometricCheckIn, token: str | None = None, image: bytes | None = None) -> RecordResult:
    """Check in with a QR token, sent decoded or inside a camera image."""
    replayed = _replayed(check)
    if replayed is not None:
        return replayed
    if token is None:
        token = _qr_decode_image(image or b"")
    payload = _qr_token_read(token)
    if payload.get("s") != check.device.site_id:
        raise BiometricRejected("token", "qr_other_site", "This QR code belongs to another site.")
    employee = _employee_at_site(employee_id=payload["e"], site_id=check.device.site_id)
    credential = qr_credential_of(employee)
    if credential.revoked_at is not None or credential.version != payload.get("v"):
        raise BiometricRejected("token", "qr_revoked", "This QR code was revoked.")
    try:
        with transaction.atomic():
            QrTokenUse.objects.create(employee=employee, window=payload["w"])
            return _record(check, employee=employee, method=AttendanceEvent.Method.QR)
    except IntegrityError:
        raise BiometricRejected("token", "qr_replayed", "This QR code was already used; show the current one.")


def _qr_decode_image(data: bytes) -> str:
    import cv2

    from biometrics.face import image_decode

    try:
        rgb = image_decode(data)
    except FaceRejected as rejection:
        raise BiometricRejected("image", rejection.code, rejection.detail)
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not text:
        raise BiometricRejected("image", "qr_not_found", "No readable QR code in the image.")
    return text
