"""A device checks the holder of a card in and out, through the one door every check-in takes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from attendance.models import AttendanceEvent
from attendance_site.events.models import DomainEvent
from plugins.badges.models import Badge
from plugins.badges.tests.conftest import BADGES_URL, CARD_A, CARD_B, CHECK_IN_URL, CHECK_OUT_URL


def nothing_stored() -> bool:
    attendance_events = DomainEvent.objects.filter(type__startswith="attendance.")
    return not AttendanceEvent.objects.exists() and not attendance_events.exists()


def error_codes(response) -> dict[str, str]:
    return {error["attr"]: error["code"] for error in response.json()["errors"]}


def test_badge_check_in_is_stored_with_method_badge_and_listed(device_a_client, badge_a, employee_a, admin_a_client):
    response = device_a_client.post(CHECK_IN_URL, {"card_uid": "04 a2 3b 1c 5d 6e 80", "client_event_id": "c-1"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "created"
    assert body["event"]["employee"] == employee_a.pk
    assert body["event"]["method"] == "badge"
    assert body["event"]["direction"] == "in"
    listed = admin_a_client.get("/api/attendance/events/").json()["results"]
    assert [(event["id"], event["method"]) for event in listed] == [(body["event"]["id"], "badge")]
    badge_a.refresh_from_db()
    assert badge_a.last_used_at is not None


def test_badge_check_in_shows_the_employee_in_on_the_dashboard(device_a_client, badge_a, employee_a, viewer_a_client):
    device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    presence = viewer_a_client.get(f"/api/dashboard/presence/?site={employee_a.site_id}").json()

    assert presence["counts"]["checked_in"] == 1
    assert [row["state"] for row in presence["people"] if row["employee"] == employee_a.pk] == ["in"]


def test_badge_check_in_reaches_the_live_feed_handler(device_a_client, badge_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    event = DomainEvent.objects.get(type="attendance.event_recorded")
    assert event.payload["method"] == "badge"
    assert event.dispatched_at is not None
    assert "dashboard.live" in set(event.deliveries.values_list("handler", flat=True))


def test_badge_check_out_closes_the_check_in(device_a_client, badge_a):
    check_in_at = timezone.now() - timedelta(hours=8)
    device_a_client.post(
        CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1", "occurred_at": check_in_at.isoformat()}
    )

    response = device_a_client.post(CHECK_OUT_URL, {"card_uid": CARD_A, "client_event_id": "c-2"})

    assert response.status_code == 201
    event = response.json()["event"]
    assert (event["direction"], event["status"], event["method"]) == ("out", "accepted", "badge")


def test_badge_check_in_replay_answers_with_the_original(device_a_client, badge_a):
    first = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})
    replay = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    assert replay.status_code == 200
    assert replay.json()["outcome"] == "replayed"
    assert replay.json()["event"]["id"] == first.json()["event"]["id"]
    assert AttendanceEvent.objects.count() == 1


def test_second_badge_check_in_within_the_window_is_a_duplicate(device_a_client, badge_a):
    device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})
    again = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-2"})

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert AttendanceEvent.objects.count() == 1


def test_replay_of_a_check_in_is_answered_after_the_badge_was_revoked(device_a_client, badge_a, admin_a_client):
    first = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})
    admin_a_client.post(f"{BADGES_URL}{badge_a.pk}/revoke/")

    replay = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    assert replay.status_code == 200
    assert replay.json()["event"]["id"] == first.json()["event"]["id"]


def test_badge_check_in_refused_for_an_unknown_card(device_a_client, badge_a):
    response = device_a_client.post(CHECK_IN_URL, {"card_uid": "DEADBEEF", "client_event_id": "c-1"})

    assert response.status_code == 400
    assert error_codes(response) == {"card_uid": "unknown_card"}
    assert nothing_stored()


def test_badge_check_in_refused_for_a_revoked_card(device_a_client, badge_a, admin_a_client):
    admin_a_client.post(f"{BADGES_URL}{badge_a.pk}/revoke/")

    response = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    assert response.status_code == 400
    assert error_codes(response) == {"card_uid": "revoked_card"}
    assert nothing_stored()
    badge_a.refresh_from_db()
    assert badge_a.last_used_at is None


def test_badge_check_in_refused_for_a_card_of_another_sites_employee(device_a_client, badge_b):
    response = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_B, "client_event_id": "c-1"})

    assert response.status_code == 400
    assert error_codes(response) == {"card_uid": "other_site"}
    assert nothing_stored()


def test_badge_check_in_refused_for_a_deactivated_employee(device_a_client, badge_a, employee_a):
    employee_a.is_active = False
    employee_a.save()

    response = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    assert response.status_code == 400
    assert nothing_stored()


def test_refused_badge_check_in_does_not_log_the_card_uid(device_a_client, badge_b, caplog):
    with caplog.at_level("DEBUG"):
        device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_B, "client_event_id": "c-1"})
        device_a_client.post(CHECK_IN_URL, {"card_uid": "DEADBEEF00", "client_event_id": "c-2"})

    assert "…7766" in caplog.text
    assert CARD_B not in caplog.text
    assert "DEADBEEF00" not in caplog.text


def test_badge_check_in_needs_a_device_credential(admin_a_client, badge_a):
    response = admin_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    assert response.status_code in (401, 403)
    assert nothing_stored()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_event_id": "c-1"}, "card_uid"),
        ({"card_uid": CARD_A}, "client_event_id"),
        ({"card_uid": 4711, "client_event_id": "c-1"}, "card_uid"),
        ({"card_uid": {"uid": CARD_A}, "client_event_id": "c-1"}, "card_uid"),
        ({"card_uid": "F" * 100_000, "client_event_id": "c-1"}, "card_uid"),
        ({"card_uid": "ZZ" * 8, "client_event_id": "c-1"}, "card_uid"),
        ({"card_uid": CARD_A, "client_event_id": "c" * 65}, "client_event_id"),
        ({"card_uid": CARD_A, "client_event_id": "c-1", "occurred_at": "2026-01-01T08:00:00"}, "occurred_at"),
        ({"card_uid": CARD_A, "client_event_id": "c-1", "occurred_at": "1999-01-01T08:00:00Z"}, "occurred_at"),
        ({"card_uid": CARD_A, "client_event_id": "c-1", "occurred_at": "2999-01-01T08:00:00Z"}, "occurred_at"),
        ({"card_uid": CARD_A, "client_event_id": "c-1", "employee": 1}, "employee"),
    ],
)
def test_badge_check_in_refuses_bad_input_and_stores_nothing(device_a_client, badge_a, body, field):
    response = device_a_client.post(CHECK_IN_URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in error_codes(response)
    assert nothing_stored()


def test_badge_check_in_refuses_malformed_json(device_a_client, badge_a):
    response = device_a_client.generic("POST", CHECK_IN_URL, '{"card_uid": "04', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert nothing_stored()


def test_badge_check_in_refuses_a_body_that_is_not_an_object(device_a_client, badge_a):
    response = device_a_client.post(CHECK_IN_URL, [CARD_A], format="json")

    assert response.status_code == 400
    assert nothing_stored()
    assert Badge.objects.get(pk=badge_a.pk).last_used_at is None
