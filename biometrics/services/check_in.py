"""Check-in by face or voice (web process), and what every biometric check-in shares.

Recognition runs in a worker (``identification``); this module waits for its answer and
records the event through ``attendance.services.attendance_event_record``.
"""

import base64
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.core.exceptions import ValidationError

from attendance.models import AttendanceEvent, Device
from attendance.selectors import attendance_event_by_client_id
from attendance.services import RecordOutcome, RecordResult, attendance_event_record
from attendance_site.outages import is_outage
from biometrics import selectors
from biometrics.services.consent import consent_require
from biometrics.services.errors import BiometricRejected, RecognitionUnavailable
from employees.models import Employee
from environment.selectors import device_method_refusal, device_requires_liveness


@dataclass(frozen=True)
class BiometricCheckIn:
    device: Device
    direction: str
    client_event_id: str
    occurred_at: datetime | None = None
    source: str = AttendanceEvent.Source.ONLINE


def check_in_record(
    check: BiometricCheckIn,
    *,
    employee: Employee,
    method: str,
    confidence: float | None = None,
    liveness_score: float | None = None,
) -> RecordResult:
    return attendance_event_record(
        employee=employee,
        device=check.device,
        direction=check.direction,
        method=method,
        occurred_at=check.occurred_at,
        client_event_id=check.client_event_id,
        source=check.source,
        confidence=confidence,
        liveness_score=liveness_score,
    )


def check_in_replayed(check: BiometricCheckIn) -> RecordResult | None:
    # Before any recognition work: a retried request costs one indexed lookup.
    event = attendance_event_by_client_id(device=check.device, client_event_id=check.client_event_id)
    return None if event is None else RecordResult(event=event, outcome=RecordOutcome.REPLAYED)


def employee_at_site(*, employee_id: int, site_id: int) -> Employee:
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

    replayed = check_in_replayed(check)
    if replayed is not None:
        return replayed
    refusal = device_method_refusal(device=check.device, method="face")
    if refusal is not None:
        # Refused before any recognition work; the device is told which modes work.
        raise BiometricRejected("method", "method_not_allowed", refusal)
    if claimed_employee_id is not None:
        consent_require(employee_at_site(employee_id=claimed_employee_id, site_id=check.device.site_id))
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
    employee = employee_at_site(employee_id=outcome["employee_id"], site_id=check.device.site_id)
    return check_in_record(
        check,
        employee=employee,
        method="face",
        confidence=outcome["confidence"],
        liveness_score=outcome["liveness_score"],
    )


def voice_check_in(*, check: BiometricCheckIn, clip: bytes, claimed_employee_id: int) -> RecordResult:
    """Voice verifies a claimed identity (1:1); it is too weak to pick one person out of many."""
    from biometrics.voice import AudioRejected

    replayed = check_in_replayed(check)
    if replayed is not None:
        return replayed
    employee = employee_at_site(employee_id=claimed_employee_id, site_id=check.device.site_id)
    consent_require(employee)
    template = selectors.voice_template_of(employee_id=employee.pk)
    if template is None:
        raise ValidationError({"employee": "This employee has no voice enrolled."})
    verifier = selectors.voice_verifier()
    try:
        probe = verifier.embed(clip)
    except AudioRejected as rejection:
        raise BiometricRejected("clip", rejection.code, rejection.detail)
    score = verifier.score(template, probe)
    if not verifier.accepts(score):
        raise BiometricRejected("clip", "voice_not_recognised", "The voice does not match the claimed employee.")
    return check_in_record(check, employee=employee, method="voice", confidence=float(np.clip(score, 0.0, 1.0)))
