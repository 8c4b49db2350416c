"""Each domain event type: written exactly when its change commits, then delivered to its handlers.

The changes go through the HTTP API where one exists; the live channel's messages are
read from the real Channels layer, as a dashboard's socket would receive them.
"""

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLogEntry
from attendance.models import AttendanceEvent
from attendance.services import attendance_event_manual_create, attendance_event_record
from attendance_site.events.handlers import DeliveredEvent, EventHandler
from attendance_site.events.models import DomainEvent, DomainEventDelivery
from attendance_site.events.types import ATTENDANCE_EVENT_RECORDED, ConditionValues
from attendance_site.live.publisher import site_group_name
from attendance_site.registry import registry
from attendance_site.testing.registry import registered
from employees.models import Employee
from employees.services import employee_create, employee_remove, employee_update
from environment.models import READING_FIELDS
from environment.services import ReadingInput, condition_readings_record, rule_set_activate, rule_set_create
from streaming.models import CameraHostAllowance, CameraStream
from streaming.services import camera_stream_run, camera_stream_stop

EVENTS = "/api/attendance/events/"
CHECK_IN = "/api/attendance/device/check-in/"
EMPLOYEES = "/api/employees/employees/"
READINGS = "/api/environment/device/readings/"
STREAMS = "/api/streams/"

NEW_TYPES = {
    "attendance.event_corrected",
    "employee.created",
    "employee.updated",
    "employee.deactivated",
    "environment.reading_recorded",
    "environment.mode_changed",
    "stream.status_changed",
}
RULES = {"modes": [{"mode": "face", "when": {"light_lux": {"min": 100}}}, {"mode": "pin", "when": {}}]}


def events(event_type: str) -> list[DomainEvent]:
    return list(DomainEvent.objects.filter(type=event_type).order_by("id"))


def payloads(event_type: str) -> list[dict[str, Any]]:
    return [event.payload for event in events(event_type)]


def reading(lux: float, seconds_ago: int = 0) -> dict[str, Any]:
    recorded_at = timezone.now() - timedelta(seconds=seconds_ago)
    return {"recorded_at": recorded_at.isoformat(), "light": {"value": lux, "unit": "lux"}}


@pytest.fixture
def live_channel(site_a) -> Iterator[Any]:
    """A socket's view of site A's live channel: a function that returns the next message."""
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(site_group_name(site_a.pk), channel)

    async def receive() -> dict[str, Any]:
        return (await asyncio.wait_for(layer.receive(channel), timeout=5))["message"]

    yield lambda: async_to_sync(receive)()
    async_to_sync(layer.group_discard)(site_group_name(site_a.pk), channel)


@pytest.fixture
def site_a_rules(site_a, admin_user) -> None:
    rule_set_activate(actor=admin_user, rule_set=rule_set_create(actor=admin_user, site=site_a, rules=RULES))


def test_employee_changes_through_the_api_are_events_once_committed(
    admin_a_client, site_a, device_a, django_capture_on_commit_callbacks
):
    body = {"employee_code": "E-7", "first_name": "Grace", "last_name": "Hopper", "site": site_a.pk}
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_a_client.post(EMPLOYEES, body, format="json").json()
        url = f"{EMPLOYEES}{created['id']}/"
        admin_a_client.patch(url, {"last_name": "Hopper-Murray", "email": "grace@example.com"}, format="json")
        admin_a_client.patch(url, {"last_name": "Hopper-Murray"}, format="json")  # changes nothing
        admin_a_client.patch(url, {"is_active": False}, format="json")

    employee_payload = {
        "employee_id": created["id"],
        "employee_code": "E-7",
        "site_id": site_a.pk,
        "department_id": None,
        "shift_id": None,
    }
    assert payloads("employee.created") == [{**employee_payload, "is_active": True}]
    assert payloads("employee.updated") == [
        {**employee_payload, "is_active": True, "changed_fields": ["email", "last_name"]},
        {**employee_payload, "is_active": False, "changed_fields": ["is_active"]},
    ]
    assert payloads("employee.deactivated") == [{**employee_payload, "is_active": False}]
    assert all(event.site_id == site_a.pk and event.dispatched_at is not None for event in DomainEvent.objects.all())


