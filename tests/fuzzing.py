"""What the API fuzz test (tests/test_api_fuzz.py) runs on: the schema, the app, the data.

- :func:`operation_labels`: every operation of the project's own OpenAPI document
  (:func:`attendance_site.testing.openapi.api_schema`), whose requests Schemathesis
  sends through the WSGI application (``attendance_site.wsgi.application``) in this
  thread, so they run on the test's database connection and transaction
  (:func:`requests_on_test_transaction`).
- :func:`fuzz_world_seed`: the shared world of objects (tests/world.py) and more, to reach
  the real code paths, and the real ids, values and bodies mixed into generated requests.
- :func:`table_row_counts`: the row count of every table in one query, to show that a
  refused request wrote nothing.
"""

import functools
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import time, timedelta

from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import AuditLogEntry
from attendance_site.testing.openapi import api_operations

# Requests sent, by role and status code, for the summary at the end of the run (tests/conftest.py).
fuzz_statistics: Counter[tuple[str, int]] = Counter()


def operation_labels() -> list[str]:
    """Every operation of the document, as "METHOD /path"."""
    return [operation.label for operation in api_operations()]


@contextmanager
def requests_on_test_transaction() -> Iterator[None]:
    """Let the WSGI handler run on the test's connection without closing it.

    Django closes "old" database connections when a request starts and ends; inside a
    test's transaction that would close the connection the test runs on. Django's test
    client switches this off the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextmanager
def no_name_resolution() -> Iterator[None]:
    """Camera hosts are resolved when a stream is registered; tests send no DNS queries.

    An IP literal still works (it needs no lookup); any name fails as an unknown host does.
    """
    real = socket.getaddrinfo

    def literal_only(host, *args, **kwargs):
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, str(host))
        except (OSError, ValueError):
            raise socket.gaierror(socket.EAI_NONAME, "tests resolve no names")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = literal_only
    try:
        yield
    finally:
        socket.getaddrinfo = real


@functools.cache
def _counting_query() -> tuple[list[str], str]:
    tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
    quote = connection.ops.quote_name
    # Table names from Django's own introspection, quoted: nothing here comes from a request.
    columns = ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables)  # noqa: S608
    return tables, f"SELECT {columns}"


def table_row_counts() -> dict[str, int]:
    """Rows per table of every installed model, in one query."""
    tables, query = _counting_query()
    with connection.cursor() as cursor:
        cursor.execute(query)
        return dict(zip(tables, cursor.fetchone(), strict=True))


def row_count_changes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {table: after[table] - before[table] for table in before if after[table] != before[table]}


def process_caches_clear() -> None:
    """Forget per-process copies built from rows that a rolled-back request wrote."""
    from biometrics import selectors as biometrics_selectors
    from environment import selectors as environment_selectors

    biometrics_selectors.galleries.clear()
    environment_selectors.active_rule_sets.clear()


RULES = {
    "modes": [
        {"mode": "face", "when": {"light_lux": {"min": 100}, "camera_available": True}},
        {"mode": "voice", "when": {"noise_db": {"max": 60}}},
        {"mode": "pin", "when": {}},
    ],
    "hysteresis": {"light_lux": 20},
}


@dataclass
class FuzzWorld:
    """What the seeded data offers the generated requests.

    ``ids_by_path``: real ids of the resource at each path; ``values_by_field``: real ids
    and well-formed values for fields of those names; ``bodies``: request bodies an
    operation accepts (for the admin, or the device at the device endpoints), which
    generated fields are then mixed into.
    """

    ids_by_path: dict[str, list[int]] = field(default_factory=dict)
    values_by_field: dict[str, list] = field(default_factory=dict)
    bodies: dict[str, list[dict]] = field(default_factory=dict)

    def ids_for(self, path: str) -> list[int]:
        for prefix, ids in self.ids_by_path.items():
            if path.startswith(prefix):
                return ids
        return []


def fuzz_world_seed(world, *, admin) -> FuzzWorld:
    """The shared world of objects (tests/world.py: one of each kind in site A, devices in
    both sites), with staff and an active rule set in site B, described for the fuzzer.

    Its camera stream never started: a pipeline is queued after a commit that a test's
    transaction never makes.
    """
    from biometrics.services.qr import qr_token_issue
    from employees.services import department_create, employee_create, shift_create
    from environment.services import rule_set_activate, rule_set_create

    now = timezone.now().replace(microsecond=0)
    site_b = world.site_b
    department_b = department_create(actor=admin, fields={"site": site_b, "name": "Night desk"})
    shift_b = shift_create(
        actor=admin,
        fields={"site": site_b, "name": "Night", "start_time": time(22), "end_time": time(6), "grace_minutes": 10},
    )
    employee_b = employee_create(
        actor=admin,
        fields={
            "employee_code": "B-001",
            "first_name": "Linus",
            "last_name": "Nightly",
            "site": site_b,
            "department": department_b,
            "shift": shift_b,
        },
    )
    active_b = rule_set_activate(actor=admin, rule_set=rule_set_create(actor=admin, site=site_b, rules=RULES))

    sites = [world.site_a.pk, site_b.pk]
    departments = [world.department.pk, world.department_empty.pk, department_b.pk]
    shifts = [world.shift.pk, shift_b.pk]
    employees = [world.employee.pk, world.employee_unconsented.pk, employee_b.pk]
    devices = [world.device_a.pk, world.device_b.pk, world.device_spare.pk]
    return FuzzWorld(
        ids_by_path={
            "/api/employees/sites/": sites,
            "/api/employees/departments/": departments,
            "/api/employees/shifts/": shifts,
            "/api/employees/employees/": employees,
            "/api/attendance/devices/": devices,
            "/api/attendance/events/": [world.event.pk],
            "/api/accounts/audit-log/": list(AuditLogEntry.objects.values_list("pk", flat=True)[:3]),
            "/api/biometrics/consents/": [world.consent.pk],
            "/api/biometrics/enrolments/": employees,
            "/api/biometrics/site-policies/": sites,
            "/api/environment/rule-sets/": [world.rule_set.pk, active_b.pk],
            "/api/simulations/runs/": [world.simulation_run.pk],
            "/api/streams/camera-hosts/": [world.camera_host.pk],
            "/api/streams/": [world.stream.pk],
        },
        values_by_field={
            "site": sites,
            "department": departments,
            "shift": shifts,
            "employee": employees,
            "device": devices,
            "employee_code": [world.employee.employee_code, employee_b.employee_code],
            "timezone": ["Europe/Berlin", "UTC"],
            "url": ["rtsp://10.20.3.4/live"],
            "host": ["10.30.0.9"],
            "rules": [RULES],
            "occurred_at": [(now - timedelta(minutes=3)).isoformat()],
            "recorded_at": [(now - timedelta(minutes=3)).isoformat()],
            "date_from": [(now - timedelta(days=2)).date().isoformat()],
            "date_to": [now.date().isoformat()],
            "start": [(now - timedelta(days=1)).isoformat()],
            "end": [now.isoformat()],
        },
        bodies=_valid_bodies(
            now=now,
            site=world.site_a,
            department=world.department,
            shift=world.shift,
            employee=world.employee,
            unconsented=world.employee_unconsented,
            qr_token=qr_token_issue(employee=world.employee).token,
        ),
    )


def _valid_bodies(*, now, site, department, shift, employee, unconsented, qr_token: str) -> dict[str, list[dict]]:
    """A well-formed body per operation that takes one, with site A's ids."""
    moment = (now - timedelta(minutes=3)).isoformat()
    site_fields = {"name": "Site C", "timezone": "Europe/Paris", "address": "1 Quai", "duplicate_window": "00:02:00"}
    shift_fields = {"site": site.pk, "name": "Late", "start_time": "14:00", "end_time": "22:00", "grace_minutes": 5}
    employee_fields = {
        "employee_code": "N-001",
        "first_name": "Nia",
        "last_name": "Newcomer",
        "email": "nia@example.com",
        "site": site.pk,
        "department": department.pk,
        "shift": shift.pk,
        "external_ids": {"bamboohr": "41"},
    }
    device_fields = {"site": site.pk, "name": "Kiosk C", "kind": "tablet"}
    rule_set_fields = {"site": site.pk, "rules": RULES, "note": "Stricter light"}
    check = {"client_event_id": "fuzz-1", "occurred_at": moment}
    results = [
        {"light_lux": 120.0, "noise_db": 40.0, "method": "face", "outcome": "success", "duration_ms": 800},
        {"light_lux": 30.0, "noise_db": 70.0, "method": "voice", "outcome": "false_reject", "duration_ms": 1500},
    ]
    return {
        "POST /api/employees/sites/": [site_fields],
        "PUT /api/employees/sites/{id}/": [site_fields],
        "PATCH /api/employees/sites/{id}/": [{"name": "Site A, renamed"}, {"max_work_session": "12:00:00"}],
        "POST /api/employees/departments/": [{"site": site.pk, "name": "Packing"}],
        "PUT /api/employees/departments/{id}/": [{"site": site.pk, "name": "Packing"}],
        "PATCH /api/employees/departments/{id}/": [{"name": "Packing"}],
        "POST /api/employees/shifts/": [shift_fields],
        "PUT /api/employees/shifts/{id}/": [shift_fields],
        "PATCH /api/employees/shifts/{id}/": [{"end_time": "02:00"}],
        "POST /api/employees/employees/": [employee_fields],
        "PUT /api/employees/employees/{id}/": [employee_fields],
        "PATCH /api/employees/employees/{id}/": [{"is_active": False}, {"shift": None}],
        "POST /api/attendance/devices/": [device_fields],
        "PUT /api/attendance/devices/{id}/": [device_fields],
        "PATCH /api/attendance/devices/{id}/": [{"name": "Kiosk A, hall"}],
        "POST /api/attendance/events/": [
            {"employee": employee.pk, "direction": "in", "occurred_at": moment, "reason": "Forgot the badge"}
        ],
        "POST /api/attendance/device/check-in/": [{**check, "employee_code": employee.employee_code, "method": "pin"}],
        "POST /api/attendance/device/check-out/": [{**check, "employee": employee.pk, "method": "pin"}],
        "POST /api/biometrics/device/qr-check/": [{**check, "direction": "in", "token": qr_token}],
        "POST /api/biometrics/consents/": [{"employee": unconsented.pk, "notice_version": "2026-01"}],
        "POST /api/biometrics/enrolments/{id}/erase/": [{"reason": "The employee asked"}],
        "PATCH /api/biometrics/site-policies/{id}/": [{"face_distance_threshold": 0.5, "liveness_required": True}],
        "POST /api/environment/device/readings/": [
            {"recorded_at": moment, "light": {"value": 250, "unit": "lux"}, "noise": {"value": 45, "unit": "dB"}},
            {
                "readings": [
                    {"recorded_at": moment, "network": {"online": True, "latency": {"value": 0.2, "unit": "s"}}}
                ]
            },
        ],
        "POST /api/environment/rule-sets/": [rule_set_fields],
        "PATCH /api/environment/rule-sets/{id}/": [{"rules": RULES, "note": "Tuned"}],
        "POST /api/environment/rule-sets/{id}/dry-run/": [{"conditions": {"light_lux": 40}}, {"days": 1}],
        "POST /api/simulations/runs/": [
            {"site": site.pk, "scenario": "dusk", "generator_version": "hand-1", "parameters": {}, "results": results}
        ],
        "POST /api/simulations/runs/{id}/recommendation/draft/": [{"max_false_accept": 0.05, "min_samples": 1}],
        "POST /api/streams/": [{"site": site.pk, "name": "Dock", "url": "rtsp://10.20.0.8/live", "max_fps": 10}],
        "POST /api/streams/camera-hosts/": [{"site": site.pk, "host": "10.40.0.0/24", "note": "Dock cameras"}],
        "POST /api/auth/token/": [{"username": "hr-admin", "password": "pw-admin-123"}],
    }
