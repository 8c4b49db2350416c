"""The demo data set that `make run` loads into an empty database.

Two sites in different time zones, departments, day and night shifts, ~30 employees,
a kiosk per site, and a week of attendance recorded through the same service devices
use, so sessions, night shifts and late arrivals look as they would in production.
"""

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_create
from attendance.models import AttendanceEvent, Device
from attendance.services import attendance_event_record, device_create, device_mark_seen
from attendance_site.registry import registry
from employees.models import Department, Employee, Shift, Site
from environment.models import DeviceModeState
from environment.services import ReadingInput, condition_readings_record, rule_set_activate, rule_set_create

# The demo's default rule set: what docs/environment.md shows.
DEMO_RULES: dict[str, Any] = {
    "modes": [
        {"mode": "face", "when": {"light_lux": {"min": 300}, "camera_available": True}},
        {"mode": "face_liveness", "when": {"light_lux": {"min": 50}, "camera_available": True}},
        {"mode": "voice", "when": {"noise_db": {"max": 60}, "microphone_available": True}},
        {"mode": "qr", "when": {"camera_available": True}},
        {"mode": "pin", "when": {}},
    ],
    "hysteresis": {"light_lux": 20, "noise_db": 3},
}


def _demo_fallback_methods() -> list[str]:
    """The fallback methods the demo's rule set lets a device use (a plugin's may not be in it)."""
    modes = {entry["mode"] for entry in DEMO_RULES["modes"]}
    methods = registry.checkin_methods
    return [key for key in methods.fallbacks() if modes & set(methods[key].modes)]


FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Nikolai",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
]
LAST_NAMES = [
    "Okafor",
    "Schmidt",
    "Tanaka",
    "Silva",
    "Novak",
    "Haddad",
    "Larsen",
    "Mehta",
    "Costa",
    "Byrne",
    "Kowalski",
    "Nguyen",
    "Moreau",
    "Adeyemi",
    "Ivanova",
]


# Only devices with this prefix take part in the simulated live activity, so the
# simulation can never write into a real site's attendance.
DEMO_DEVICE_PREFIX = "Demo "


@dataclass(frozen=True)
class DemoDataset:
    admin_username: str
    admin_password: str | None
    viewer_username: str
    viewer_password: str | None
    device_credentials: dict[str, str]


def demo_dataset_exists() -> bool:
    return Site.objects.exists()


@transaction.atomic
def demo_dataset_create(
    *, admin_username: str, admin_password: str, viewer_password: str, seed: int = 7
) -> DemoDataset:
    rng = random.Random(seed)
    User = get_user_model()
    admin: AbstractUser | None = User.objects.filter(username=admin_username).first()
    if admin is None:
        admin = user_create(username=admin_username, password=admin_password, role=Role.ADMIN, all_sites=True)
        admin.is_superuser = True
        admin.save(update_fields=["is_superuser"])

    berlin = Site.objects.create(name="Berlin HQ", timezone="Europe/Berlin", address="Invalidenstrasse 1, Berlin")
    lagos = Site.objects.create(name="Lagos Plant", timezone="Africa/Lagos", address="Plot 4, Ikeja, Lagos")
    viewer = user_create(username="viewer-berlin", password=viewer_password, role=Role.VIEWER, sites=[berlin])

    credentials = {}
    employees = []
    code = 1000
    for site, departments in ((berlin, ["Engineering", "People", "Sales"]), (lagos, ["Production", "Logistics"])):
        day = Shift.objects.create(site=site, name="Day", start_time=time(8), end_time=time(16, 30), grace_minutes=5)
        night = Shift.objects.create(site=site, name="Night", start_time=time(22), end_time=time(6), grace_minutes=10)
        for device_name in (f"{DEMO_DEVICE_PREFIX}main entrance kiosk", f"{DEMO_DEVICE_PREFIX}side door tablet"):
            created = device_create(actor=admin, fields={"site": site, "name": device_name, "kind": Device.Kind.KIOSK})
            credentials[f"{site.name} / {device_name}"] = created.credential
        for department_name in departments:
            department = Department.objects.create(site=site, name=department_name)
            for _ in range(6):
                code += 1
                employees.append(
                    Employee.objects.create(
                        employee_code=f"E{code}",
                        first_name=rng.choice(FIRST_NAMES),
                        last_name=rng.choice(LAST_NAMES),
                        email=f"e{code}@example.com",
                        site=site,
                        department=department,
                        shift=night if department_name in ("Production", "Logistics") and rng.random() < 0.4 else day,
                        hire_date=timezone.now().date() - timedelta(days=rng.randint(30, 2000)),
                    )
                )

    default_rules = rule_set_create(actor=admin, site=None, rules=DEMO_RULES, note="Demo default")
    rule_set_activate(actor=admin, rule_set=default_rules)
    # Until a device reports its conditions, the rule set allows it only PIN: the demo's
    # devices report once before their week of QR and PIN check-ins is recorded.
    for device in Device.objects.filter(site__in=[berlin, lagos]).select_related("site"):
        _demo_conditions_report(rng=rng, device=device)
    devices_by_site = {site_id: list(Device.objects.filter(site_id=site_id)) for site_id in (berlin.id, lagos.id)}
    today = timezone.now().date()
    for offset in range(7, 0, -1):
        work_date = today - timedelta(days=offset)
        if work_date.weekday() >= 5:
            continue
        for employee in employees:
            if rng.random() < 0.07:
                continue  # absent
            _demo_day_record(rng=rng, employee=employee, work_date=work_date, devices=devices_by_site[employee.site_id])
    return DemoDataset(
        admin_username=admin_username,
        admin_password=admin_password,
        viewer_username=viewer.username,
        viewer_password=viewer_password,
        device_credentials=credentials,
    )


