"""Rotating QR tokens: issue, revoke, the employee's QR page link, and QR check-in."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.permissions import RequestUser
from accounts.services import audit_record
from attendance.services import RecordResult
from biometrics.face import FaceRejected
from biometrics.models import QrCredential, QrTokenUse
from biometrics.services.check_in import BiometricCheckIn, check_in_record, check_in_replayed, employee_at_site
from biometrics.services.errors import BiometricRejected
from employees.models import Employee

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
def qr_credential_revoke(*, actor: RequestUser, employee: Employee) -> QrCredential:
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
    replayed = check_in_replayed(check)
    if replayed is not None:
        return replayed
    if token is None:
        token = _qr_decode_image(image or b"")
    payload = _qr_token_read(token)
    if payload.get("s") != check.device.site_id:
        raise BiometricRejected("token", "qr_other_site", "This QR code belongs to another site.")
    employee = employee_at_site(employee_id=payload["e"], site_id=check.device.site_id)
    credential = qr_credential_of(employee)
    if credential.revoked_at is not None or credential.version != payload.get("v"):
        raise BiometricRejected("token", "qr_revoked", "This QR code was revoked.")
    try:
        with transaction.atomic():
            QrTokenUse.objects.create(employee=employee, window=payload["w"])
            return check_in_record(check, employee=employee, method="qr")
    except IntegrityError:
        raise BiometricRejected("token", "qr_replayed", "This QR code was already used; show the current one.")


def _qr_decode_image(data: bytes) -> str:
    import cv2

    from biometrics.face import image_decode
    from biometrics.selectors import image_limits

    try:
        rgb = image_decode(data, limits=image_limits())
    except FaceRejected as rejection:
        raise BiometricRejected("image", rejection.code, rejection.detail)
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not text:
        raise BiometricRejected("image", "qr_not_found", "No readable QR code in the image.")
    return text
