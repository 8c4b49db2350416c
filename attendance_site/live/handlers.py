"""The live publisher as a domain event handler: what the dashboard and players show live.

One handler takes every event type with a live message and publishes that message to the
event's site. Delivery is at least once, so a message may go out twice under two
sequence numbers: clients treat messages as idempotent (the feed drops an event it
already shows, the devices panel and players redraw from the latest state).
"""

from collections.abc import Callable

from attendance_site.events.handlers import DeliveredEvent, EventHandler
from attendance_site.events.types import (
    ATTENDANCE_EVENT_RECORDED,
    ENVIRONMENT_MODE_CHANGED,
    ENVIRONMENT_READING_RECORDED,
    STREAM_STATUS_CHANGED,
    ConditionValues,
)
from attendance_site.live.messages import EnvironmentReadingPayload, ModeChangePayload, StreamStatusPayload
from attendance_site.live.publisher import attendance_event_publish, site_message_publish


def _attendance_event_recorded(event: DeliveredEvent) -> None:
    from attendance.models import AttendanceEvent

    # The event as it is now (the payload has no names to show, on purpose).
    attendance_event = (
        AttendanceEvent.objects.select_related("employee").filter(pk=event.payload["attendance_event_id"]).first()
    )
    if attendance_event is not None:
        attendance_event_publish(attendance_event)


def _reading_recorded(event: DeliveredEvent) -> None:
    # One message per batch: the device's newest reading is its current state.
    values: ConditionValues = event.payload["values"]
    data: EnvironmentReadingPayload = {
        **values,
        "device": event.payload["device_id"],
        "recorded_at": event.payload["recorded_at"],
    }
    site_message_publish(site_id=event.payload["site_id"], message_type="environment.reading", data=data)


def _mode_changed(event: DeliveredEvent) -> None:
    data: ModeChangePayload = {
        "device": event.payload["device_id"],
        "allowed_modes": event.payload["allowed_modes"],
        "decisions": event.payload["decisions"],
    }
    site_message_publish(site_id=event.payload["site_id"], message_type="environment.mode_change", data=data)


def _stream_status_changed(event: DeliveredEvent) -> None:
    from streaming.models import CameraStream

    # The stream as it is now, not as the event saw it: a change delivered late by the
    # sweeper must not set a player back to a state the stream has since left.
    stream = CameraStream.objects.filter(pk=event.payload["stream_id"]).first()
    if stream is None:
        return  # deleted since: its tile is gone
    data: StreamStatusPayload = {
        "stream": stream.pk,
        "state": stream.state,
        "input_fps": stream.input_fps or 0.0,
        "output_fps": stream.output_fps or 0.0,
        "latency_ms": stream.latency_ms or 0.0,
        "last_error": stream.last_error,
    }
    site_message_publish(site_id=stream.site_id, message_type="stream.status", data=data)


LIVE_MESSAGES: dict[str, Callable[[DeliveredEvent], None]] = {
    ATTENDANCE_EVENT_RECORDED.name: _attendance_event_recorded,
    ENVIRONMENT_READING_RECORDED.name: _reading_recorded,
    ENVIRONMENT_MODE_CHANGED.name: _mode_changed,
    STREAM_STATUS_CHANGED.name: _stream_status_changed,
}


def live_publish(event: DeliveredEvent) -> None:
    LIVE_MESSAGES[event.type](event)


# The name is stored with every delivery, so it keeps the name it had in dashboard/.
live_publisher = EventHandler(name="dashboard.live", event_types=frozenset(LIVE_MESSAGES), handle=live_publish)
