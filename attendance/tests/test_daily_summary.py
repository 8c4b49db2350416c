"""Daily summaries: first in, last out, worked time, late and early against the shift."""

from datetime import UTC, datetime, time

import pytest
import time_machine

from tests.factories import EmployeeFactory, ShiftFactory, event_record

SUMMARIES = "/api/attendance/daily-summaries/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2026, 3, 12, 12, 0, tzinfo=UTC), tick=False):
        yield


record = event_record


def test_day_shift_summary_with_lunch_break_and_late_arrival(admin_client, device_a, site_a):
    day = ShiftFactory(site=site_a, start_time=time(9), end_time=time(17), grace_minutes=5)
    employee = EmployeeFactory(site=site_a, shift=day)
    # Berlin (UTC+1): in 09:20, lunch 12:00-12:30, out 16:50.
    record(device_a.device, employee, "in", datetime(2026, 3, 10, 8, 20, tzinfo=UTC))
    record(device_a.device, employee, "out", datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    record(device_a.device, employee, "in", datetime(2026, 3, 10, 11, 30, tzinfo=UTC))
    record(device_a.device, employee, "out", datetime(2026, 3, 10, 15, 50, tzinfo=UTC))

    response = admin_client.get(SUMMARIES, {"date_from": "2026-03-10", "date_to": "2026-03-10"})

    assert response.status_code == 200
    [summary] = response.json()["results"]
    assert summary["employee"] == employee.pk
    assert summary["first_in"] == "2026-03-10T08:20:00Z"
    assert summary["last_out"] == "2026-03-10T15:50:00Z"
    assert summary["worked"] == "07:00:00"
    assert summary["late_by"] == "00:20:00"
    assert summary["left_early_by"] == "00:10:00"
    assert summary["open_sessions"] == 0


def test_arrival_within_grace_is_not_late(admin_client, device_a, site_a):
    day = ShiftFactory(site=site_a, start_time=time(9), end_time=time(17), grace_minutes=5)
    employee = EmployeeFactory(site=site_a, shift=day)
    record(device_a.device, employee, "in", datetime(2026, 3, 10, 8, 4, tzinfo=UTC))

    [summary] = admin_client.get(SUMMARIES, {"date_from": "2026-03-10", "date_to": "2026-03-10"}).json()["results"]

    assert summary["late_by"] == "00:00:00"
    assert summary["open_sessions"] == 1
    assert summary["worked"] == "00:00:00"


def test_night_shift_counts_once_on_the_day_it_started(admin_client, device_a, site_a):
    night = ShiftFactory(site=site_a, start_time=time(22), end_time=time(6), grace_minutes=10)
    employee = EmployeeFactory(site=site_a, shift=night)
    record(device_a.device, employee, "in", datetime(2026, 3, 10, 20, 55, tzinfo=UTC))  # 21:55 local
    record(device_a.device, employee, "out", datetime(2026, 3, 11, 5, 0, tzinfo=UTC))  # 06:00 local, next day

    results = admin_client.get(SUMMARIES, {"date_from": "2026-03-10", "date_to": "2026-03-11"}).json()["results"]

    assert [(r["work_date"], r["worked"], r["late_by"], r["left_early_by"]) for r in results] == [
        ("2026-03-10", "08:05:00", "00:00:00", "00:00:00")
    ]


def test_summaries_are_scoped_to_the_viewers_sites(viewer_a_client, device_b, employee_b):
    record(device_b.device, employee_b, "in", datetime(2026, 3, 10, 13, 0, tzinfo=UTC))

    results = viewer_a_client.get(SUMMARIES, {"date_from": "2026-03-10", "date_to": "2026-03-10"}).json()["results"]

    assert results == []


@pytest.mark.parametrize("name", ["site", "department", "employee"])
def test_filtering_by_another_sites_id_is_a_400_like_every_other_filter(viewer_a_client, device_b, employee_b, name):
    record(device_b.device, employee_b, "in", datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
    other_site_ids = {"site": employee_b.site_id, "department": employee_b.department_id, "employee": employee_b.pk}
    params = {"date_from": "2026-03-10", "date_to": "2026-03-10", name: other_site_ids[name]}

    summaries = viewer_a_client.get(SUMMARIES, params)
    events = viewer_a_client.get("/api/attendance/events/", {name: other_site_ids[name]})

    assert (summaries.status_code, events.status_code) == (400, 400)
    assert summaries.json()["errors"][0]["attr"] == name


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"date_from": "2026-03-10"},
        {"date_from": "2026-03-10", "date_to": "2026-03-01"},
        {"date_from": "2026-01-01", "date_to": "2026-12-31"},
        {"date_from": "yesterday", "date_to": "2026-03-01"},
        {"date_from": "2026-03-01", "date_to": "2026-03-02", "site": "abc"},
    ],
)
def test_bad_summary_queries_are_a_400(admin_client, params):
    assert admin_client.get(SUMMARIES, params).status_code == 400


def test_no_summary_without_check_ins(admin_client, employee_a):
    assert admin_client.get(SUMMARIES, {"date_from": "2026-03-10", "date_to": "2026-03-11"}).json()["results"] == []


def test_summaries_for_many_employees_take_constant_queries(
    admin_client, device_a, site_a, django_assert_max_num_queries
):
    shift = ShiftFactory(site=site_a)
    for index in range(12):
        employee = EmployeeFactory(site=site_a, shift=shift)
        record(device_a.device, employee, "in", datetime(2026, 3, 10, 8, index, tzinfo=UTC))
        record(device_a.device, employee, "out", datetime(2026, 3, 10, 16, index, tzinfo=UTC))

    with django_assert_max_num_queries(6):
        response = admin_client.get(SUMMARIES, {"date_from": "2026-03-10", "date_to": "2026-03-10"})

    assert len(response.json()["results"]) == 12
    assert response.json()["results"][0]["worked"] == "08:00:00"
