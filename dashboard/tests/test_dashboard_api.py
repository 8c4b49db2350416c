"""The dashboard's REST state: presence today and the 30-day charts, scoped by site."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from tests.factories import EmployeeFactory, ShiftFactory, event_record

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 11:00 in Berlin


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


record = event_record


def test_presence_counts_in_out_late_and_absent(viewer_a_client, site_a, device_a):
    shift = ShiftFactory(site=site_a, start_time=time(9), end_time=time(17), grace_minutes=5)
    on_time, late, left, absent = (EmployeeFactory(site=site_a, shift=shift) for _ in range(4))
    record(device_a.device, on_time, "in", datetime(2026, 3, 10, 7, 58, tzinfo=UTC))
    record(device_a.device, late, "in", datetime(2026, 3, 10, 8, 30, tzinfo=UTC))
    record(device_a.device, left, "in", datetime(2026, 3, 10, 7, 50, tzinfo=UTC))
    record(device_a.device, left, "out", datetime(2026, 3, 10, 9, 0, tzinfo=UTC))

    response = viewer_a_client.get("/api/dashboard/presence/", {"site": site_a.pk})

    assert response.status_code == 200
    body = response.json()
    assert body["date"] == "2026-03-10"
    assert body["counts"] == {"checked_in": 2, "checked_out": 1, "absent": 1, "late": 1, "total": 4}
    states = {row["employee"]: row["state"] for row in body["people"]}
    assert states == {on_time.pk: "in", late.pk: "in", left.pk: "out", absent.pk: "absent"}


def test_charts_cover_thirty_days_and_late_arrivals_by_department(admin_client, site_a, device_a):
    shift = ShiftFactory(site=site_a, start_time=time(9), end_time=time(17), grace_minutes=0)
    employee = EmployeeFactory(site=site_a, shift=shift)
    for days_ago in (1, 2, 3):
        record(device_a.device, employee, "in", NOW - timedelta(days=days_ago, hours=1, minutes=-20))

    body = admin_client.get("/api/dashboard/charts/", {"site": site_a.pk}).json()

    assert len(body["days"]) == 30
    assert body["days"][-1]["date"] == "2026-03-10"
    assert [day["present"] for day in body["days"][-4:-1]] == [1, 1, 1]
    assert employee.department is not None
    assert body["late_by_department"] == [{"department": employee.department.name, "late": 3}]


@pytest.mark.parametrize("path", ["/api/dashboard/presence/", "/api/dashboard/charts/"])
def test_another_sites_dashboard_is_a_404(viewer_a_client, site_b, path):
    assert viewer_a_client.get(path, {"site": site_b.pk}).status_code == 404


@pytest.mark.parametrize("params", [{}, {"site": "x"}, {"site": 0}])
def test_missing_or_bad_site_is_a_400(viewer_a_client, params):
    assert viewer_a_client.get("/api/dashboard/presence/", params).status_code == 400


def test_dashboard_api_needs_a_person(client, device_a_client, site_a):
    assert client.get("/api/dashboard/presence/", {"site": site_a.pk}).status_code == 401
    assert device_a_client.get("/api/dashboard/presence/", {"site": site_a.pk}).status_code == 401