def test_employee_changes_in_the_admin_are_audited_once_and_the_same_events(client, admin_a, site_a):
    client.force_login(admin_a)
    form = {
        "employee_code": "E-11",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "",
        "site": site_a.pk,
        "department": "",
        "shift": "",
        "is_active": "on",
        "hire_date": "",
        "external_ids": "{}",
    }

    added = client.post("/admin/employees/employee/add/", form)
    employee = Employee.objects.get(employee_code="E-11")
    changed = client.post(f"/admin/employees/employee/{employee.pk}/change/", {**form, "is_active": ""})

    assert (added.status_code, changed.status_code) == (302, 302)
    assert [payload["employee_id"] for payload in payloads("employee.created")] == [employee.pk]
    assert [payload["changed_fields"] for payload in payloads("employee.updated")] == [["is_active"]]
    assert [payload["employee_id"] for payload in payloads("employee.deactivated")] == [employee.pk]
    audited = AuditLogEntry.objects.filter(object_id=str(employee.pk), content_type__model="employee")
    assert sorted(audited.values_list("action", flat=True)) == ["create", "update"]


def test_removing_an_employee_with_attendance_is_a_deactivation_and_without_none(
    admin_a_client, admin_user, employee_a, device_a, site_a
):
    spare = employee_create(
        actor=admin_user, fields={"employee_code": "E-8", "first_name": "A", "last_name": "B", "site": site_a}
    )
    attendance_event_record(
        employee=employee_a, direction="in", method="pin", device=device_a.device, client_event_id="x"
    )

    assert admin_a_client.delete(f"{EMPLOYEES}{employee_a.pk}/").status_code == 200  # deactivated
    assert admin_a_client.delete(f"{EMPLOYEES}{spare.pk}/").status_code == 204

    assert [payload["employee_id"] for payload in payloads("employee.deactivated")] == [employee_a.pk]


def test_refused_employee_changes_leave_no_event(admin_a_client, viewer_a_client, employee_a, site_a):
    duplicate = {"employee_code": employee_a.employee_code, "first_name": "A", "last_name": "B", "site": site_a.pk}

    assert admin_a_client.post(EMPLOYEES, duplicate, format="json").status_code == 400
    assert viewer_a_client.patch(f"{EMPLOYEES}{employee_a.pk}/", {"is_active": False}, format="json").status_code == 403
    assert not DomainEvent.objects.exists()


