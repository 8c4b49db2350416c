"""Exact query counts of the dashboard's state: presence, the charts and the page itself.

Each is counted with two sizes of data: the count must not grow with the people or the
events on the page (an N+1 would). Each measured request follows one like it, so the
per-process caches (Django's content types) are warm.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from attendance_site.testing.queries import assert_database_query_count
from tests.factories import EmployeeFactory, ShiftFactory, event_record

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 11:00 in Berlin


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def site_with_people(site, device, people: int) -> None:
    shift = ShiftFactory(site=site, start_time=time(9), end_time=time(17), grace_minutes=5)
    for number in range(people):
        employee = EmployeeFactory(site=site, shift=shift)
        event_record(device.device, employee, "in", NOW - timedelta(hours=2, minutes=number))
        event_record(device.device, employee, "out", NOW - timedelta(days=1, hours=-8, minutes=number))


@pytest.mark.parametrize("people", [1, 4])
def test_presence_runs_a_fixed_number_of_queries(viewer_a_client, site_a, device_a, people):
    site_with_people(site_a, device_a, people)
    viewer_a_client.get("/api/dashboard/presence/", {"site": site_a.pk})

    # The token with its user, the user's groups and permissions (two), the site, the
    # visible sites, the day's work sessions and the site's people.
    with assert_database_query_count(8):
        response = viewer_a_client.get("/api/dashboard/presence/", {"site": site_a.pk})

    assert response.status_code == 200
    assert response.json()["counts"]["total"] == people


@pytest.mark.parametrize("people", [1, 4])
def test_dashboard_charts_run_a_fixed_number_of_queries(viewer_a_client, site_a, device_a, people):
    site_with_people(site_a, device_a, people)
    viewer_a_client.get("/api/dashboard/charts/", {"site": site_a.pk})

    # As presence up to the site, then the 30 days' counts, late arrivals by department,
    # and today's presence for the last day.
    with assert_database_query_count(9):
        response = viewer_a_client.get("/api/dashboard/charts/", {"site": site_a.pk})

    assert response.status_code == 200


def test_dashboard_page_runs_a_fixed_number_of_queries(client, viewer_a, site_a, site_b):
    client.force_login(viewer_a)
    client.get("/dashboard/")

    # The session and its user, the user's groups and permissions (two), the sites for
    # the picker, the visible sites, whether the cameras panel has cameras to show, and
    # the badge plugin's panel (enabled in tests): its sites, active badges per site and
    # today's badge check-ins.
    with assert_database_query_count(11):
        response = client.get("/dashboard/")

    assert response.status_code == 200
