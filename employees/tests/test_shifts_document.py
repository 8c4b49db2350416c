"""Shift times are the site's wall-clock times, documented as such.

The document said "format: time", an RFC 3339 time that needs an offset, so every
shift the API returned ("09:00:00") broke its own schema.
"""

from attendance_site.testing.openapi import assert_documented


def test_shift_times_are_documented_as_the_wall_clock_times_returned(admin_client, site_a):
    body = {"site": site_a.pk, "name": "Early", "start_time": "06:30", "end_time": "14:30:00"}

    created = admin_client.post("/api/employees/shifts/", body, format="json")
    listed = admin_client.get("/api/employees/shifts/")

    assert (created.json()["start_time"], created.json()["end_time"]) == ("06:30:00", "14:30:00")
    assert_documented(created, operation="POST /api/employees/shifts/")
    assert_documented(listed, operation="GET /api/employees/shifts/")
