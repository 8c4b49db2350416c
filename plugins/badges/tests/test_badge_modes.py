"""Environment rule sets allow or forbid the badge mode like any built-in method's."""

import pytest

from attendance.models import AttendanceEvent
from environment import services as environment_services
from plugins.badges.tests.conftest import CARD_A, CHECK_IN_URL

RULE_SETS_URL = "/api/environment/rule-sets/"


@pytest.fixture
def rules_in_force(admin_a, site_a):
    def activate(modes: list[str]) -> None:
        rules = {"modes": [{"mode": mode, "when": {}} for mode in modes]}
        rule_set = environment_services.rule_set_create(actor=admin_a, site=site_a, rules=rules)
        environment_services.rule_set_activate(actor=admin_a, rule_set=rule_set)

    return activate


def test_badge_check_in_refused_where_the_rule_set_leaves_badges_out(rules_in_force, device_a_client, badge_a):
    rules_in_force(["pin"])

    response = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "method_not_allowed"
    assert not AttendanceEvent.objects.exists()


def test_badge_check_in_allowed_where_the_rule_set_lists_badge(rules_in_force, device_a_client, badge_a):
    rules_in_force(["pin", "badge"])

    response = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    assert response.status_code == 201


def test_a_rule_set_may_name_the_badge_mode_through_the_api(admin_a_client, site_a):
    response = admin_a_client.post(
        RULE_SETS_URL, {"site": site_a.pk, "rules": {"modes": [{"mode": "badge", "when": {}}]}}, format="json"
    )

    assert response.status_code == 201, response.json()


def test_badge_events_can_be_filtered_by_their_method(admin_a_client, device_a_client, badge_a):
    device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})

    response = admin_a_client.get("/api/attendance/events/?method=badge")

    assert response.status_code == 200, response.json()
    assert [event["method"] for event in response.json()["results"]] == ["badge"]
