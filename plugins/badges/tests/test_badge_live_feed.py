"""A badge check-in reaches the dashboards of its site over the real WebSocket."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from attendance_site.asgi import application
from plugins.badges.tests.conftest import CARD_A, CHECK_IN_URL

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


def test_viewer_sees_a_badge_check_in_of_their_site_live(viewer_a, device_a_client, badge_a, employee_a):
    browser = Client()
    browser.force_login(viewer_a)
    session = browser.cookies["sessionid"].value
    headers = [(b"origin", b"http://127.0.0.1"), (b"cookie", f"sessionid={session}".encode())]

    async def scenario() -> dict:
        communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        try:
            connected, _code = await communicator.connect(timeout=TIMEOUT)
            assert connected
            await communicator.receive_json_from(timeout=TIMEOUT)  # the greeting
            response = await sync_to_async(device_a_client.post)(
                CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "live-1"}
            )
            assert response.status_code == 201, response.json()
            return await communicator.receive_json_from(timeout=TIMEOUT)
        finally:
            await communicator.disconnect()

    received = async_to_sync(scenario)()

    assert received["type"] == "attendance.event"
    assert received["data"]["employee"] == employee_a.pk
    assert received["data"]["method"] == "badge"
