"""The one helper that pushes a live message to browsers.

Messages go to one Channels group per site, so a subscriber only ever receives the
sites it may see. Each carries a per-site sequence number from Redis, so a client can
tell that it missed something and resync from the REST API. Domain apps do not call
this: they emit domain events, and the live handler (attendance_site/live/handlers.py)
publishes them. The one exception is a stream's once-a-second gauges, which are not
events (see streaming/services.py).
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from attendance_site.live.messages import AttendanceEventPayload, MessageType, SiteMessage, SiteMessageData

if TYPE_CHECKING:
    from attendance.models import AttendanceEvent


def site_group_name(site_id: int) -> str:
    return f"site.{site_id}"


def _sequence_key(site_id: int) -> str:
    # The key predates the move out of dashboard/: renaming it would restart every
    # site's sequence, and every open page would resync at once.
    return f"dashboard:sequence:site:{site_id}"


def _next_sequence(site_id: int) -> int:
    key = _sequence_key(site_id)
    cache.add(key, 0, timeout=None)
    return cache.incr(key)


def site_sequences(site_ids: Iterable[int]) -> dict[int, int]:
    """The last sequence number sent to each site: a client's baseline after a resync."""
    site_ids = list(site_ids)
    found = cache.get_many([_sequence_key(site_id) for site_id in site_ids])
    return {site_id: int(found.get(_sequence_key(site_id), 0)) for site_id in site_ids}


def site_message_publish(*, site_id: int, message_type: MessageType, data: SiteMessageData) -> SiteMessage:
    message: SiteMessage = {
        "type": message_type,
        "site": site_id,
        "sequence": _next_sequence(site_id),
        "data": data,
    }
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("live messages need a Channels layer (CHANNEL_LAYERS)")
    async_to_sync(layer.group_send)(site_group_name(site_id), {"type": "site.message", "message": message})
    return message


def attendance_event_publish(event: "AttendanceEvent") -> SiteMessage:
    """An attendance event as the live feed shows it; its employee should be loaded with it."""
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
