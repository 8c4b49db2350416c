"""Exact query counts of a face check-in's database part (the model itself runs no query).

The site's gallery is cached per process: the first check-in at a site loads it, the
ones after it do not, and both counts are fixed.
"""

import io
from datetime import UTC, datetime

import pytest
import time_machine

from attendance_site.testing.queries import assert_database_query_count
from biometrics.tests.conftest import photo

FACE_CHECK = "/api/biometrics/device/face-check/"
NOW = datetime(2026, 3, 10, 7, 55, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    # The device's last-seen time is written at most once a minute: a fixed clock keeps
    # that write in or out of the count for good.
    with time_machine.travel(NOW, tick=False):
        yield


def face_check(client, image: bytes, client_event_id: str, direction: str = "in"):
    body = {"image": io.BytesIO(image), "direction": direction, "client_event_id": client_event_id}
    return client.post(FACE_CHECK, body, format="multipart")


def test_first_face_check_in_at_a_site_runs_a_fixed_number_of_queries(device_a_client, obama, biden):
    # Those of the next test, plus the device's last-seen time, the site's rule set and
    # its face gallery.
    with assert_database_query_count(14):
        response = face_check(device_a_client, photo("obama_04.jpg"), "face-1")

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["employee"] == obama.pk


def test_face_check_in_with_the_gallery_cached_runs_a_fixed_number_of_queries(device_a_client, obama, biden):
    face_check(device_a_client, photo("biden_02.jpg"), "face-0", direction="out")

    # The device; a replay of this client event id, answered before any model work; the
    # site's policy; the identified employee; then recording as for a PIN check-in
    # (savepoint, row lock, replay or duplicate, event, work session, domain event).
    with assert_database_query_count(11):
        response = face_check(device_a_client, photo("obama_04.jpg"), "face-1")

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["employee"] == obama.pk
