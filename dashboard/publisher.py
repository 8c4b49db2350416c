"""The one helper every app calls (after commit) to push a live message to browsers.

Messages go to one Channels group per site, so a subscriber only ever receives the
sites it may see. Each carries a per-site sequence number from Redis, so a client can
tell that it missed something and resync from the REST API.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

from attendance_site.events.handlers import DeliveredEvent
from dashboard.messages import AttendanceEventPayload, SiteMessage


def site_group_name(site_id: int) -> str:
    return f"site.{site_id}"


def _sequence_key(site_id: int) -> str:
    return f"dashboard:sequence:site:{site_id}"


def _next_sequence(site_id: int) -> int:
    key = _sequence_key(site_id)
    cache.add(key, 0, timeout=None)
    return cache.incr(key)


def site_sequences(site_ids) -> dict[int, int]:
    """The last sequence number sent to each site: a client's baseline after a resync."""
    found = cache.get_many([_sequence_key(site_id) for site_id in site_ids])
    return {site_id: int(found.get(_sequence_key(site_id), 0)) for site_id in site_ids}


def site_message_publish(*, site_id: int, message_type: str, data: dict) -> SiteMessage:
    message: SiteMessage = {
        "type": message_type,
        "site": site_id,
        "sequence": _next_sequence(site_id),
        "data": data,
    }
    async_to_sync(get_channel_layer().group_send)(
        site_group_name(site_id), {"type": "site.message", "message": message}
    )
    return message


def attendance_event_publish(event) -> SiteMessage:
    payload: AttendanceEventPayload = {
        "id": event.pk,
        "employee": event.employee_id,
        "employee_code": event.employee.employee_code,
        "employee_name": event.employee.full_name,
        "site": event.site_id,
        "device": event.device_id,
        "direction": event.direction,
        "method": event.method,
        "status": event.status,
        "occurred_at": event.occurred_at.isoformat(),
    }
    return site_message_publish(site_id=event.site_id, message_type="attendance.event", data=payload)


def attendance_event_recorded_publish(event: DeliveredEvent) -> None:
    """The live feed's handler of ``attendance.event_recorded``: the event as it is now, to its site.

    A redelivery publishes again under a new sequence number; clients drop an event they
    already show (by its id).
    """
    from attendance.models import AttendanceEvent

    attendance_event = (
        AttendanceEvent.objects.select_related("employee").filter(pk=event.payload["attendance_event_id"]).first()
    )
    if attendance_event is not None:
        attendance_event_publish(attendance_event)
