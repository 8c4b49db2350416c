"""The demo data set and the simulated live activity of `make run`."""

import random

from attendance.models import AttendanceEvent, Device
from attendance.services import device_create
from demo.services import DEMO_DEVICE_PREFIX, demo_activity_step, demo_dataset_create
from employees.models import Employee, Site


def test_demo_dataset_has_two_sites_thirty_employees_and_a_week_of_attendance(db):
    dataset = demo_dataset_create(admin_username="demo-admin", admin_password="pw-1-demo", viewer_password="pw-2-demo")

    assert Site.objects.count() == 2
    assert Employee.objects.count() == 30
    assert AttendanceEvent.objects.count() > 200
    assert len(dataset.device_credentials) == 4


def test_demo_activity_alternates_in_and_out_at_demo_devices_only(db, site_a, employee_a, admin_user):
    device_create(actor=admin_user, fields={"site": site_a, "name": "Real kiosk"})
    device_create(actor=admin_user, fields={"site": site_a, "name": f"{DEMO_DEVICE_PREFIX}kiosk"})
    rng = random.Random(1)

    first = demo_activity_step(rng=rng)
    second = demo_activity_step(rng=rng)

    assert first is not None and first.device is not None
    assert second is not None and second.device is not None
    assert (first.direction, second.direction) == ("in", "out")
    assert {first.device.name, second.device.name} == {f"{DEMO_DEVICE_PREFIX}kiosk"}


def test_no_demo_devices_means_no_simulated_activity(db, device_a, employee_a):
    assert demo_activity_step() is None
    assert not AttendanceEvent.objects.exists()
    assert Device.objects.count() == 1


def test_demo_devices_report_conditions_and_check_in_only_with_allowed_methods(db, site_a, employee_a, admin_user):
    from environment.models import ConditionReading, DeviceModeState, RuleSet
    from environment.services import rule_set_activate, rule_set_create

    device_create(actor=admin_user, fields={"site": site_a, "name": f"{DEMO_DEVICE_PREFIX}kiosk"})
    only_pin = {"modes": [{"mode": "face", "when": {"light_lux": {"min": 100000}}}, {"mode": "pin", "when": {}}]}
    rule_set_activate(actor=admin_user, rule_set=rule_set_create(actor=admin_user, site=site_a, rules=only_pin))
    rng = random.Random(3)

    events = [demo_activity_step(rng=rng) for _ in range(4)]

    assert {event.method for event in events if event is not None} == {"pin"}
    assert None not in events
    assert ConditionReading.objects.count() == 4
    assert DeviceModeState.objects.get().allowed_modes == ["pin"]
    assert RuleSet.objects.filter(status="active").count() == 1
