"""Typed payloads of the live channel: what a dashboard or player client receives.

The shapes are a contract with the browser code (static/dashboard/live.js,
streaming/static/streaming/player.js); docs/dashboard.md describes them.
"""

from typing import Literal, NotRequired, TypedDict

from attendance_site.events.types import ConditionValues

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


class EnvironmentReadingPayload(ConditionValues):
    """The device's newest reading of a batch, its measurements flat beside device and time."""

    device: int
    recorded_at: str


class ModeChangePayload(TypedDict):
    device: int
    allowed_modes: list[str]
    decisions: list[dict]


class StreamStatusPayload(TypedDict):
    stream: int
    state: str
    input_fps: float
    output_fps: float
    latency_ms: float
    last_error: str
    # Only in the pipeline's once-a-second reports, not in a status change's message.
    boxes: NotRequired[list[dict]]
    detect_every: NotRequired[int]


SiteMessageData = AttendanceEventPayload | EnvironmentReadingPayload | ModeChangePayload | StreamStatusPayload


class SiteMessage(TypedDict):
    type: MessageType
    site: int
    sequence: int
    data: SiteMessageData
