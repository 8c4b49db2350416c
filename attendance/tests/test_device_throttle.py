"""Device endpoints are throttled per device, in the error format, with Retry-After."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from attendance_site.embedded_redis import free_port

ME = "/api/attendance/device/me/"


@pytest.fixture
def device_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "device": "3/minute"},
    }


def test_a_device_over_its_rate_gets_429_with_retry_after(device_rate, device_a, device_client_for):
    kiosk = device_client_for(device_a)
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        allowed = [kiosk.get(ME).status_code for _ in range(3)]
        throttled = kiosk.get(ME)

    assert allowed == [200, 200, 200]
    assert throttled.status_code == 429
    assert throttled.json()["type"] == "client_error"
    assert [(e["code"], e["attr"]) for e in throttled.json()["errors"]] == [("throttled", None)]
    assert throttled["Retry-After"] == "60"


def test_the_rate_is_counted_per_device(device_rate, device_a, device_b, device_client_for):
    busy, other = device_client_for(device_a), device_client_for(device_b)
    for _ in range(4):
        busy.get(ME)

    assert busy.get(ME).status_code == 429
    assert other.get(ME).status_code == 200


def test_a_throttled_device_is_served_again_once_the_window_passes(device_rate, device_a, device_client_for):
    kiosk = device_client_for(device_a)
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        for _ in range(4):
            kiosk.get(ME)
        traveller.shift(timedelta(seconds=30))
        still = kiosk.get(ME)
        traveller.shift(timedelta(seconds=31))
        again = kiosk.get(ME)

    assert (still.status_code, still["Retry-After"]) == (429, "30")
    assert again.status_code == 200


def test_check_ins_count_against_the_same_device_rate(device_rate, device_a, employee_a, device_client_for):
    kiosk = device_client_for(device_a)
    for _ in range(3):
        kiosk.get(ME)

    response = kiosk.post(
        "/api/attendance/device/check-in/",
        {"employee_code": employee_a.employee_code, "client_event_id": "kiosk-a-1", "method": "pin"},
        format="json",
    )

    assert response.status_code == 429
    assert not device_a.device.attendance_events.exists()


def test_people_are_not_counted_against_any_device_rate(device_rate, admin_client, device_a):
    statuses = {admin_client.get("/api/attendance/devices/").status_code for _ in range(5)}

    assert statuses == {200}


def test_devices_are_served_when_the_throttle_cannot_reach_redis(device_rate, device_a, device_client_for, settings):
    kiosk = device_client_for(device_a)
    for _ in range(3):
        kiosk.get(ME)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    # The breaker would otherwise skip Redis in this process for the tests after this one.
    settings.REDIS_BREAKER_SECONDS = 0

    assert [kiosk.get(ME).status_code for _ in range(2)] == [200, 200]
