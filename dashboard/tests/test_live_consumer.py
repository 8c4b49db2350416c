"""The live WebSocket: who may connect, what each subscriber receives, and what it ignores.

The consumer runs behind the project's real ASGI stack (origin check, session auth) and
the real Channels layer over Redis; the tests publish with the same helper the app uses.
"""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from attendance.services import attendance_event_record
from attendance_site.asgi import application
from attendance_site.live.messages import ModeChangePayload
from attendance_site.live.publisher import attendance_event_publish, site_message_publish

pytestmark = pytest.mark.django_db(transaction=True)

LIVE = "/ws/live/"
ORIGIN = (b"origin", b"http://127.0.0.1")
TIMEOUT = 5
MODE_CHANGE: ModeChangePayload = {"device": 1, "allowed_modes": ["pin"], "decisions": []}


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def communicator_for(session: str | None = None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if session is not None:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, LIVE, headers=headers)


async def connect_and_greet(communicator: WebsocketCommunicator) -> dict:
    connected, code = await communicator.connect(timeout=TIMEOUT)
    assert connected, f"refused with close code {code}"
    return await communicator.receive_json_from(timeout=TIMEOUT)


def check_in(created_device, employee):
    """A stored device check-in; its own announcement goes out before anyone here subscribes."""
    return attendance_event_record(
        employee=employee, direction="in", method="pin", device=created_device.device, client_event_id="live-1"
    ).event


def test_websocket_without_a_session_is_refused():
    async def scenario():
        communicator = communicator_for(session=None)
        try:
            return await communicator.connect(timeout=TIMEOUT)
        finally:
            await communicator.disconnect()

    connected, code = async_to_sync(scenario)()

    assert connected is False
    assert code == 4401


def test_viewer_receives_the_events_of_their_site_and_nothing_of_another(
    viewer_a, site_a, employee_a, employee_b, device_a, device_b
):
    session = session_cookie_for(viewer_a)
    event_a = check_in(device_a, employee_a)
    event_b = check_in(device_b, employee_b)

    async def scenario():
        communicator = communicator_for(session)
        try:
            hello = await connect_and_greet(communicator)
            # Site B's message goes out first: if it reached this viewer, it would arrive first.
            await sync_to_async(attendance_event_publish)(event_b)
            await sync_to_async(attendance_event_publish)(event_a)
            received = await communicator.receive_json_from(timeout=TIMEOUT)
            nothing_more = await communicator.receive_nothing(timeout=0.5)
            return hello, received, nothing_more
        finally:
            await communicator.disconnect()

    hello, received, nothing_more = async_to_sync(scenario)()

    assert hello == {"type": "hello", "sites": [site_a.pk]}
    assert received["type"] == "attendance.event"
    assert received["site"] == site_a.pk
    assert isinstance(received["sequence"], int)
    assert received["data"]["id"] == event_a.pk
    assert received["data"]["employee"] == employee_a.pk
    assert received["data"]["site"] == site_a.pk
    assert nothing_more


def test_malformed_client_message_neither_closes_the_socket_nor_stops_the_stream(viewer_a, site_a):
    session = session_cookie_for(viewer_a)

    async def scenario():
        communicator = communicator_for(session)
        try:
            await connect_and_greet(communicator)
            await communicator.send_to(text_data="{not json")
            await communicator.send_to(bytes_data=b"\xff\xfe")
            still_open = await communicator.receive_nothing(timeout=0.5)
            published = await sync_to_async(site_message_publish)(
                site_id=site_a.pk, message_type="environment.mode_change", data=MODE_CHANGE
            )
            received = await communicator.receive_json_from(timeout=TIMEOUT)
            return still_open, published, received
        finally:
            await communicator.disconnect()

    still_open, published, received = async_to_sync(scenario)()

    assert still_open
    assert received == published


def test_a_quiet_socket_still_receives_after_the_redis_read_timeout(viewer_a, site_a):
    # redis-py 8 times blocking reads out after 5 s by default; an idle dashboard must
    # not lose its channel to that.
    import asyncio

    session = session_cookie_for(viewer_a)

    async def scenario():
        communicator = communicator_for(session)
        try:
            await connect_and_greet(communicator)
            await asyncio.sleep(6.5)
            await sync_to_async(site_message_publish)(
                site_id=site_a.pk, message_type="environment.mode_change", data=MODE_CHANGE
            )
            return await communicator.receive_json_from(timeout=TIMEOUT)
        finally:
            await communicator.disconnect()

    received = async_to_sync(scenario)()

    assert received["data"] == MODE_CHANGE
