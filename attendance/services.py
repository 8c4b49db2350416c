"""Writes of the attendance app: devices and their credentials, and recording events.

``attendance_event_record`` is the one door through which every check-in and
check-out enters, whichever way the person was identified.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.permissions import Actor
from accounts.services import audit_record, audited_create, audited_delete, audited_update, model_snapshot
from attendance.models import AttendanceEvent, Device, WorkSession
from attendance.selectors import attendance_event_by_client_id, attendance_method_choices
from attendance_site.events.services import domain_event_emit
from attendance_site.events.types import (
    ATTENDANCE_EVENT_CORRECTED,
    ATTENDANCE_EVENT_RECORDED,
    AttendanceEventCorrectedPayload,
    AttendanceEventRecordedPayload,
)
from employees.models import Employee
from environment.selectors import device_method_refusal

if TYPE_CHECKING:  # streaming imports attendance at import time, not the other way round
    from streaming.models import CameraStream

CREDENTIAL_SCHEME = "dev"
# No attendance predates the system's clocks; older stamps are broken device clocks.
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)

User = get_user_model()


# --- Devices ------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceWithCredential:
    device: Device
    credential: str


def _credential_hash(credential: str) -> str:
    # The secret part is 256 random bits, not a password: a fast hash cannot be
    # brute-forced, and a slow one would cost every check-in tens of milliseconds.
    return hashlib.sha256(credential.encode()).hexdigest()


def _credential_new() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{CREDENTIAL_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def device_create(*, actor: Actor, fields: dict[str, Any]) -> DeviceWithCredential:
    """Register a device; the credential in the result is never retrievable again."""
    prefix, credential = _credential_new()
    device = audited_create(
        actor=actor,
        model=Device,
        fields={**fields, "credential_prefix": prefix, "credential_hash": _credential_hash(credential)},
    )
    return DeviceWithCredential(device=device, credential=credential)


def device_update(*, actor: Actor, device: Device, fields: dict[str, Any]) -> Device:
    return audited_update(actor=actor, instance=device, fields=fields)


def device_delete(*, actor: Actor, device: Device) -> None:
    audited_delete(actor=actor, instance=device)


@transaction.atomic
def device_revoke(*, actor: Actor, device: Device) -> Device:
    if device.revoked_at is None:
        before = model_snapshot(device)
        device.revoked_at = timezone.now()
        device.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditLogEntry.Action.REVOKE,
            instance=device,
            before=before,
            after=model_snapshot(device),
        )
    return device


def device_authenticate(*, credential: str) -> Device | None:
    """The active device a credential belongs to, or None; marks it as seen."""
    parts = credential.split("_", 2)
    if len(parts) != 3 or parts[0] != CREDENTIAL_SCHEME:
        return None
    # The mode state rides along: the check-in path reads it without another query.
    device = Device.objects.select_related("site", "mode_state").filter(credential_prefix=parts[1]).first()
    if device is None or not hmac.compare_digest(device.credential_hash, _credential_hash(credential)):
        return None
    if device.revoked_at is not None:
        return None
    device_mark_seen(device)
    return device


def device_mark_seen(device: Device) -> None:
    now = timezone.now()
    # Coarse on purpose: one UPDATE a minute per device instead of one per request.
    if device.last_seen_at is None or now - device.last_seen_at >= settings.DEVICE_LAST_SEEN_RESOLUTION:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now


# --- Attendance events ----------------------------------------------------------


class RecordOutcome(models.TextChoices):
    CREATED = "created", "Stored as a new event"
    REPLAYED = "replayed", "Same client event id as an earlier request: the original event"
    DUPLICATE = "duplicate", "Within the duplicate window of an earlier event: not stored again"


@dataclass(frozen=True)
class RecordResult:
    event: AttendanceEvent
    outcome: RecordOutcome

    @property
    def created(self) -> bool:
        return self.outcome == RecordOutcome.CREATED


def device_time_problem(moment: datetime) -> str | None:
    """Why a time a device stamped cannot be true, or None.

    One rule for everything devices stamp (events, condition readings): a wrong device
    clock is refused the same way wherever its output arrives.
    """
    if moment < EARLIEST_EVENT:
        return "Lies before 2000; check the device's clock."
    if moment > timezone.now() + settings.ATTENDANCE_MAX_CLOCK_SKEW:
        return "Lies in the future beyond the allowed clock skew."
    return None


def _validate_occurred_at(occurred_at: datetime) -> None:
    if timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": "Datetime has no timezone."})
    problem = device_time_problem(occurred_at)
    if problem is not None:
        raise ValidationError({"occurred_at": problem})


def _validate_method(method: str) -> None:
    if method not in dict(attendance_method_choices()):
        raise ValidationError({"method": f"{method!r} is not an installed check-in method."})


def attendance_event_record(
    *,
    employee: Employee,
    direction: str,
    method: str,
    occurred_at: datetime | None = None,
    device: Device | None = None,
    camera_stream: "CameraStream | None" = None,
    client_event_id: str | None = None,
    source: str = AttendanceEvent.Source.ONLINE,
    confidence: float | None = None,
    liveness_score: float | None = None,
    recorded_by: Actor = None,
    reason: str = "",
) -> RecordResult:
    """Store one check-in or check-out, idempotently, applying the site's rules.

    - the same (device, client_event_id) returns the original event;
    - an event of the same direction within the site's duplicate window is answered
      with the earlier one and not stored;
    - a check-out closes the latest check-in if it is open and recent enough, and is
      flagged otherwise.
    """
    occurred_at = occurred_at or timezone.now()
    _validate_occurred_at(occurred_at)
    _validate_method(method)
    if device is not None and not client_event_id:
        raise ValidationError({"client_event_id": "Devices must send a client event id."})
    refusal = _refusal(employee=employee, device=device, method=method)
    if refusal is not None:
        # A retry of an event stored before things changed (the employee moved or left,
        # the conditions changed) is still answered with the original.
        replayed = _replayed(device=device, client_event_id=client_event_id)
        if replayed is not None:
            return RecordResult(event=replayed, outcome=RecordOutcome.REPLAYED)
        field, code, message = refusal
        raise ValidationError({field: ValidationError(message, code=code)})

    site = employee.site
    try:
        with transaction.atomic():
            # One person's events are decided one at a time, whichever device sent them.
            list(Employee.objects.select_for_update().filter(pk=employee.pk).order_by().values_list("pk", flat=True))
            earlier = _earlier_answer(
                employee=employee,
                device=device,
                client_event_id=client_event_id,
                direction=direction,
                occurred_at=occurred_at,
                window=site.duplicate_window,
            )
            if earlier is not None:
                return earlier

            event = AttendanceEvent(
                employee=employee,
                site=site,
                device=device,
                camera_stream=camera_stream,
                direction=direction,
                occurred_at=occurred_at,
                method=method,
                confidence=confidence,
                liveness_score=liveness_score,
                client_event_id=client_event_id or uuid.uuid4().hex,
                source=source,
                # Only a person is stored as the recorder; a device or the system records as nobody.
                recorded_by=recorded_by if isinstance(recorded_by, User) else None,
                reason=reason,
            )
            if direction == AttendanceEvent.Direction.IN:
                event.save()
                WorkSession.objects.create(
                    employee=employee,
                    site=site,
                    check_in=event,
                    started_at=occurred_at,
                    work_date=timezone.localtime(occurred_at, site.timezone).date(),
                )
            else:
                _check_out_pair(event=event, max_work_session=site.max_work_session)
            # In the same transaction: the rest of the system hears of every stored event,
            # however long Redis or the workers are away (attendance_site.events).
            _event_recorded_emit(event)
            return RecordResult(event=event, outcome=RecordOutcome.CREATED)
    except IntegrityError:
        # Lost a race on the unique client id: the winner's row is the answer.
        replayed = _replayed(device=device, client_event_id=client_event_id)
        if replayed is not None:
            return RecordResult(event=replayed, outcome=RecordOutcome.REPLAYED)
        raise


def _replayed(*, device: Device | None, client_event_id: str | None) -> AttendanceEvent | None:
    if device is None or not client_event_id:
        return None
    return attendance_event_by_client_id(device=device, client_event_id=client_event_id)


def _refusal(*, employee: Employee, device: Device | None, method: str) -> tuple[str, str, str] | None:
    """(field, code, message) of the first rule this event breaks, or None."""
    if device is not None and device.site_id != employee.site_id:
        return "employee", "other_site", "This employee does not belong to the device's site."
    if not employee.is_active:
        return "employee", "inactive", "This employee is not active."
    if device is not None:
        # The device's current conditions decide which methods work there (environment app).
        method_refusal = device_method_refusal(device=device, method=method)
        if method_refusal is not None:
            return "method", "method_not_allowed", method_refusal
    return None


def _earlier_answer(
    *,
    employee: Employee,
    device: Device | None,
    client_event_id: str | None,
    direction: str,
    occurred_at: datetime,
    window: timedelta,
) -> RecordResult | None:
    """The stored event that answers this request instead of a new row, if any.

    One query finds both a replay (same device and client event id) and a duplicate
    (same person and direction within the window): this is the check-in hot path.
    """
    condition = Q(pk__in=[])
    if device is not None:
        condition |= Q(device=device, client_event_id=client_event_id)
    if window:
        condition |= Q(
            employee=employee,
            direction=direction,
            occurred_at__gte=occurred_at - window,
            occurred_at__lte=occurred_at + window,
        ) & ~Q(status=AttendanceEvent.Status.REJECTED)
    candidates = list(AttendanceEvent.objects.filter(condition).order_by("occurred_at")[:10])
    for candidate in candidates:
        if candidate.employee_id == employee.pk:
            # The answer shows the employee's code and name: the caller's row saves a query.
            candidate.employee = employee
    for candidate in candidates:
        if device is not None and candidate.device_id == device.pk and candidate.client_event_id == client_event_id:
            return RecordResult(event=candidate, outcome=RecordOutcome.REPLAYED)
    if candidates:
        return RecordResult(event=candidates[0], outcome=RecordOutcome.DUPLICATE)
    return None


def _check_out_pair(*, event: AttendanceEvent, max_work_session: timedelta) -> None:
    latest_session = (
        WorkSession.objects.filter(
            employee=event.employee,
            started_at__lte=event.occurred_at,
            started_at__gte=event.occurred_at - max_work_session,
        )
        .order_by("-started_at")
        .first()
    )
    if latest_session is None or latest_session.check_out_id is not None:
        event.status = AttendanceEvent.Status.FLAGGED
        event.reason = "; ".join(filter(None, [event.reason, "Check-out without an open check-in."]))
        event.save()
        return
    event.save()
    latest_session.check_out = event
    latest_session.ended_at = event.occurred_at
    latest_session.save(update_fields=["check_out", "ended_at"])


def _event_recorded_emit(event: AttendanceEvent) -> None:
    payload: AttendanceEventRecordedPayload = {
        "attendance_event_id": event.pk,
        "employee_id": event.employee_id,
        "site_id": event.site_id,
        "device_id": event.device_id,
        "direction": event.direction,
        "method": event.method,
        "status": event.status,
        "occurred_at": event.occurred_at.isoformat(),
    }
    domain_event_emit(event_type=ATTENDANCE_EVENT_RECORDED, payload=payload, site_id=event.site_id)


@transaction.atomic
def attendance_event_manual_create(
    *, actor: Actor, employee: Employee, direction: str, occurred_at: datetime, reason: str
) -> RecordResult:
    """An admin records attendance by hand: a reason is required and the entry audited."""
    if not reason.strip():
        raise ValidationError({"reason": "A manual entry needs a reason."})
    result = attendance_event_record(
        employee=employee,
        direction=direction,
        method=AttendanceEvent.Method.MANUAL,
        occurred_at=occurred_at,
        recorded_by=actor,
        reason=reason,
    )
    if result.outcome == RecordOutcome.CREATED:
        audit_record(
            actor=actor,
            action=AuditLogEntry.Action.MANUAL_ENTRY,
            instance=result.event,
            after=model_snapshot(result.event),
            reason=reason,
        )
        _event_corrected_emit(event=result.event, actor=actor, reason=reason)
    return result


def _event_corrected_emit(*, event: AttendanceEvent, actor: Actor, reason: str) -> None:
    # Attendance events are never edited or voided (the admin and the API only read
    # them): an admin corrects a record by adding a manual entry, so that is the
    # correction receivers hear of, beside the entry's own attendance.event_recorded.
    payload: AttendanceEventCorrectedPayload = {
        "attendance_event_id": event.pk,
        "employee_id": event.employee_id,
        "site_id": event.site_id,
        "correction": "manual_entry",
        "direction": event.direction,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": actor.pk if actor is not None else None,
        "reason": reason,
    }
    domain_event_emit(event_type=ATTENDANCE_EVENT_CORRECTED, payload=payload, site_id=event.site_id)
