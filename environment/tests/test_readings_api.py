"""Condition readings: devices report with units, people read current state and history."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from attendance.services import device_revoke
from environment.models import ConditionReading
from environment.services import condition_readings_purge

READINGS = "/api/environment/device/readings/"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def reading(minutes_ago=0, **measures):
    return {
        "recorded_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "light": {"value": 320, "unit": "lux"},
        "noise": {"value": 48.5, "unit": "dB"},
        **measures,
    }


def test_device_reports_one_reading_with_units_converted(device_a_client, device_a):
    body = reading(
        temperature={"value": 68, "unit": "F"},
        network={
            "online": True,
            "latency": {"value": 0.12, "unit": "s"},
            "loss": {"value": 1.5, "unit": "%"},
            "bandwidth": {"value": 20, "unit": "Mbps"},
        },
        camera_available=True,
    )

    response = device_a_client.post(READINGS, body, format="json")

    assert response.status_code == 201, response.json()
    stored = ConditionReading.objects.get()
    assert stored.device_id == device_a.device.pk
    assert stored.light_lux == 320 and stored.noise_db == 48.5
    assert stored.temperature_c == pytest.approx(20.0)
    assert stored.network_latency_ms == pytest.approx(120.0)
    assert stored.network_bandwidth_kbps == 20000
    assert stored.camera_available is True and stored.microphone_available is None


def test_batch_of_readings_is_stored_in_one_go(device_a_client):
    response = device_a_client.post(READINGS, {"readings": [reading(m) for m in range(50)]}, format="json")

    assert response.status_code == 201
    assert response.json() == {"stored": 50}
    assert ConditionReading.objects.count() == 50


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"light": {"value": -5, "unit": "lux"}}, "light"),
        ({"light": {"value": "NaN", "unit": "lux"}}, "light"),
        ({"light": {"value": 300}}, "light"),
        ({"light": 300}, "light"),
        ({"noise": {"value": 40, "unit": "furlongs"}}, "noise"),
        ({"network": {"loss": {"value": 140, "unit": "%"}}}, "network"),
        ({"recorded_at": "2026-03-10T12:00:00"}, "recorded_at"),
        ({"recorded_at": (NOW + timedelta(hours=1)).isoformat()}, "readings"),
        ({"recorded_at": "0001-01-01T00:00:00+00:00"}, "readings"),
        ({"recorded_at": "1999-12-31T23:59:59+00:00"}, "readings"),
    ],
    ids=[
        "negative-light",
        "nan-light",
        "missing-unit",
        "no-unit-object",
        "unknown-unit",
        "loss-over-100",
        "naive-time",
        "future",
        "year-1",
        "before-2000",
    ],
)
def test_bad_readings_are_refused_and_the_batch_stores_nothing(device_a_client, bad, field):
    batch = {"readings": [reading(5), {**reading(1), **bad}]}

    response = device_a_client.post(READINGS, batch, format="json")

    assert response.status_code == 400
    assert field in response.content.decode()
    assert not ConditionReading.objects.exists()


@pytest.mark.parametrize("year", ["0001", "1999"])
def test_readings_dated_before_2000_are_refused_like_events_are(device_a_client, employee_a, year):
    stamp = f"{year}-12-31T23:59:59+00:00"

    reading_answer = device_a_client.post(READINGS, {**reading(), "recorded_at": stamp}, format="json")
    event_answer = device_a_client.post(
        "/api/attendance/device/check-in/",
        {"employee": employee_a.pk, "client_event_id": "old", "method": "pin", "occurred_at": stamp},
        format="json",
    )

    assert (reading_answer.status_code, event_answer.status_code) == (400, 400)
    event_reason = event_answer.json()["errors"][0]["detail"]
    assert reading_answer.json()["errors"][0]["detail"] == f"Reading 1: recorded_at: {event_reason}"
    assert not ConditionReading.objects.exists()


@pytest.mark.parametrize(
    "body, attr",
    [
        ({"ligth": {"value": 320, "unit": "lux"}}, "readings.0.ligth"),
        ({"light": {"valeu": 320, "unit": "lux"}}, "readings.0.light.valeu"),
        ({"network": {"online": True, "latencey": {"value": 3, "unit": "ms"}}}, "readings.0.network.latencey"),
    ],
    ids=["top-level", "in-a-measure", "in-network"],
)
def test_misspelled_reading_fields_are_refused_by_name_and_nothing_is_stored(device_a_client, body, attr):
    response = device_a_client.post(READINGS, {**reading(), **body}, format="json")

    assert response.status_code == 400
    assert {"code": "unknown_field", "detail": "Unknown field.", "attr": attr} in response.json()["errors"]
    assert not ConditionReading.objects.exists()


def test_a_misspelled_field_next_to_the_batch_is_refused(device_a_client):
    response = device_a_client.post(READINGS, {"readings": [reading()], "readigns": []}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "unknown_field", "detail": "Unknown field.", "attr": "readigns"}]
    assert not ConditionReading.objects.exists()


def test_nan_literal_in_json_is_a_parse_error(device_a_client):
    body = '{"recorded_at": "2026-03-10T11:00:00+00:00", "light": {"value": NaN, "unit": "lux"}}'

    response = device_a_client.post(READINGS, data=body, content_type="application/json")

    assert response.status_code == 400
    assert not ConditionReading.objects.exists()


def test_a_reading_without_any_measurement_is_refused(device_a_client):
    response = device_a_client.post(READINGS, {"recorded_at": NOW.isoformat()}, format="json")

    assert response.status_code == 400


def test_batch_over_the_limit_is_refused(device_a_client):
    response = device_a_client.post(READINGS, {"readings": [reading(0)] * 1001}, format="json")

    assert response.status_code == 400
    assert not ConditionReading.objects.exists()


def test_revoked_device_cannot_report(device_a, device_a_client, admin_user):
    device_revoke(actor=admin_user, device=device_a.device)

    assert device_a_client.post(READINGS, reading(), format="json").status_code == 401
    assert not ConditionReading.objects.exists()


def test_current_conditions_show_each_devices_newest_reading_in_scope(
    device_a_client, device_b, device_client_for, viewer_a_client, device_a
):
    device_a_client.post(
        READINGS, {"readings": [reading(10), reading(1, light={"value": 5, "unit": "lux"})]}, format="json"
    )
    device_client_for(device_b).post(READINGS, reading(1), format="json")

    current = viewer_a_client.get("/api/environment/conditions/current/").json()

    assert [(row["device"], row["light_lux"]) for row in current] == [(device_a.device.pk, 5.0)]


def test_history_is_filtered_by_time_and_averaged_per_bucket(device_a_client, admin_client, device_a):
    device_a_client.post(
        READINGS,
        {"readings": [reading(m, light={"value": 100 + m, "unit": "lux"}) for m in range(0, 180, 10)]},
        format="json",
    )

    raw = admin_client.get(
        "/api/environment/conditions/history/",
        {"device": device_a.device.pk, "start": (NOW - timedelta(minutes=30)).isoformat()},
    ).json()
    hourly = admin_client.get("/api/environment/conditions/history/", {"bucket": "hour"}).json()

    assert [row["light_lux"] for row in raw] == [130.0, 120.0, 110.0, 100.0]
    assert len(raw) == 4
    assert sum(row["readings"] for row in hourly) == 18
    assert all(row["light_lux_avg"] is not None for row in hourly)


@pytest.mark.parametrize(
    "params",
    [{"bucket": "fortnight"}, {"start": "yesterday"}, {"start": NOW.isoformat(), "end": NOW.isoformat()}],
)
def test_bad_history_queries_are_a_400(admin_client, params):
    assert admin_client.get("/api/environment/conditions/history/", params).status_code == 400


def test_another_sites_device_history_is_refused(viewer_a_client, device_b):
    response = viewer_a_client.get("/api/environment/conditions/history/", {"device": device_b.device.pk})

    assert response.status_code == 400


def test_readings_older_than_the_retention_are_purged(device_a_client, settings):
    settings.ENVIRONMENT_READING_RETENTION_DAYS = 30
    device_a_client.post(READINGS, {"readings": [reading(0), reading(60 * 24 * 31)]}, format="json")

    assert condition_readings_purge() == 1
    assert ConditionReading.objects.count() == 1


def test_a_reading_is_published_to_the_sites_live_channel(device_a_client, site_a, django_capture_on_commit_callbacks):
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from attendance_site.live.publisher import site_group_name

    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(site_group_name(site_a.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        device_a_client.post(READINGS, reading(0, light={"value": 12, "unit": "lux"}), format="json")

    async def receive():
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    message = async_to_sync(receive)()["message"]

    assert message["type"] == "environment.reading"
    assert message["data"]["light_lux"] == 12.0


def test_values_that_overflow_after_unit_conversion_are_refused(device_a_client, admin_client):
    body = reading(network={"latency": {"value": 1e306, "unit": "s"}})

    assert device_a_client.post(READINGS, body, format="json").status_code == 400
    assert admin_client.get("/api/environment/conditions/current/").status_code == 200
    assert not ConditionReading.objects.exists()
