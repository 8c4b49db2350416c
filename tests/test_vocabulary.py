"""One vocabulary: check-in methods and their modes are declared once, in the registry, and
environment rules, stored events, simulations and recommendations all take them from there.

A method registered here for the length of a test stands for a plugin's.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from attendance.models import AttendanceEvent
from attendance.selectors import attendance_method_choices
from attendance.services import attendance_event_record
from attendance_site.registry import CheckInMethod, SimulatedMode, registry
from attendance_site.testing.registry import registered
from environment.models import RuleSet
from simulations.selectors import synthetic_models
from simulations.services import simulation_run_create

RULE_SETS = "/api/environment/rule-sets/"
MODES_URL = "/api/environment/device-modes/modes/"
RUNS = "/api/simulations/runs/"
WAVE = CheckInMethod(
    key="wave",
    label="Wave",
    fallback=True,
    simulation={"wave": SimulatedMode(share=0.1, ceiling=0.9, fa_base=0, fa_slope=0, fta_slope=0, median_ms=700)},
)


def result_row(method: str, outcome: str = "success") -> dict:
    return {"light_lux": 200.0, "noise_db": 45.0, "method": method, "outcome": outcome, "duration_ms": 800}


# Built-ins come first; an enabled plugin's (the test settings enable some) follow them.
BUILT_IN_MODES = ["face_liveness", "face", "voice", "qr", "pin"]


def test_the_built_in_methods_give_the_modes_fallbacks_and_event_methods():
    methods = registry.checkin_methods.keys()

    assert methods[:4] == ["face", "voice", "qr", "pin"]
    assert list(registry.checkin_methods.modes())[:5] == BUILT_IN_MODES
    assert registry.checkin_methods.fallbacks()[:2] == ("qr", "pin")
    assert [key for key, _ in attendance_method_choices()] == [*methods, "manual", "camera"]
    assert [key for key, _ in attendance_method_choices(manual=False)] == [*methods, "camera"]


def test_synthetic_models_are_the_methods_simulation_figures_in_draw_order():
    models = synthetic_models()

    assert list(models)[:5] == ["face", "face_liveness", "voice", "qr", "pin"]
    assert (models["face_liveness"].light_half_lux, models["voice"].noise_half_db) == (80, 68)
    assert models["pin"].light_half_lux is None and models["pin"].noise_half_db is None


def test_a_rule_set_may_use_a_plugin_methods_mode_only_while_it_is_installed(admin_client, site_a):
    rules = {"modes": [{"mode": "wave", "when": {"camera_available": True}}, {"mode": "pin", "when": {}}]}

    refused = admin_client.post(RULE_SETS, {"site": site_a.pk, "rules": rules}, format="json")
    with registered(registry.checkin_methods, WAVE):
        accepted = admin_client.post(RULE_SETS, {"site": site_a.pk, "rules": rules}, format="json")

    assert refused.status_code == 400
    assert f"unknown mode 'wave'; use one of {', '.join(registry.checkin_methods.modes())}." in refused.content.decode()
    assert accepted.status_code == 201, accepted.json()
    assert RuleSet.objects.count() == 1


def test_a_device_without_rules_may_use_every_installed_mode(device_a_client):
    with registered(registry.checkin_methods, WAVE):
        body = device_a_client.get(MODES_URL).json()

    assert body["allowed_modes"][:5] == BUILT_IN_MODES and body["allowed_modes"][-1] == "wave"


def test_a_plugin_method_is_stored_and_an_unknown_method_refused(employee_a, device_a):
    at_device = {"employee": employee_a, "device": device_a.device}
    with registered(registry.checkin_methods, WAVE):
        stored = attendance_event_record(**at_device, direction="in", method="wave", client_event_id="w-1")
    with pytest.raises(ValidationError, match="'retina' is not an installed check-in method"):
        attendance_event_record(**at_device, direction="out", method="retina", client_event_id="w-2")

    assert stored.event.method == "wave"
    assert list(AttendanceEvent.objects.values_list("method", flat=True)) == ["wave"]


def test_simulations_take_a_plugin_mode_and_recommend_a_plugin_fallback(admin_client, admin_user, site_a):
    rows = [result_row("wave")] * 3 + [result_row("pin")]

    refused = admin_client.post(
        RUNS,
        {"site": site_a.pk, "scenario": "s", "parameters": {}, "generator_version": "t", "results": rows},
        format="json",
    )
    with registered(registry.checkin_methods, WAVE):
        run = simulation_run_create(
            actor=admin_user, site=site_a, scenario="s", parameters={}, generator_version="t", results=rows
        )
        analysis = admin_client.get(f"{RUNS}{run.pk}/analysis/").json()

    assert refused.status_code == 400 and "Unknown method 'wave'" in refused.content.decode()
    fallbacks = [item["method"] for item in analysis["recommendation"]["methods"] if item["status"] == "fallback"]
    assert fallbacks[:2] == ["qr", "pin"] and fallbacks[-1] == "wave"


def test_a_mode_two_methods_provide_is_refused_naming_both():
    retina = CheckInMethod(key="retina", label="Retina", modes=("face",))

    with pytest.raises(ImproperlyConfigured) as refused:
        with registered(registry.checkin_methods, retina):
            pass

    assert str(refused.value) == (
        "registry.checkin_methods: mode 'face' is provided by both 'face' (attendance) and 'retina' (tests)"
    )


def test_a_method_key_that_cannot_be_stored_is_refused():
    with pytest.raises(ImproperlyConfigured, match="must be 1 to 32 letters, digits or underscores"):
        with registered(registry.checkin_methods, CheckInMethod(key="card reader", label="Card")):
            pass