def _demo_day_record(*, rng: random.Random, employee: Employee, work_date: date, devices: list[Device]) -> None:
    shift = employee.shift
    if shift is None:
        return  # no shift, no expected working day
    zone = employee.site.timezone
    start = datetime.combine(work_date, shift.start_time, tzinfo=zone)
    end_date = work_date + timedelta(days=1) if shift.crosses_midnight else work_date
    end = datetime.combine(end_date, shift.end_time, tzinfo=zone)
    check_in = start + timedelta(minutes=rng.gauss(-5, 9))
    check_out = end + timedelta(minutes=rng.gauss(8, 15))
    if check_out > timezone.now():
        return
    for direction, occurred_at in (
        (AttendanceEvent.Direction.IN, check_in),
        (AttendanceEvent.Direction.OUT, check_out),
    ):
        device = rng.choice(devices)
        attendance_event_record(
            employee=employee,
            device=device,
            direction=direction,
            method=rng.choice(_demo_fallback_methods()),
            occurred_at=occurred_at,
            client_event_id=f"demo-{employee.pk}-{occurred_at:%Y%m%d%H%M}-{direction}",
        )


def demo_activity_step(*, rng: random.Random | None = None) -> AttendanceEvent | None:
    """One simulated check-in or check-out at a demo device, so the demo dashboard moves."""
    rng = rng or random.Random()
    devices = list(
        Device.objects.filter(name__startswith=DEMO_DEVICE_PREFIX, revoked_at__isnull=True).select_related("site")
    )
    if not devices:
        return None
    device = rng.choice(devices)
    employees = list(Employee.objects.filter(site=device.site, is_active=True).select_related("site"))
    if not employees:
        return None
    employee = rng.choice(employees)
    latest = employee.work_sessions.order_by("-started_at").first()
    is_in = latest is not None and latest.ended_at is None and timezone.now() - latest.started_at < timedelta(hours=12)
    device_mark_seen(device)  # as its authenticated requests would
    state = _demo_conditions_report(rng=rng, device=device)
    allowed = set(state.allowed_modes) if state is not None else {"face", "qr", "pin"}
    methods = [method.key for method in registry.checkin_methods if allowed & set(method.modes)]
    result = attendance_event_record(
        employee=employee,
        device=device,
        direction=AttendanceEvent.Direction.OUT if is_in else AttendanceEvent.Direction.IN,
        method=rng.choice(methods),
        client_event_id=f"demo-live-{rng.getrandbits(64):016x}",
    )
    return result.event


def _demo_conditions_report(*, rng: random.Random, device: Device) -> DeviceModeState | None:
    """A plausible reading: daylight following the site's local hour, a noisy hall at times."""
    hour = timezone.localtime(timezone.now(), device.site.timezone).hour
    daylight = max(0.0, math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.0
    values = {
        "light_lux": round(15 + 600 * daylight * rng.uniform(0.3, 1.0), 1),
        "noise_db": round(rng.uniform(35, 75), 1),
        "camera_available": True,
        "microphone_available": True,
        "network_online": True,
    }
    condition_readings_record(device=device, readings=[ReadingInput(recorded_at=timezone.now(), values=values)])
    device.refresh_from_db()
    return DeviceModeState.objects.filter(device=device).first()
