"""Exact query counts on attendance's hot paths: a device check-in, its replay, the event list.

Each measured request follows one like it, so the per-process caches (the site's rule
set, Django's content types) are warm, as they are for every request but a process's
first. A count that changes prints every statement (attendance_site.testing.queries).
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from attendance_site.testing.queries import assert_database_query_count
from tests.factories import EmployeeFactory, event_record

CHECK_IN = "/api/attendance/device/check-in/"
EVENTS = "/api/attendance/events/"
NOW = datetime(2026, 3, 10, 7, 55, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def pin_check_in(client, employee, client_event_id):
    body = {"employee": employee.pk, "client_event_id": client_event_id, "method": "pin"}
    return client.post(CHECK_IN, body, format="json")


def test_pin_check_in_runs_a_fixed_number_of_queries(device_a_client, site_a, employee_a):
    pin_check_in(device_a_client, EmployeeFactory(site=site_a), "evt-0")

    # The device with its site and mode state; the employee with their site; the
    # employee's row lock; replay and duplicate found in one query; the event, the work
    # session and the domain event written; the savepoint around them.
    with assert_database_query_count(9):
        response = pin_check_in(device_a_client, employee_a, "evt-1")

    assert response.status_code == 201, response.json()


def test_replayed_pin_check_in_runs_a_fixed_number_of_queries(device_a_client, employee_a):
    pin_check_in(device_a_client, employee_a, "evt-1")

    # The same as a check-in up to the replay's discovery, and nothing after it: the
    # answer shows the employee the request already loaded.
    with assert_database_query_count(6):
        response = pin_check_in(device_a_client, employee_a, "evt-1")

    assert response.status_code == 200
    assert response.json()["outcome"] == "replayed"


@pytest.mark.parametrize("people", [1, 4])
def test_event_list_page_runs_a_fixed_number_of_queries(viewer_a_client, site_a, device_a, people):
    for number in range(people):
        employee = EmployeeFactory(site=site_a)
        event_record(device_a.device, employee, "in", NOW - timedelta(hours=2, minutes=number))
        event_record(device_a.device, employee, "out", NOW - timedelta(hours=1, minutes=number))
    viewer_a_client.get(EVENTS)

    with assert_database_query_count(6):
        response = viewer_a_client.get(EVENTS)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2 * people
