"""Typed payloads of the live channel: what a dashboard client receives."""

from typing import Literal, TypedDict

MessageType = Literal["attendance.event", "environment.reading", "environment.mode_change", "stream.status"]


class AttendanceEventPayload(TypedDict):
    id: int
    employee: int
    employee_code: str
    employee_name: str
    site: int
    device: int | None
    direction: str
    method: str
    status: str
    occurred_at: str


class SiteMessage(TypedDict):
    type: MessageType
    site: int
    sequence: int
    data: dict  # AttendanceEventPayload for attendance.event; see docs/dashboard.md
