"""Exact query counts of a device asking which modes it may use.

Each measured request follows one like it, so the site's rule set is in the process cache.
"""

from datetime import UTC, datetime

import pytest
import time_machine

from attendance_site.testing.queries import assert_database_query_count
from environment import services

MODES = "/api/environment/device-modes/modes/"
READINGS = "/api/environment/device/readings/"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RULES = {"modes": [{"mode": "face", "when": {"light_lux": {"min": 100}}}, {"mode": "pin", "when": {}}]}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def light_report(client) -> None:
    reading = {"recorded_at": NOW.isoformat(), "light": {"value": 320, "unit": "lux"}}
    assert client.post(READINGS, reading, format="json").status_code == 201


def test_device_modes_without_a_rule_set_run_one_query(device_a_client):
    light_report(device_a_client)
    device_a_client.get(MODES)

    # The device's authentication loads its mode state: nothing is left to read.
    with assert_database_query_count(1):
        response = device_a_client.get(MODES)

    assert response.status_code == 200
    assert response.json()["rule_set"] is None


def test_device_modes_under_a_rule_set_run_one_query(device_a_client, site_a, admin_user):
    rule_set = services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)
    services.rule_set_activate(actor=admin_user, rule_set=rule_set)
    light_report(device_a_client)
    device_a_client.get(MODES)

    with assert_database_query_count(1):
        response = device_a_client.get(MODES)

    assert response.status_code == 200
    assert response.json()["allowed_modes"] == ["face", "pin"]
