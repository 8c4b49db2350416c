"""Device check-in and check-out through the HTTP API: the rules of recording."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from attendance.models import AttendanceEvent, WorkSession
from tests.factories import EmployeeFactory, ShiftFactory

CHECK_IN = "/api/attendance/device/check-in/"
CHECK_OUT = "/api/attendance/device/check-out/"
NOW = datetime(2026, 3, 10, 7, 55, tzinfo=UTC)


def check(client, url, employee, client_event_id, occurred_at=None, **extra):
    body = {"employee": employee.pk, "client_event_id": client_event_id, "method": "pin", **extra}
    if occurred_at is not None:
        body["occurred_at"] = occurred_at.isoformat()
    return client.post(url, body, format="json")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_check_in_is_stored_and_opens_a_work_session(device_a_client, employee_a, device_a):
    response = check(device_a_client, CHECK_IN, employee_a, "evt-1")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "created"
    assert body["event"]["direction"] == "in"
    assert body["event"]["status"] == "accepted"
    assert body["event"]["device"] == device_a.device.pk
    assert body["event"]["occurred_at"] == "2026-03-10T07:55:00Z"
    session = WorkSession.objects.get(employee=employee_a)
    assert session.ended_at is None
    assert str(session.work_date) == "2026-03-10"


def test_same_client_event_id_returns_the_original_event_without_a_second_row(device_a_client, employee_a):
    first = check(device_a_client, CHECK_IN, employee_a, "evt-1")
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        retry = check(device_a_client, CHECK_IN, employee_a, "evt-1")

    assert retry.status_code == 200
    assert retry.json()["outcome"] == "replayed"
    assert retry.json()["event"]["id"] == first.json()["event"]["id"]
    assert AttendanceEvent.objects.count() == 1


def test_second_check_in_within_duplicate_window_is_answered_as_duplicate(device_a_client, employee_a):
    first = check(device_a_client, CHECK_IN, employee_a, "evt-1")
    with time_machine.travel(NOW + timedelta(seconds=90), tick=False):
        second = check(device_a_client, CHECK_IN, employee_a, "evt-2")

    assert second.status_code == 200
    assert second.json()["outcome"] == "duplicate"
    assert second.json()["event"]["id"] == first.json()["event"]["id"]
    assert AttendanceEvent.objects.count() == 1


def test_check_in_after_the_duplicate_window_is_a_new_event(device_a_client, employee_a):
    check(device_a_client, CHECK_IN, employee_a, "evt-1")
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        later = check(device_a_client, CHECK_IN, employee_a, "evt-2")

    assert later.status_code == 201
    assert AttendanceEvent.objects.count() == 2


def test_check_out_closes_the_open_session(device_a_client, employee_a):
    check(device_a_client, CHECK_IN, employee_a, "evt-1", occurred_at=NOW - timedelta(hours=8))
    response = check(device_a_client, CHECK_OUT, employee_a, "evt-2")

    assert response.status_code == 201
    assert response.json()["event"]["status"] == "accepted"
    session = WorkSession.objects.get(employee=employee_a)
    assert session.duration == timedelta(hours=8)


def test_check_out_without_open_check_in_is_flagged(device_a_client, employee_a):
    response = check(device_a_client, CHECK_OUT, employee_a, "evt-1")

    assert response.status_code == 201
    event = response.json()["event"]
    assert event["status"] == "flagged"
    assert "without an open check-in" in event["reason"]


def test_check_out_after_a_closed_session_is_flagged(device_a_client, employee_a):
    check(device_a_client, CHECK_IN, employee_a, "evt-1", occurred_at=NOW - timedelta(hours=8))
    check(device_a_client, CHECK_OUT, employee_a, "evt-2", occurred_at=NOW - timedelta(hours=1))
    again = check(device_a_client, CHECK_OUT, employee_a, "evt-3")

    assert again.json()["event"]["status"] == "flagged"


def test_night_shift_check_out_after_midnight_pairs_with_the_evening_check_in(device_a_client, site_a):
    night = ShiftFactory(site=site_a, start_time="22:00", end_time="06:00")
    employee = EmployeeFactory(site=site_a, shift=night)
    # Berlin is UTC+1 in March: 22:03 local on the 9th, 06:10 local on the 10th.
    evening = datetime(2026, 3, 9, 21, 3, tzinfo=UTC)
    morning = datetime(2026, 3, 10, 5, 10, tzinfo=UTC)

    check(device_a_client, CHECK_IN, employee, "n-1", occurred_at=evening)
    out = check(device_a_client, CHECK_OUT, employee, "n-2", occurred_at=morning)

    assert out.json()["event"]["status"] == "accepted"
    session = WorkSession.objects.get(employee=employee)
    assert str(session.work_date) == "2026-03-09"
    assert session.duration == timedelta(hours=8, minutes=7)


def test_employee_code_identifies_the_employee(device_a_client, employee_a):
    response = device_a_client.post(
        CHECK_IN,
        {"employee_code": employee_a.employee_code, "client_event_id": "c-1", "method": "pin"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["event"]["employee"] == employee_a.pk


def test_device_identifies_itself(device_a_client, device_a):
    response = device_a_client.get("/api/attendance/device/me/")

    assert response.status_code == 200
    assert response.json()["id"] == device_a.device.pk
    assert response.json()["last_seen_at"] is not None
