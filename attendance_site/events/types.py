"""The domain event types: a stable name, a version, and a typed JSON payload each.

A payload is what a handler in another app, or a webhook receiver later, may rely on:
fields are only ever added within a version; a change of meaning is a new version.
"""

from dataclasses import dataclass
from typing import Generic, TypedDict, TypeVar

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


class LoginLockedOutPayload(TypedDict):
    lockout_id: int
    username: str
    ip_address: str | None
    failures: int
    path: str  # the login that reached the limit: /api/auth/token/, /admin/login/, /accounts/login/


ATTENDANCE_EVENT_RECORDED: EventType[AttendanceEventRecordedPayload] = EventType(
    "attendance.event_recorded", 1, "A check-in or check-out was stored (not a replay or a duplicate)."
)
ACCOUNT_LOGIN_LOCKED_OUT: EventType[LoginLockedOutPayload] = EventType(
    "account.login_locked_out", 1, "Too many failed logins for one username from one address: locked out."
)

EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type for event_type in (ATTENDANCE_EVENT_RECORDED, ACCOUNT_LOGIN_LOCKED_OUT)
}
