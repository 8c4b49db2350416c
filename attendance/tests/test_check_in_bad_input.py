"""Bad input to the device endpoints: a clear 4xx in the API's error format, nothing stored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import AttendanceEvent, WorkSession
from attendance.services import device_revoke

CHECK_IN = "/api/attendance/device/check-in/"


@pytest.fixture
def nothing_stored():
    yield
    assert AttendanceEvent.objects.count() == 0
    assert WorkSession.objects.count() == 0


def error_attrs(response) -> set:
    body = response.json()
    assert body["type"] in {"validation_error", "client_error"}, body
    return {error["attr"] for error in body["errors"]}


def test_malformed_json_is_a_400(device_a_client, nothing_stored):
    response = device_a_client.post(CHECK_IN, data='{"employee": 1,', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


@pytest.mark.parametrize(
    "field, value",
    [
        ("employee", "not-a-number"),
        ("employee", [1]),
        ("confidence", "high"),
        ("confidence", 1.5),
        ("liveness_score", -0.1),
        ("method", "retina"),
        ("method", "manual"),
        ("source", "carrier-pigeon"),
        ("client_event_id", "x" * 65),
        ("occurred_at", "yesterday"),
    ],
)
def test_wrong_types_are_a_400_naming_the_field(device_a_client, employee_a, field, value, nothing_stored):
    body = {"employee": employee_a.pk, "client_event_id": "e-1", "method": "pin", field: value}

    response = device_a_client.post(CHECK_IN, body, format="json")

    assert response.status_code == 400
    assert field in error_attrs(response)


def test_missing_client_event_id_is_a_400(device_a_client, employee_a, nothing_stored):
    response = device_a_client.post(CHECK_IN, {"employee": employee_a.pk, "method": "pin"}, format="json")

    assert response.status_code == 400
    assert "client_event_id" in error_attrs(response)


def test_unknown_employee_is_a_400(device_a_client, nothing_stored):
    response = device_a_client.post(CHECK_IN, {"employee": 999999, "client_event_id": "e", "method": "pin"})

    assert response.status_code == 400
    assert "employee" in error_attrs(response)


def test_unknown_employee_code_is_a_400(device_a_client, nothing_stored):
    response = device_a_client.post(CHECK_IN, {"employee_code": "NOPE", "client_event_id": "e", "method": "pin"})

    assert response.status_code == 400
    assert "employee_code" in error_attrs(response)


def test_employee_of_another_site_is_refused(device_a_client, employee_b, nothing_stored):
    response = device_a_client.post(CHECK_IN, {"employee": employee_b.pk, "client_event_id": "e", "method": "pin"})

    assert response.status_code == 400
    assert "employee" in error_attrs(response)


def test_inactive_employee_is_refused(device_a_client, employee_a, nothing_stored):
    employee_a.is_active = False
    employee_a.save()

    response = device_a_client.post(CHECK_IN, {"employee": employee_a.pk, "client_event_id": "e", "method": "pin"})

    assert response.status_code == 400


def test_naive_datetime_is_refused(device_a_client, employee_a, nothing_stored):
    body = {"employee": employee_a.pk, "client_event_id": "e", "method": "pin", "occurred_at": "2026-03-10T08:00:00"}

    response = device_a_client.post(CHECK_IN, body, format="json")

    assert response.status_code == 400
    assert "occurred_at" in error_attrs(response)
    assert "timezone" in response.json()["errors"][0]["detail"]


def test_occurred_at_far_in_the_future_is_refused(device_a_client, employee_a, nothing_stored):
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    body = {"employee": employee_a.pk, "client_event_id": "e", "method": "pin", "occurred_at": future}

    response = device_a_client.post(CHECK_IN, body, format="json")

    assert response.status_code == 400
    assert "occurred_at" in error_attrs(response)


def test_huge_payload_is_a_413(device_a_client, employee_a, nothing_stored):
    padding = "x" * 3_000_000
    body = f'{{"employee": {employee_a.pk}, "client_event_id": "e", "method": "pin", "pad": "{padding}"}}'

    response = device_a_client.post(CHECK_IN, data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "request_too_large"


def test_unknown_device_credential_is_a_401(client, employee_a, nothing_stored):
    response = client.post(
        CHECK_IN,
        {"employee": employee_a.pk, "client_event_id": "e", "method": "pin"},
        HTTP_AUTHORIZATION="Device dev_000000000000_forged",
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_revoked_device_credential_is_a_401(device_a, device_a_client, employee_a, admin_user, nothing_stored):
    device_revoke(actor=admin_user, device=device_a.device)

    response = device_a_client.post(CHECK_IN, {"employee": employee_a.pk, "client_event_id": "e", "method": "pin"})

    assert response.status_code == 401


def test_a_person_token_cannot_check_in(admin_client, employee_a, nothing_stored):
    response = admin_client.post(CHECK_IN, {"employee": employee_a.pk, "client_event_id": "e", "method": "pin"})

    assert response.status_code == 401


def test_a_device_cannot_read_the_people_api(device_a_client):
    assert device_a_client.get("/api/attendance/events/").status_code == 401
    assert device_a_client.get("/api/employees/employees/").status_code == 401


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+00:00", "1999-12-31T23:59:59+00:00"])
def test_occurred_at_before_2000_is_refused_not_a_crash(device_a_client, employee_a, occurred_at, nothing_stored):
    body = {"employee": employee_a.pk, "client_event_id": "e", "method": "pin", "occurred_at": occurred_at}

    for url in (CHECK_IN, "/api/attendance/device/check-out/"):
        response = device_a_client.post(url, body, format="json")
        assert response.status_code == 400
        assert "occurred_at" in error_attrs(response)


def test_deeply_nested_json_is_a_400(client):
    response = client.post("/api/auth/token/", data="[" * 100_000 + "]" * 100_000, content_type="application/json")

    assert response.status_code == 400
