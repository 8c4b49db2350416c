"""Typed payloads of the live channel: what a dashboard client receives."""

from typing import Literal, TypedDict


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
    type: Literal["attendance.event"]
    site: int
    sequence: int
    data: AttendanceEventPayload
