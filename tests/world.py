"""A world of objects to call every endpoint with: one of each kind, in site A.

Used by the access matrix, the secrets test and the biometric privacy test; the tables
of routes live in ``tests/test_access_matrix.py``. Import the fixtures you need:
``from tests.world import callers_fixture, world_fixture  # noqa: F401 (fixtures)``
(defined under those names so that tests can name their argument ``world``).
"""

import re
from importlib import import_module
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.module_loading import module_has_submodule
from rest_framework.test import APIClient

from accounts.models import ROLE_GROUP_NAMES, AuditLogEntry, Role
from accounts.services import user_create
from attendance.models import WorkSession
from attendance.services import attendance_event_record, device_create
from biometrics import crypto
from biometrics.models import FaceTemplate, SiteBiometricPolicy, VoiceTemplate
from biometrics.services.consent import consent_grant
from biometrics.services.qr import qr_credential_of, qr_page_link_issue
from employees.models import Department
from environment import services as environment_services
from simulations import services as simulation_services
from streaming import services as streaming_services
from streaming.models import CameraHostAllowance
from tests.factories import EmployeeFactory, ShiftFactory

RULES = {"modes": [{"mode": "face", "when": {"light_lux": {"min": 100}}}, {"mode": "pin", "when": {}}]}
RESULT_ROW = {"light_lux": 120, "noise_db": 40, "method": "face", "outcome": "success", "duration_ms": 800}
# The world's camera password: distinctive, so the secrets test can search for it.
CAMERA_PASSWORD = "Cam-Canary-pw-5e0b7d"


class World(SimpleNamespace):
    """Named objects to call the endpoints with; attributes are set by the ``world`` fixture."""


def plugin_test_modules(name: str) -> list[ModuleType]:
    """Each enabled plugin's ``tests/<name>.py``: how a plugin's routes join the shared tables.

    An ``access_matrix`` module gives ``world_extend(world)``, ``api_rows(matrix)`` and
    ``admin_models(matrix)`` (``matrix`` is tests/test_access_matrix.py, for its helpers).
    """
    from attendance_site.plugins import PluginConfig

    modules = []
    for app_config in apps.get_app_configs():
        if isinstance(app_config, PluginConfig) and module_has_submodule(app_config.module, "tests"):
            tests = import_module(f"{app_config.name}.tests")
            if module_has_submodule(tests, name):
                modules.append(import_module(f"{app_config.name}.tests.{name}"))
    return modules


def object_of(world: World, name: str):
    return getattr(world, name)


@pytest.fixture(name="fast_password_hashing")
def fast_password_hashing_fixture(settings):
    # Set before the people are created: the login cells check passwords, and the real
    # hasher's cost (by design) would dominate the table's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(name="admin_b")
def admin_b_fixture(site_b):
    return user_create(username="admin-b", password="pw-admin-b", role=Role.ADMIN, sites=[site_b])


