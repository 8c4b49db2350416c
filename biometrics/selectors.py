"""Reads of the biometrics app: consent state, enrolment state, per-site galleries."""

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from django.conf import settings
from django.db.models import QuerySet

from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from attendance_site.process_cache import VersionedProcessCache
from attendance_site.registry import BiometricBackend, FaceMatcher, LivenessCheck, VoiceVerifier, registry
from biometrics import crypto
from biometrics.face import ImageLimits
from biometrics.gallery import Gallery, gallery_build
from biometrics.models import BiometricConsent, FaceTemplate, SiteBiometricPolicy, VoiceTemplate
from employees.models import Employee


def image_limits() -> ImageLimits:
    """The upload limits in force (settings), for the Django-free face module."""
    return ImageLimits(max_bytes=settings.BIOMETRIC_MAX_IMAGE_BYTES, max_pixels=settings.BIOMETRIC_MAX_IMAGE_PIXELS)


def face_matcher() -> FaceMatcher:
    """The face matcher BIOMETRIC_BACKENDS names (checked at start-up)."""
    return _biometric_backend(FaceMatcher)


def voice_verifier() -> VoiceVerifier:
    return _biometric_backend(VoiceVerifier)


def liveness_check_backend() -> LivenessCheck:
    return _biometric_backend(LivenessCheck)


BackendT = TypeVar("BackendT", FaceMatcher, VoiceVerifier, LivenessCheck)


def _biometric_backend(backend_type: type[BackendT]) -> BackendT:
    # Read per call, not cached: settings overridden in tests must take effect.
    backend: BiometricBackend = registry.biometric_backends[settings.BIOMETRIC_BACKENDS[backend_type.kind]]
    if not isinstance(backend, backend_type):
        raise TypeError(f"biometric backend {backend.key!r} is a {backend.kind}, not a {backend_type.kind}")
    return backend


def consents_visible_to(user: RequestUser) -> QuerySet[BiometricConsent]:
    return BiometricConsent.objects.filter(employee__site_id__in=visible_site_ids(user)).select_related("employee")


def consent_active(*, employee_id: int) -> BiometricConsent | None:
    return BiometricConsent.objects.filter(employee_id=employee_id, withdrawn_at__isnull=True).first()


@dataclass(frozen=True)
class EnrolmentStatus:
    employee_id: int
    consent: BiometricConsent | None
    face_templates: int
    voice_enrolled: bool


def enrolment_status(*, employee: Employee) -> EnrolmentStatus:
    return EnrolmentStatus(
        employee_id=employee.pk,
        consent=consent_active(employee_id=employee.pk),
        face_templates=FaceTemplate.objects.filter(employee=employee).count(),
        voice_enrolled=VoiceTemplate.objects.filter(employee=employee).exists(),
    )


def site_policy(*, site_id: int) -> SiteBiometricPolicy:
    """The site's policy, or the defaults (unsaved) when an admin never set one."""
    return SiteBiometricPolicy.objects.filter(site_id=site_id).first() or SiteBiometricPolicy(site_id=site_id)


def voice_template_of(*, employee_id: int) -> np.ndarray | None:
    template = VoiceTemplate.objects.filter(employee_id=employee_id).first()
    if template is None:
        return None
    return np.frombuffer(crypto.decrypt(template.embedding_encrypted), dtype=np.float32)


# --- Galleries: one decrypted template matrix per site, cached per process ----------
#
# Template changes bump the site's version, employee changes (moves, deactivation) bump
# a global one; see attendance_site.process_cache for what happens when Redis is lost.

_GLOBAL_VERSION_KEY = "biometrics:gallery-version:all"


def _site_version_key(site_id: int) -> str:
    return f"biometrics:gallery-version:site:{site_id}"


galleries: VersionedProcessCache[int, Gallery] = VersionedProcessCache(
    version_keys=lambda site_id: [_GLOBAL_VERSION_KEY, _site_version_key(site_id)]
)


def gallery_invalidate(*, site_id: int | None = None) -> None:
    galleries.invalidate(_GLOBAL_VERSION_KEY if site_id is None else _site_version_key(site_id))


def _site_gallery_build(site_id: int) -> Gallery:
    rows = FaceTemplate.objects.filter(employee__site_id=site_id, employee__is_active=True).values_list(
        "employee_id", "encoding_encrypted"
    )
    return gallery_build(
        [(employee_id, np.frombuffer(crypto.decrypt(token), dtype=np.float64)) for employee_id, token in rows]
    )


def site_gallery(*, site_id: int) -> Gallery:
    return galleries.get(site_id, lambda: _site_gallery_build(site_id))
