"""Conditions and dry runs answer lists where lists are due, as the OpenAPI document says.

The document called current conditions and device modes pages of results, history one
reading and a dry run a free-form object: none of them was what a client received.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from attendance_site.testing.openapi import assert_documented
from environment import services

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RULES = {
    "modes": [
        {"mode": "face", "when": {"light_lux": {"min": 100}, "camera_available": True}},
        {"mode": "pin", "when": {}},
    ],
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def reported(device_a_client):
    for minutes_ago, lux in ((90, 400.0), (30, 60.0)):
        response = device_a_client.post(
            "/api/environment/device/readings/",
            {
                "recorded_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
                "light": {"value": lux, "unit": "lux"},
                "camera_available": True,
            },
            format="json",
        )
        assert response.status_code == 201, response.json()


def test_current_conditions_are_a_plain_list_as_documented(viewer_a_client, reported, site_a):
    response = viewer_a_client.get("/api/environment/conditions/current/", {"site": site_a.pk})

    assert isinstance(response.json(), list) and len(response.json()) == 1
    assert_documented(response, operation="GET /api/environment/conditions/current/")


@pytest.mark.parametrize("bucket", [None, "hour"])
def test_condition_history_rows_raw_or_averaged_are_as_documented(viewer_a_client, reported, bucket):
    response = viewer_a_client.get("/api/environment/conditions/history/", {"bucket": bucket} if bucket else {})

    rows = response.json()
    assert isinstance(rows, list) and len(rows) == 2
    assert ("period" in rows[0]) == (bucket is not None)
    assert_documented(response, operation="GET /api/environment/conditions/history/")


@pytest.fixture
def active_rules(admin_user, site_a):
    services.rule_set_activate(
        actor=admin_user, rule_set=services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)
    )


def test_device_modes_are_a_plain_list_as_documented(viewer_a_client, active_rules, reported):
    response = viewer_a_client.get("/api/environment/conditions/modes/")

    assert isinstance(response.json(), list) and len(response.json()) == 1
    assert_documented(response, operation="GET /api/environment/conditions/modes/")


@pytest.mark.parametrize("body", [{"conditions": {"light_lux": 40}}, {"days": 1}], ids=["decisions", "replay"])
def test_dry_run_decisions_or_replay_are_as_documented(admin_client, reported, admin_user, site_a, body):
    draft = services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)

    response = admin_client.post(f"/api/environment/rule-sets/{draft.pk}/dry-run/", body, format="json")

    assert response.status_code == 200, response.json()
    assert isinstance(response.json(), list if "conditions" in body else dict)
    assert_documented(response, operation="POST /api/environment/rule-sets/{id}/dry-run/")