def test_a_manual_entry_is_a_correction_naming_its_admin_and_reason(
    admin_a_client, admin_a, employee_a, device_a_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = admin_a_client.post(
            EVENTS,
            {
                "employee": employee_a.pk,
                "direction": "in",
                "occurred_at": "2026-03-10T08:00:00+01:00",
                "reason": "Kiosk down",
            },
            format="json",
        )
        device_a_client.post(
            CHECK_IN, {"employee": employee_a.pk, "client_event_id": "c-1", "method": "pin"}, format="json"
        )

    assert entry.status_code == 201, entry.json()
    manual = AttendanceEvent.objects.get(method="manual")
    assert payloads("attendance.event_corrected") == [
        {
            "attendance_event_id": manual.pk,
            "employee_id": employee_a.pk,
            "site_id": employee_a.site_id,
            "correction": "manual_entry",
            "direction": "in",
            "occurred_at": "2026-03-10T07:00:00+00:00",
            "actor_id": admin_a.pk,
            "reason": "Kiosk down",
        }
    ]
    # Both entries are recorded attendance; only the admin's is a correction.
    assert len(events("attendance.event_recorded")) == 2


def test_readings_and_mode_changes_are_events_the_live_channel_publishes_in_order(
    device_a_client, device_a, site_a, site_a_rules, live_channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        device_a_client.post(
            READINGS, {"readings": [reading(300, seconds_ago=5), reading(40, seconds_ago=10)]}, format="json"
        )
        device_a_client.post(READINGS, reading(310), format="json")  # the same modes: no change

    first, second = payloads("environment.reading_recorded")
    assert (first["device_id"], first["site_id"], first["readings"], second["readings"]) == (
        device_a.device.pk,
        site_a.pk,
        2,
        1,
    )
    assert first["values"]["light_lux"] == 300.0 and first["values"]["noise_db"] is None
    (changed,) = payloads("environment.mode_changed")
    assert (changed["previous_modes"], changed["allowed_modes"]) == ([], ["face", "pin"])
    messages = [live_channel() for _ in range(3)]
    # Oldest first: the reading was written before the mode change it caused.
    assert [message["type"] for message in messages] == [
        "environment.reading",
        "environment.mode_change",
        "environment.reading",
    ]
    assert messages[0]["data"]["light_lux"] == 300.0 and messages[0]["data"]["device"] == device_a.device.pk
    assert messages[1]["data"]["allowed_modes"] == ["face", "pin"]
    assert messages[1]["sequence"] + 1 == messages[2]["sequence"]


def test_a_reading_events_values_are_every_measurement_a_reading_has():
    assert set(ConditionValues.__annotations__) == set(READING_FIELDS)


@pytest.fixture
def camera(site_a, admin_user) -> CameraStream:
    CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")
    return CameraStream.objects.create(
        site=site_a,
        name="Lobby",
        url_without_credentials="rtsp://10.20.1.7/s",
        run_token="run-1",
        created_by=admin_user,
    )


def test_an_admin_stopping_a_stream_is_a_status_change_the_live_channel_shows(
    admin_a_client, camera, live_channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_a_client.post(f"{STREAMS}{camera.pk}/stop/")

    assert response.status_code == 200, response.json()
    assert payloads("stream.status_changed") == [
        {
            "stream_id": camera.pk,
            "site_id": camera.site_id,
            "state": "stopped",
            "previous_state": "starting",
            "last_error": "",
        }
    ]
    message = live_channel()
    assert (message["type"], message["data"]["stream"], message["data"]["state"]) == (
        "stream.status",
        camera.pk,
        "stopped",
    )


def test_a_pipeline_that_fails_reports_one_status_change(
    camera, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.STREAMS_ROOT = str(tmp_path)
    # Only a row written behind the API's back can hold such a URL: the pipeline refuses it.
    CameraStream.objects.filter(pk=camera.pk).update(url_without_credentials="http://10.20.1.7/s")

    with django_capture_on_commit_callbacks(execute=True):
        camera_stream_run(stream_id=camera.pk, run_token="run-1")

    (changed,) = payloads("stream.status_changed")
    assert (changed["previous_state"], changed["state"]) == ("starting", "failed")
    assert CameraStream.objects.get(pk=camera.pk).state == "failed"


def test_changes_rolled_back_leave_none_of_their_events(site_a, admin_user, employee_a, device_a, camera, site_a_rules):
    DomainEvent.objects.all().delete()  # the fixtures' own
    with pytest.raises(RuntimeError, match="rolled back"), transaction.atomic():
        fields = {"employee_code": "E-9", "first_name": "A", "last_name": "B", "site": site_a}
        created = employee_create(actor=admin_user, fields=fields)
        employee_update(actor=admin_user, employee=created, fields={"last_name": "C"})
        attendance_event_manual_create(
            actor=admin_user, employee=employee_a, direction="in", occurred_at=timezone.now(), reason="Forgot"
        )
        employee_remove(actor=admin_user, employee=employee_a)
        condition_readings_record(
            device=device_a.device, readings=[ReadingInput(recorded_at=timezone.now(), values={"light_lux": 500.0})]
        )
        camera_stream_stop(actor=admin_user, stream=camera)
        # Not vacuous: inside the transaction every new type was written.
        assert NEW_TYPES <= set(DomainEvent.objects.values_list("type", flat=True))
        raise RuntimeError("rolled back")

    assert not DomainEvent.objects.exists()
    assert not DomainEventDelivery.objects.exists()


def test_a_failing_handler_neither_blocks_the_live_feed_nor_the_check_in(
    device_a_client, employee_a, django_capture_on_commit_callbacks
):
    def broken(event: DeliveredEvent) -> None:
        raise ConnectionError("HR system unreachable")

    handler = EventHandler(name="test.broken", event_types=frozenset({ATTENDANCE_EVENT_RECORDED.name}), handle=broken)
    with registered(registry.event_handlers, handler), django_capture_on_commit_callbacks(execute=True):
        response = device_a_client.post(
            CHECK_IN, {"employee": employee_a.pk, "client_event_id": "c-2", "method": "pin"}, format="json"
        )

    assert response.status_code == 201, response.json()
    (event,) = events("attendance.event_recorded")
    assert list(event.deliveries.values_list("handler", flat=True)) == ["dashboard.live"]
    assert (event.dispatched_at, event.attempts) == (None, 1)  # the sweeper retries test.broken alone
    assert "test.broken: ConnectionError: HR system unreachable" in event.last_error
    assert event.next_attempt_at is not None and event.next_attempt_at > timezone.now() + timedelta(seconds=1)