@pytest.fixture(name="world")
def world_fixture(
    fast_password_hashing,
    settings,
    tmp_path,
    site_a,
    site_b,
    admin_user,
    admin_a,
    viewer_a,
    admin_b,
    device_a,
    device_b,
):
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    w = World()
    w.site_a, w.site_b, w.admin_a, w.viewer_a, w.admin_b = site_a, site_b, admin_a, viewer_a, admin_b
    w.device_a, w.device_b = device_a.device, device_b.device
    w.device_credentials = {"device_a": device_a.credential, "device_b": device_b.credential}
    w.shift = ShiftFactory(site=site_a)
    w.employee = EmployeeFactory(site=site_a, shift=w.shift)
    w.department = w.employee.department
    w.employee_unconsented = EmployeeFactory(site=site_a, department=w.department)
    w.department_empty = Department.objects.create(site=site_a, name="Empty")
    w.device_spare = device_create(actor=admin_user, fields={"site": site_a, "name": "Spare"}).device
    w.consent = consent_grant(actor=admin_user, employee=w.employee, notice_version="2026-01")
    w.event = attendance_event_record(
        employee=w.employee, device=w.device_a, direction="in", method="pin", client_event_id="world-in"
    ).event
    w.work_session = WorkSession.objects.get(employee=w.employee)
    w.face_template = FaceTemplate.objects.create(
        employee=w.employee, encoding_encrypted=crypto.encrypt(np.zeros(128).tobytes()), face_size=120, sharpness=80
    )
    w.voice_template = VoiceTemplate.objects.create(
        employee=w.employee, embedding_encrypted=crypto.encrypt(np.zeros(256, np.float32).tobytes()), clip_count=2
    )
    w.site_policy = SiteBiometricPolicy.objects.create(site=site_a)
    w.qr_link = qr_page_link_issue(employee=w.employee)
    qr_credential_of(w.employee_unconsented)  # so issuing a token in a body writes nothing
    w.reading = environment_services.condition_readings_record(
        device=w.device_a,
        readings=[environment_services.ReadingInput(recorded_at=timezone.now(), values={"light_lux": 250.0})],
    )[0]
    w.rule_set = environment_services.rule_set_create(actor=admin_a, site=site_a, rules=RULES)
    w.simulation_run = simulation_services.simulation_run_create(
        actor=admin_a, site=site_a, scenario="m", parameters={}, generator_version="1", results=[RESULT_ROW] * 40
    )
    w.camera_host = CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")
    w.stream = streaming_services.camera_stream_create(
        actor=admin_a, site=site_a, name="Lobby", url=f"rtsp://cam:{CAMERA_PASSWORD}@10.20.1.7/s", options={}
    )
    output = streaming_services.stream_output_dir(w.stream.pk)
    output.mkdir(parents=True)
    (output / "index.m3u8").write_text("#EXTM3U\n")
    w.audit_entry = AuditLogEntry.objects.filter(site=site_a).first()
    w.viewers_group = Group.objects.get(name=ROLE_GROUP_NAMES[Role.VIEWER])
    w.ids = {"site_a": site_a.pk}
    for module in plugin_test_modules("access_matrix"):
        module.world_extend(w)
    return w


@pytest.fixture(name="callers")
def callers_fixture(world, client_for, device_client_for, device_a, device_b):
    def person(user) -> APIClient:
        client = client_for(user)  # the API with a token, pages and admin with a session
        client.force_login(user)
        return client

    return {
        "admin_a": person(world.admin_a),
        "viewer_a": person(world.viewer_a),
        "admin_b": person(world.admin_b),
        "device_a": device_client_for(device_a),
        "device_b": device_client_for(device_b),
        "anonymous": APIClient(),
    }


_PATH_VALUES = {
    "stream_id": lambda w, on: w.stream.pk,
    "filename": lambda w, on: "index.m3u8",
    "link_token": lambda w, on: w.qr_link,
    "user_id": lambda w, on: w.viewer_a.pk,
    "id": lambda w, on: w.viewer_a.pk,
    "group_id": lambda w, on: w.viewers_group.pk,
    "content_type_id": lambda w, on: ContentType.objects.get_for_model(object_of(w, on)).pk,
    "app_label": lambda w, on: "employees",
    "url": lambda w, on: "nothing-here/",
}


def path_for(route: str, world: World, on: str) -> str:
    def value(match) -> str:
        name = match.group(1)
        if name in ("pk", "object_id", "object_pk"):
            return str(object_of(world, on).pk) if on else "0"
        return str(_PATH_VALUES[name](world, on))

    return re.sub(r"<(\w+)>", value, route)


def request_send(client: APIClient, row, world: World, method: str | None = None):
    """One request of a table row (route, object, query, body) as ``client``."""
    method = method or row.method
    path = path_for(row.route, world, row.on)
    if row.query:
        path = f"{path}?{row.query.format(**world.ids)}"
    if method == "GET":
        return client.get(path)
    body = row.body(world) if callable(row.body) else row.body
    # The API speaks JSON; pages and the admin take forms.
    multipart = row.multipart or not path.startswith("/api/")
    return getattr(client, method.lower())(path, body, format="multipart" if multipart else "json")


# --- The database, to compare before and after a request -------------------------------

# Bookkeeping that authenticating alone writes: not a change the request made.
IGNORED_COLUMNS = {
    ("attendance.Device", "last_seen_at"): "a device's authentication marks it seen",
}


def database_state() -> dict[str, list[tuple]]:
    """Every row of every table (bookkeeping columns left out), to compare before and after."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        label = model._meta.label
        columns = [field.attname for field in model._meta.concrete_fields if (label, field.name) not in IGNORED_COLUMNS]
        rows = model._base_manager.order_by("pk").values_list(*columns)
        state[label] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in values) for values in rows]
    return state


def tables_changed(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])
