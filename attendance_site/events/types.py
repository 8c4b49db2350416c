"""The domain event types: a stable name, a version, and a typed JSON payload each.

A payload is what a handler in another app, or a webhook receiver later, may rely on:
fields are only ever added within a version; a change of meaning is a new version.
Payloads carry ids and facts, not personal details (names, e-mail): the log is kept for
the retention period and a receiver that needs more reads it from the API.
"""

from dataclasses import dataclass
from typing import Generic, Literal, TypedDict, TypeVar

Payload = TypeVar("Payload")


@dataclass(frozen=True)
class EventType(Generic[Payload]):
    name: str
    version: int
    description: str


class AttendanceEventRecordedPayload(TypedDict):
    attendance_event_id: int
    employee_id: int
    site_id: int
    device_id: int | None
    direction: str
    method: str
    status: str
    occurred_at: str  # ISO 8601, UTC


class AttendanceEventCorrectedPayload(TypedDict):
    attendance_event_id: int
    employee_id: int
    site_id: int
    # How an admin changed the record; only manual entries exist today (amend and void
    # services will add their own kinds).
    correction: Literal["manual_entry"]
    direction: str
    occurred_at: str  # ISO 8601, UTC
    actor_id: int | None
    reason: str


class EmployeePayload(TypedDict):
    employee_id: int
    employee_code: str
    site_id: int
    department_id: int | None
    shift_id: int | None
    is_active: bool


class EmployeeUpdatedPayload(EmployeePayload):
    changed_fields: list[str]  # model field names, sorted


class ConditionValues(TypedDict):
    """One reading's measurements in canonical units; None where the device measured nothing."""

    light_lux: float | None
    noise_db: float | None
    temperature_c: float | None
    network_online: bool | None
    network_latency_ms: float | None
    network_loss_pct: float | None
    network_bandwidth_kbps: float | None
    camera_available: bool | None
    microphone_available: bool | None


class ReadingRecordedPayload(TypedDict):
    device_id: int
    site_id: int
    readings: int  # how many the batch stored
    recorded_at: str  # the newest reading's time, ISO 8601, UTC
    values: ConditionValues  # the newest reading's measurements: the device's current state


class ModeChangedPayload(TypedDict):
    device_id: int
    site_id: int
    rule_set_id: int
    allowed_modes: list[str]
    previous_modes: list[str]
    decisions: list[dict]  # environment.rules.decisions_as_json: mode, allowed, reasons


class StreamStatusChangedPayload(TypedDict):
    stream_id: int
    site_id: int
    state: str  # starting, live, reconnecting, stopped, failed
    previous_state: str
    last_error: str


class LoginLockedOutPayload(TypedDict):
    lockout_id: int
    username: str
    ip_address: str | None
    failures: int
    path: str  # the login that reached the limit: /api/auth/token/, /admin/login/, /accounts/login/


ATTENDANCE_EVENT_RECORDED: EventType[AttendanceEventRecordedPayload] = EventType(
    "attendance.event_recorded", 1, "A check-in or check-out was stored (not a replay or a duplicate)."
)
ATTENDANCE_EVENT_CORRECTED: EventType[AttendanceEventCorrectedPayload] = EventType(
    "attendance.event_corrected", 1, "An admin changed someone's attendance record (today: a manual entry)."
)
EMPLOYEE_CREATED: EventType[EmployeePayload] = EventType("employee.created", 1, "An employee was added.")
EMPLOYEE_UPDATED: EventType[EmployeeUpdatedPayload] = EventType(
    "employee.updated", 1, "An employee's record changed (the changed fields are named)."
)
EMPLOYEE_DEACTIVATED: EventType[EmployeePayload] = EventType(
    "employee.deactivated", 1, "An employee was deactivated (their attendance is kept)."
)
ENVIRONMENT_READING_RECORDED: EventType[ReadingRecordedPayload] = EventType(
    "environment.reading_recorded", 1, "A device stored a batch of condition readings."
)
ENVIRONMENT_MODE_CHANGED: EventType[ModeChangedPayload] = EventType(
    "environment.mode_changed", 1, "The check-in modes a device allows changed (new reading or rule set)."
)
STREAM_STATUS_CHANGED: EventType[StreamStatusChangedPayload] = EventType(
    "stream.status_changed", 1, "A camera stream changed state (starting, live, reconnecting, stopped, failed)."
)
ACCOUNT_LOGIN_LOCKED_OUT: EventType[LoginLockedOutPayload] = EventType(
    "account.login_locked_out", 1, "Too many failed logins for one username from one address: locked out."
)

EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type
    for event_type in (
        ATTENDANCE_EVENT_RECORDED,
        ATTENDANCE_EVENT_CORRECTED,
        EMPLOYEE_CREATED,
        EMPLOYEE_UPDATED,
        EMPLOYEE_DEACTIVATED,
        ENVIRONMENT_READING_RECORDED,
        ENVIRONMENT_MODE_CHANGED,
        STREAM_STATUS_CHANGED,
        ACCOUNT_LOGIN_LOCKED_OUT,
    )
}
