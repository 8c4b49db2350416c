"""Rule sets and mode selection: who may edit, what is refused, what devices are told."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from accounts.models import AuditLogEntry
from attendance.models import AttendanceEvent
from attendance_site.registry import registry
from environment import services
from environment.models import RuleSet
from environment.rules import RuleSetInvalid, modes_select, rules_validate

RULE_SETS = "/api/environment/rule-sets/"
READINGS = "/api/environment/device/readings/"
MODES_URL = "/api/environment/device-modes/modes/"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

RULES: dict[str, Any] = {
    "modes": [
        {"mode": "face", "when": {"light_lux": {"min": 100}, "camera_available": True}},
        {"mode": "voice", "when": {"noise_db": {"max": 60}}},
        {"mode": "pin", "when": {}},
    ],
    "hysteresis": {"light_lux": 20},
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def report(client, minutes_ago=0, lux=300.0, noise=40.0, camera=True):
    return client.post(
        READINGS,
        {
            "recorded_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
            "light": {"value": lux, "unit": "lux"},
            "noise": {"value": noise, "unit": "dB"},
            "camera_available": camera,
        },
        format="json",
    )


@pytest.fixture
def active_rules(site_a, admin_user):
    rule_set = services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)
    return services.rule_set_activate(actor=admin_user, rule_set=rule_set)


def test_admin_creates_a_draft_and_activates_it_audited(admin_a_client, site_a, admin_a):
    draft = admin_a_client.post(RULE_SETS, {"site": site_a.pk, "rules": RULES, "note": "v1"}, format="json")
    activated = admin_a_client.post(f"{RULE_SETS}{draft.json()['id']}/activate/")
    second = admin_a_client.post(RULE_SETS, {"site": site_a.pk, "rules": RULES}, format="json")
    admin_a_client.post(f"{RULE_SETS}{second.json()['id']}/activate/")

    assert draft.status_code == 201, draft.json()
    assert (draft.json()["version"], draft.json()["status"]) == (1, "draft")
    assert activated.json()["status"] == "active"
    assert second.json()["version"] == 2
    assert list(RuleSet.objects.order_by("version").values_list("status", flat=True)) == ["retired", "active"]
    assert AuditLogEntry.objects.filter(reason="Rule set activated", actor=admin_a).count() == 2


def test_viewer_reads_rule_sets_but_cannot_edit_them(viewer_a_client, active_rules, site_a):
    assert viewer_a_client.get(RULE_SETS).status_code == 200
    assert viewer_a_client.post(RULE_SETS, {"site": site_a.pk, "rules": RULES}, format="json").status_code == 403
    assert viewer_a_client.post(f"{RULE_SETS}{active_rules.pk}/activate/").status_code == 403
    assert RuleSet.objects.count() == 1


def test_only_all_sites_admins_edit_the_default(admin_a_client, admin_client):
    assert admin_a_client.post(RULE_SETS, {"site": None, "rules": RULES}, format="json").status_code == 403
    assert admin_client.post(RULE_SETS, {"site": None, "rules": RULES}, format="json").status_code == 201


def test_active_rule_sets_are_not_edited_in_place(admin_client, active_rules):
    response = admin_client.patch(f"{RULE_SETS}{active_rules.pk}/", {"note": "x"}, format="json")

    assert response.status_code == 400


def test_site_b_rule_set_is_invisible_to_site_a(admin_a_client, site_b, admin_user):
    theirs = services.rule_set_create(actor=admin_user, site=site_b, rules=RULES)

    assert admin_a_client.get(f"{RULE_SETS}{theirs.pk}/").status_code == 404
    assert admin_a_client.post(RULE_SETS, {"site": site_b.pk, "rules": RULES}, format="json").status_code == 400


@pytest.mark.parametrize(
    "rules, problem",
    [
        ({"modes": []}, "non-empty"),
        ({"modes": [{"mode": "face", "when": {"light_lux": {"min": 50}}}]}, "Incomplete"),
        (
            {"modes": [{"mode": "face", "when": {"light_lux": {"min": 300, "max": 100}}}, {"mode": "pin"}]},
            "contradiction",
        ),
        ({"modes": [{"mode": "retina", "when": {}}]}, "unknown mode"),
        ({"modes": [{"mode": "pin", "when": {}}, {"mode": "pin", "when": {}}]}, "twice"),
        ({"modes": [{"mode": "face", "when": {"humidity": {"max": 3}}}, {"mode": "pin"}]}, "unknown condition"),
        ({"modes": [{"mode": "pin", "when": {}}], "hysteresis": {"light_lux": -1}}, ">= 0"),
    ],
    ids=["empty", "gap", "contradiction", "unknown-mode", "duplicate", "unknown-condition", "negative-hysteresis"],
)
def test_contradictory_or_incomplete_rule_sets_are_refused(admin_client, site_a, rules, problem):
    response = admin_client.post(RULE_SETS, {"site": site_a.pk, "rules": rules}, format="json")

    assert response.status_code == 400
    assert problem in response.content.decode()
    assert not RuleSet.objects.exists()


@pytest.mark.parametrize("mode", [["face"], {"name": "face"}], ids=["list", "object"])
def test_rule_set_whose_mode_is_not_a_name_is_refused(admin_client, site_a, mode):
    rules = {"modes": [{"mode": mode, "when": {}}, {"mode": "pin", "when": {}}]}

    response = admin_client.post(RULE_SETS, {"site": site_a.pk, "rules": rules}, format="json")

    assert response.status_code == 400
    assert "unknown mode" in response.content.decode()
    assert not RuleSet.objects.exists()


def test_device_is_told_its_modes_with_reasons(device_a_client, active_rules):
    report(device_a_client, lux=40)

    body = device_a_client.get(MODES_URL).json()

    assert body["allowed_modes"] == ["voice", "pin"]
    face = next(decision for decision in body["decisions"] if decision["mode"] == "face")
    assert face["allowed"] is False
    assert "light_lux 40 < 100" in face["reason"]


def test_without_any_rule_set_every_mode_is_allowed(device_a_client):
    body = device_a_client.get(MODES_URL).json()

    every_mode = list(registry.checkin_methods.modes())  # a plugin's included
    assert every_mode[:5] == ["face_liveness", "face", "voice", "qr", "pin"]
    assert body == {"allowed_modes": every_mode, "decisions": [], "rule_set": None, "reading_at": None}


def test_hysteresis_keeps_a_mode_near_its_threshold(device_a_client, active_rules):
    report(device_a_client, minutes_ago=3, lux=150)
    assert "face" in device_a_client.get(MODES_URL).json()["allowed_modes"]

    report(device_a_client, minutes_ago=2, lux=90)  # below 100 but within the 20 lux margin
    still = device_a_client.get(MODES_URL).json()["allowed_modes"]
    report(device_a_client, minutes_ago=1, lux=70)  # beyond the margin
    dropped = device_a_client.get(MODES_URL).json()["allowed_modes"]
    report(device_a_client, minutes_ago=0, lux=110)  # back above 100 but not by the margin: strict again
    back = device_a_client.get(MODES_URL).json()["allowed_modes"]

    assert "face" in still
    assert "face" not in dropped
    assert "face" in back


def test_check_in_with_a_method_the_conditions_forbid_is_refused(device_a_client, device_a, employee_a, active_rules):
    report(device_a_client, lux=40, noise=80)

    refused = device_a_client.post(
        "/api/attendance/device/check-in/",
        {"employee": employee_a.pk, "client_event_id": "dark-1", "method": "face"},
        format="json",
    )
    allowed = device_a_client.post(
        "/api/attendance/device/check-in/",
        {"employee": employee_a.pk, "client_event_id": "dark-2", "method": "pin"},
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "method_not_allowed"
    assert "light_lux 40 < 100" in refused.json()["errors"][0]["detail"]
    assert allowed.status_code == 201
    assert list(AttendanceEvent.objects.values_list("method", flat=True)) == ["pin"]


def test_activation_recomputes_device_modes_at_once(
    device_a_client, site_a, admin_user, django_capture_on_commit_callbacks
):
    report(device_a_client, lux=40)
    rule_set = services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_set_activate(actor=admin_user, rule_set=rule_set)

    from environment.models import DeviceModeState

    assert DeviceModeState.objects.get().allowed_modes == ["voice", "pin"]


def test_dry_run_shows_what_a_draft_would_decide(admin_client, site_a, admin_user):
    draft = services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)

    decisions = admin_client.post(
        f"{RULE_SETS}{draft.pk}/dry-run/", {"conditions": {"light_lux": 20, "noise_db": 30}}, format="json"
    ).json()

    assert [(d["mode"], d["allowed"]) for d in decisions] == [("face", False), ("voice", True), ("pin", True)]


def test_rules_module_validates_and_selects_without_the_database():
    rules_validate(RULES, modes=registry.checkin_methods.modes())
    with pytest.raises(RuleSetInvalid):
        rules_validate(
            {"modes": [{"mode": "face", "when": {"camera_available": "yes"}}]}, modes=registry.checkin_methods.modes()
        )
    decisions = modes_select(RULES, {"light_lux": 500, "camera_available": False, "noise_db": 10})
    assert [d.allowed for d in decisions] == [False, True, True]


def test_people_see_each_devices_modes_in_their_scope(device_a_client, viewer_a_client, active_rules, device_a):
    report(device_a_client, lux=40)

    states = viewer_a_client.get("/api/environment/conditions/modes/").json()

    assert [(state["device"], state["allowed_modes"]) for state in states] == [(device_a.device.pk, ["voice", "pin"])]


def test_dry_run_over_the_last_days_says_what_would_have_changed(
    admin_client, device_a_client, active_rules, site_a, admin_user
):
    for minutes_ago, lux in ((50, 500), (40, 250), (30, 120), (20, 80)):
        report(device_a_client, minutes_ago=minutes_ago, lux=lux)
    stricter = {**RULES, "modes": [{"mode": "face", "when": {"light_lux": {"min": 200}}}, *RULES["modes"][1:]]}
    draft = services.rule_set_create(actor=admin_user, site=site_a, rules=stricter)

    replay = admin_client.post(f"{RULE_SETS}{draft.pk}/dry-run/", {"days": 1}, format="json").json()

    assert replay["active_rule_set"] == active_rules.pk
    assert replay["readings"] == 4
    # 500 and 250 lux: face under both; 120 lux: face only under the current (min 100); 80: within
    # the current rule's hysteresis margin, so still face there, never under the draft.
    assert replay["readings_decided_differently"] == 2
    [device] = replay["devices"]
    assert device["allowed"]["face"] == {"draft": 0.5, "current": 1.0}


def test_dry_run_replays_only_the_readings_of_the_last_days(
    admin_client, device_a_client, active_rules, site_a, admin_user
):
    for minutes_ago in (30, 2 * 24 * 60, 4 * 24 * 60):
        report(device_a_client, minutes_ago=minutes_ago, lux=500)
    draft = services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)

    one_day = admin_client.post(f"{RULE_SETS}{draft.pk}/dry-run/", {"days": 1}, format="json").json()
    three_days = admin_client.post(f"{RULE_SETS}{draft.pk}/dry-run/", {"days": 3}, format="json").json()

    assert (one_day["readings"], three_days["readings"]) == (1, 2)


def test_replaying_the_default_rule_set_is_refused_since_it_spans_many_sites(admin_client, admin_user):
    default = services.rule_set_create(actor=admin_user, site=None, rules=RULES)

    response = admin_client.post(f"{RULE_SETS}{default.pk}/dry-run/", {"days": 1}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "days"
    assert "site's rule set" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("body", [{}, {"days": 0}, {"days": 400}, {"days": 1, "conditions": {}}])
def test_bad_dry_run_requests_are_a_400(admin_client, active_rules, body):
    assert admin_client.post(f"{RULE_SETS}{active_rules.pk}/dry-run/", body, format="json").status_code == 400


def test_site_admin_cannot_change_or_activate_the_default(admin_a_client, admin_user, site_a, site_b):
    default = services.rule_set_create(actor=admin_user, site=None, rules=RULES)
    own = services.rule_set_create(actor=admin_user, site=site_a, rules=RULES)

    assert admin_a_client.patch(f"{RULE_SETS}{default.pk}/", {"note": "x"}, format="json").status_code in (403, 404)
    assert admin_a_client.post(f"{RULE_SETS}{default.pk}/activate/").status_code in (403, 404)
    assert admin_a_client.patch(f"{RULE_SETS}{own.pk}/", {"site": None}, format="json").status_code == 400
    default.refresh_from_db()
    assert default.status == "draft"


def test_dry_run_conditions_must_be_typed(admin_client, active_rules):
    for conditions in ({"light_lux": "abc"}, {"humidity": 3}, {"camera_available": 1}):
        response = admin_client.post(
            f"{RULE_SETS}{active_rules.pk}/dry-run/", {"conditions": conditions}, format="json"
        )
        assert response.status_code == 400


def test_a_device_that_has_sent_no_reading_may_use_only_the_unconditional_modes_whatever_the_path(
    device_a_client, device_a, employee_a, active_rules
):
    from biometrics.models import QrTokenUse
    from biometrics.services.qr import qr_token_issue
    from environment.models import DeviceModeState

    def check_in(url, event_id, **body):
        return device_a_client.post(url, {"client_event_id": event_id, **body}, format="json")

    refused = [
        check_in("/api/attendance/device/check-in/", "new-voice", employee=employee_a.pk, method="voice"),
        check_in("/api/attendance/device/check-in/", "new-face", employee=employee_a.pk, method="face"),
        check_in("/api/biometrics/device/face-check/", "new-face-2", direction="in", image="aW1hZ2U="),
        check_in(
            "/api/biometrics/device/qr-check/",
            "new-qr",
            direction="in",
            token=qr_token_issue(employee=employee_a).token,
        ),
    ]
    allowed = check_in("/api/attendance/device/check-in/", "new-pin", employee=employee_a.pk, method="pin")
    states_written_by_check_ins = DeviceModeState.objects.count()
    modes = device_a_client.get(MODES_URL).json()

    assert [response.status_code for response in refused] == [400, 400, 400, 400]
    assert {response.json()["errors"][0]["code"] for response in refused} == {"method_not_allowed"}
    assert "no light_lux reading" in refused[1].json()["errors"][0]["detail"]
    assert allowed.status_code == 201
    assert list(AttendanceEvent.objects.values_list("method", flat=True)) == ["pin"]
    assert not QrTokenUse.objects.exists()
    assert states_written_by_check_ins == 0
    # What the refusals were decided by is what the device is told once it asks.
    assert modes["allowed_modes"] == ["pin"]
    assert DeviceModeState.objects.get().reading_at is None


def test_a_new_device_follows_its_conditions_from_its_first_reading(device_a_client, employee_a, active_rules):
    report(device_a_client, lux=300, noise=40)

    voice = device_a_client.post(
        "/api/attendance/device/check-in/",
        {"employee": employee_a.pk, "client_event_id": "first-voice", "method": "voice"},
        format="json",
    )

    assert voice.status_code == 201, voice.json()
