"""The attendance log for people: scoped lists, filters, cursor pages, manual entry."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLogEntry
from attendance.models import AttendanceEvent
from tests.factories import EmployeeFactory, event_record

EVENTS = "/api/attendance/events/"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def record(device, employee, occurred_at, direction="in", method="pin"):
    return event_record(device, employee, direction, occurred_at, method=method)


def test_viewer_sees_only_events_of_their_site(viewer_a_client, device_a, device_b, employee_a, employee_b):
    mine = record(device_a.device, employee_a, NOW - timedelta(hours=1))
    record(device_b.device, employee_b, NOW - timedelta(hours=1))

    response = viewer_a_client.get(EVENTS)

    assert response.status_code == 200
    assert [event["id"] for event in response.json()["results"]] == [mine.pk]


def test_event_of_another_site_is_a_404(viewer_a_client, device_b, employee_b):
    theirs = record(device_b.device, employee_b, NOW - timedelta(hours=1))

    assert viewer_a_client.get(f"{EVENTS}{theirs.pk}/").status_code == 404


def test_filtering_by_another_sites_id_returns_nothing_of_it(viewer_a_client, site_b, device_b, employee_b):
    record(device_b.device, employee_b, NOW - timedelta(hours=1))

    response = viewer_a_client.get(EVENTS, {"site": site_b.pk})

    assert response.status_code == 400
    assert "site" in {error["attr"] for error in response.json()["errors"]}


def test_date_range_is_read_in_the_sites_timezone(admin_client, device_a, employee_a):
    # Berlin is UTC+1 in March: 23:30 UTC on the 8th is already the 9th locally.
    late_evening_utc = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    record(device_a.device, employee_a, late_evening_utc)
    record(device_a.device, employee_a, datetime(2026, 3, 8, 12, 0, tzinfo=UTC))

    response = admin_client.get(EVENTS, {"date_from": "2026-03-09", "date_to": "2026-03-09"})

    assert [event["occurred_at"] for event in response.json()["results"]] == ["2026-03-08T23:30:00Z"]


@pytest.mark.parametrize(
    "params, expected_methods",
    [
        ({"method": "qr"}, ["qr"]),
        ({"direction": "out"}, ["pin"]),
        ({"status": "flagged"}, ["pin"]),
    ],
)
def test_filters_narrow_the_list(admin_client, device_a, employee_a, params, expected_methods):
    record(device_a.device, employee_a, NOW - timedelta(hours=5), method="qr")
    record(device_a.device, employee_a, NOW - timedelta(hours=20), direction="out")  # nothing open: flagged

    response = admin_client.get(EVENTS, params)

    assert [event["method"] for event in response.json()["results"]] == expected_methods


def test_filter_by_department_and_employee(admin_client, device_a, site_a):
    first, second = EmployeeFactory(site=site_a), EmployeeFactory(site=site_a)
    record(device_a.device, first, NOW - timedelta(hours=3))
    record(device_a.device, second, NOW - timedelta(hours=2))

    by_department = admin_client.get(EVENTS, {"department": first.department_id}).json()["results"]
    by_employee = admin_client.get(EVENTS, {"employee": second.pk}).json()["results"]

    assert [event["employee"] for event in by_department] == [first.pk]
    assert [event["employee"] for event in by_employee] == [second.pk]


def test_bad_filter_values_are_a_400(admin_client):
    assert admin_client.get(EVENTS, {"date_from": "not-a-date"}).status_code == 400
    assert admin_client.get(EVENTS, {"method": "retina"}).status_code == 400
    assert admin_client.get(EVENTS, {"date_from": "2026-03-10", "date_to": "2026-03-01"}).status_code == 400
    assert admin_client.get(EVENTS, {"cursor": "garbage"}).status_code == 404


def test_cursor_pages_walk_the_log_newest_first_with_constant_queries(admin_client, device_a, site_a):
    employees = [EmployeeFactory(site=site_a) for _ in range(5)]
    for hour in range(1, 26):
        record(device_a.device, employees[hour % 5], NOW - timedelta(hours=hour * 3))

    with CaptureQueriesContext(connection) as first_queries:
        first = admin_client.get(EVENTS, {"page_size": 10}).json()
    with CaptureQueriesContext(connection) as next_queries:
        second = admin_client.get(first["next"]).json()
    third = admin_client.get(second["next"]).json()

    times = [event["occurred_at"] for page in (first, second, third) for event in page["results"]]
    assert len(times) == 25
    assert times == sorted(times, reverse=True)
    assert third["next"] is None
    assert len(first_queries) == len(next_queries) <= 6


def test_ordering_oldest_first(admin_client, device_a, employee_a):
    record(device_a.device, employee_a, NOW - timedelta(hours=5))
    record(device_a.device, employee_a, NOW - timedelta(hours=1))

    results = admin_client.get(EVENTS, {"ordering": "occurred_at"}).json()["results"]

    assert results[0]["occurred_at"] < results[1]["occurred_at"]


def test_admin_enters_attendance_by_hand_with_a_reason_and_it_is_audited(admin_a_client, admin_a, employee_a):
    response = admin_a_client.post(
        EVENTS,
        {
            "employee": employee_a.pk,
            "direction": "in",
            "occurred_at": "2026-03-10T08:00:00+01:00",
            "reason": "Kiosk was down",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    event = AttendanceEvent.objects.get()
    assert event.method == "manual"
    assert event.recorded_by == admin_a
    entry = AuditLogEntry.objects.get(action="manual_entry")
    assert entry.actor == admin_a
    assert entry.reason == "Kiosk was down"
    assert entry.site_id == employee_a.site_id


def test_manual_entry_without_reason_is_refused(admin_client, employee_a):
    response = admin_client.post(
        EVENTS,
        {"employee": employee_a.pk, "direction": "in", "occurred_at": "2026-03-10T08:00:00+01:00", "reason": "  "},
        format="json",
    )

    assert response.status_code == 400
    assert AttendanceEvent.objects.count() == 0


def test_viewer_cannot_enter_attendance(viewer_a_client, employee_a):
    response = viewer_a_client.post(
        EVENTS,
        {"employee": employee_a.pk, "direction": "in", "occurred_at": "2026-03-10T08:00:00+01:00", "reason": "x"},
        format="json",
    )

    assert response.status_code == 403
    assert AttendanceEvent.objects.count() == 0


def test_admin_of_site_a_cannot_enter_attendance_for_site_b(admin_a_client, employee_b):
    response = admin_a_client.post(
        EVENTS,
        {"employee": employee_b.pk, "direction": "in", "occurred_at": "2026-03-10T08:00:00+01:00", "reason": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert AttendanceEvent.objects.count() == 0


def test_events_cannot_be_edited_or_deleted(admin_client, device_a, employee_a):
    event = record(device_a.device, employee_a, NOW - timedelta(hours=1))

    assert admin_client.patch(f"{EVENTS}{event.pk}/", {"direction": "out"}).status_code == 405
    assert admin_client.delete(f"{EVENTS}{event.pk}/").status_code == 405


def test_anonymous_gets_401(client):
    assert client.get(EVENTS).status_code == 401


@pytest.mark.parametrize("params", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}])
def test_dates_out_of_range_are_a_400_not_a_crash(admin_client, params):
    assert admin_client.get(EVENTS, params).status_code == 400
    assert (
        admin_client.get(
            "/api/attendance/daily-summaries/", {"date_from": "0001-01-01", "date_to": "0001-01-02"}
        ).status_code
        == 400
    )


def test_huge_ids_in_summary_filters_are_a_400(admin_client):
    params = {"date_from": "2026-03-01", "date_to": "2026-03-02", "employee": "9" * 30}

    assert admin_client.get("/api/attendance/daily-summaries/", params).status_code == 400
