"""Consent to biometric processing, and erasure of an employee's templates."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.permissions import RequestUser
from accounts.services import audit_record, model_snapshot
from biometrics import selectors
from biometrics.models import BiometricConsent, FaceTemplate, VoiceTemplate
from employees.models import Employee


@transaction.atomic
def consent_grant(*, actor: User, employee: Employee, notice_version: str) -> BiometricConsent:
    if selectors.consent_active(employee_id=employee.pk) is not None:
        raise ValidationError({"employee": "This employee already has an active consent; withdraw it first."})
    consent = BiometricConsent.objects.create(
        employee=employee, notice_version=notice_version, granted_at=timezone.now(), recorded_by=actor
    )
    audit_record(actor=actor, action=AuditLogEntry.Action.CREATE, instance=consent, after=model_snapshot(consent))
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, consent: BiometricConsent) -> BiometricConsent:
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
def biometrics_erase(*, actor: RequestUser, employee: Employee, reason: str) -> ErasureResult:
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


def consent_require(employee: Employee) -> None:
    if selectors.consent_active(employee_id=employee.pk) is None:
        raise ValidationError({"employee": "This employee has not consented to biometric processing."})
