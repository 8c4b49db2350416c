"""Who gets what from every endpoint: one table, checked against Django's URL resolver.

Every route Django serves (the API, the HTML pages, the admin) has a row per method it
answers, with the status each of six callers gets: the admin and the viewer of site A, the
admin of site B, a device of site A and one of site B, and an anonymous caller. Objects in
URLs belong to site A. A route or method the resolver serves without a row fails
``test_every_route_and_method_has_a_row``, so a new endpoint cannot arrive unreviewed:
add its row (API_ROWS, PAGE_ROWS, ADMIN_MODELS or WEBSOCKET_ROUTES) with the answer each
caller should get.

Each request runs in a savepoint rolled back afterwards, so one cell never sees another's
writes; a refused request (and every GET) must leave every table exactly as it was.
"""

import base64
import copy
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.contrib import admin
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.services import ROLE_MANAGED_APPS
from biometrics import selectors as biometric_selectors
from biometrics.services.qr import qr_token_issue
from environment import selectors as environment_selectors
from tests.world import (  # noqa: F401 (fixtures)
    RESULT_ROW,
    RULES,
    World,
    admin_b_fixture,
    callers_fixture,
    database_state,
    fast_password_hashing_fixture,
    object_of,
    plugin_test_modules,
    request_send,
    tables_changed,
    world_fixture,
)

ROLES = ("admin_a", "viewer_a", "admin_b", "device_a", "device_b", "anonymous")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Statuses that are not a bare number: a redirect to a login page, as a refusal (LOGIN)
# or after logging out (LOGGED_OUT); the admin's own refusal is TO_INDEX, below.
LOGIN = "login"
LOGGED_OUT = "logged-out"
Status = int | str


@dataclass(frozen=True)
class Row:
    """One (route, method) and the status each caller gets, in ROLES order."""

    route: str
    method: str
    expected: tuple[Status, ...]
    on: str = ""  # the world object whose id fills <pk> / <object_id>
    body: Callable | dict | None = None
    multipart: bool = False
    query: str = ""

    def __post_init__(self):
        assert len(self.expected) == len(ROLES), f"{self.route} {self.method}: one status per role"

    @property
    def key(self) -> tuple[str, str]:
        return self.route, self.method


def row(route, method, admin_a, viewer_a, admin_b, device_a, device_b, anonymous, **extra) -> Row:
    return Row(route, method, (admin_a, viewer_a, admin_b, device_a, device_b, anonymous), **extra)


def _now_iso() -> str:
    return timezone.now().isoformat()


def _qr_check_body(world) -> dict:
    # Issued per request: a token lives two 30 s windows, the table runs longer than that.
    token = qr_token_issue(employee=world.employee_unconsented).token
    return {"token": token, "direction": "in", "client_event_id": "matrix-qr"}


PERSON_READ = (200, 200, 200, 401, 401, 401)  # a list or a read that needs no object of A
OBJECT_READ = (200, 200, 404, 401, 401, 401)  # an object of A: B's admin cannot see it
OBJECT_WRITE = (200, 403, 404, 401, 401, 401)  # viewers never write, B's admin gets 404
OBJECT_DELETE = (204, 403, 404, 401, 401, 401)
CREATE_IN_A = (201, 403, 400, 401, 401, 401)  # site A in the body is an invalid choice for B's admin
ADMIN_READ = (200, 403, 200, 401, 401, 401)  # audit log: admins only
ADMIN_OBJECT_READ = (200, 403, 404, 401, 401, 401)
DEVICE_WRITE = (401, 401, 401, 201, 400, 401)  # names an employee of A: B's device gets 400
DEVICE_OWN = (401, 401, 401, 200, 200, 401)  # a device about itself
DEVICE_OWN_WRITE = (401, 401, 401, 201, 201, 401)
DEVICE_REFUSED_SAMPLE = (401, 401, 401, 400, 400, 401)  # the sample is refused; only devices get that far
PUBLIC = (200, 200, 200, 200, 200, 200)
PAGE = (200, 200, 200, LOGIN, LOGIN, LOGIN)
OBJECT_PAGE = (200, 200, 404, LOGIN, LOGIN, LOGIN)
PAGE_POST_REFUSED = (405, 405, 405, LOGIN, LOGIN, LOGIN)

API_ROWS = [
    # route                                                method    expected statuses per role    object and body
    row("/api/auth/token/", "POST", *PUBLIC, body={"username": "admin-a", "password": "pw-admin-a"}),
    # Rotate and revoke act on the token presented, never on a session: devices and the
    # anonymous present none.
    row("/api/auth/token/rotate/", "POST", 200, 200, 200, 401, 401, 401),
    row("/api/auth/token/revoke/", "POST", 204, 204, 204, 401, 401, 401),
    row("/api/schema/", "GET", *PUBLIC),
    row("/api/docs/", "GET", *PUBLIC),
    # accounts
    row("/api/accounts/", "GET", *PERSON_READ),
    row("/api/accounts/me/", "GET", *PERSON_READ),
    row("/api/accounts/audit-log/", "GET", *ADMIN_READ),
    row("/api/accounts/audit-log/<pk>/", "GET", *ADMIN_OBJECT_READ, on="audit_entry"),
    # employees
    row("/api/employees/", "GET", *PERSON_READ),
    row("/api/employees/sites/", "GET", *PERSON_READ),
    # Creating a site needs access to every site; nobody in the table has that.
    row("/api/employees/sites/", "POST", 403, 403, 403, 401, 401, 401, body={"name": "New", "timezone": "UTC"}),
    row("/api/employees/sites/<pk>/", "GET", *OBJECT_READ, on="site_a"),
    row("/api/employees/sites/<pk>/", "PUT", *OBJECT_WRITE, on="site_a", body={"name": "A2", "timezone": "UTC"}),
    row("/api/employees/sites/<pk>/", "PATCH", *OBJECT_WRITE, on="site_a", body={"name": "A2"}),
    # Its devices and events protect a site: refused as a 400, after the caller's rights are checked.
    row("/api/employees/sites/<pk>/", "DELETE", 400, 403, 404, 401, 401, 401, on="site_a"),
    row("/api/employees/departments/", "GET", *PERSON_READ),
    row("/api/employees/departments/", "POST", *CREATE_IN_A, body=lambda w: {"site": w.site_a.pk, "name": "New"}),
    row("/api/employees/departments/<pk>/", "GET", *OBJECT_READ, on="department"),
    row(
        "/api/employees/departments/<pk>/",
        "PUT",
        *OBJECT_WRITE,
        on="department",
        body=lambda w: {"site": w.site_a.pk, "name": "Renamed"},
    ),
    row("/api/employees/departments/<pk>/", "PATCH", *OBJECT_WRITE, on="department", body={"name": "Renamed"}),
    row("/api/employees/departments/<pk>/", "DELETE", *OBJECT_DELETE, on="department_empty"),
    row("/api/employees/shifts/", "GET", *PERSON_READ),
    row(
        "/api/employees/shifts/",
        "POST",
        *CREATE_IN_A,
        body=lambda w: {"site": w.site_a.pk, "name": "Late", "start_time": "14:00", "end_time": "22:00"},
    ),
    row("/api/employees/shifts/<pk>/", "GET", *OBJECT_READ, on="shift"),
    row(
        "/api/employees/shifts/<pk>/",
        "PUT",
        *OBJECT_WRITE,
        on="shift",
        body=lambda w: {"site": w.site_a.pk, "name": "Early", "start_time": "06:00", "end_time": "14:00"},
    ),
    row("/api/employees/shifts/<pk>/", "PATCH", *OBJECT_WRITE, on="shift", body={"grace_minutes": 10}),
    row("/api/employees/shifts/<pk>/", "DELETE", *OBJECT_DELETE, on="shift"),
    row("/api/employees/employees/", "GET", *PERSON_READ),
    row(
        "/api/employees/employees/",
        "POST",
        *CREATE_IN_A,
        body=lambda w: {"employee_code": "M-1", "first_name": "Ada", "last_name": "L", "site": w.site_a.pk},
    ),
    row("/api/employees/employees/<pk>/", "GET", *OBJECT_READ, on="employee"),
    row(
        "/api/employees/employees/<pk>/",
        "PUT",
        *OBJECT_WRITE,
        on="employee",
        body=lambda w: {"employee_code": "M-2", "first_name": "Ada", "last_name": "L", "site": w.site_a.pk},
    ),
    row("/api/employees/employees/<pk>/", "PATCH", *OBJECT_WRITE, on="employee", body={"first_name": "Ada"}),
    # The employee has attendance: removing deactivates (200) instead of deleting.
    row("/api/employees/employees/<pk>/", "DELETE", *OBJECT_WRITE, on="employee"),
    # attendance
    row("/api/attendance/", "GET", *PERSON_READ),
    row("/api/attendance/devices/", "GET", *PERSON_READ),
    row("/api/attendance/devices/", "POST", *CREATE_IN_A, body=lambda w: {"site": w.site_a.pk, "name": "Kiosk 2"}),
    row("/api/attendance/devices/<pk>/", "GET", *OBJECT_READ, on="device_a"),
    row(
        "/api/attendance/devices/<pk>/",
        "PUT",
        *OBJECT_WRITE,
        on="device_a",
        body=lambda w: {"site": w.site_a.pk, "name": "Kiosk A2"},
    ),
    row("/api/attendance/devices/<pk>/", "PATCH", *OBJECT_WRITE, on="device_a", body={"name": "Kiosk A2"}),
    row("/api/attendance/devices/<pk>/", "DELETE", *OBJECT_DELETE, on="device_spare"),
    row("/api/attendance/devices/<pk>/revoke/", "POST", *OBJECT_WRITE, on="device_a"),
    row("/api/attendance/events/", "GET", *PERSON_READ),
    row(
        "/api/attendance/events/",
        "POST",
        *CREATE_IN_A,
        body=lambda w: {"employee": w.employee.pk, "direction": "out", "occurred_at": _now_iso(), "reason": "forgot"},
    ),
    row("/api/attendance/events/<pk>/", "GET", *OBJECT_READ, on="event"),
    row("/api/attendance/daily-summaries/", "GET", *PERSON_READ, query="date_from=2026-01-01&date_to=2026-01-31"),
    row(
        "/api/attendance/device/check-in/",
        "POST",
        *DEVICE_WRITE,
        body=lambda w: {"employee": w.employee_unconsented.pk, "method": "pin", "client_event_id": "matrix-in"},
    ),
    row(
        "/api/attendance/device/check-out/",
        "POST",
        *DEVICE_WRITE,
        body=lambda w: {"employee": w.employee.pk, "method": "pin", "client_event_id": "matrix-out"},
    ),
    row("/api/attendance/device/me/", "GET", *DEVICE_OWN),
    # biometrics: devices
    row(
        "/api/biometrics/device/face-check/",
        "POST",
        *DEVICE_REFUSED_SAMPLE,
        body={"image": base64.b64encode(b"not a picture").decode(), "direction": "in", "client_event_id": "m-f"},
    ),
    row(
        "/api/biometrics/device/voice-check/",
        "POST",
        *DEVICE_REFUSED_SAMPLE,
        body=lambda w: {"employee": w.employee.pk, "direction": "in", "client_event_id": "m-v"},  # no clip
    ),
    row("/api/biometrics/device/qr-check/", "POST", *DEVICE_WRITE, body=_qr_check_body),
    # biometrics: people
    row("/api/biometrics/", "GET", *PERSON_READ),
    row("/api/biometrics/consents/", "GET", *PERSON_READ),
    row(
        "/api/biometrics/consents/",
        "POST",
        *CREATE_IN_A,
        body=lambda w: {"employee": w.employee_unconsented.pk, "notice_version": "2026-01"},
    ),
    row("/api/biometrics/consents/<pk>/", "GET", *OBJECT_READ, on="consent"),
    row("/api/biometrics/consents/<pk>/withdraw/", "POST", *OBJECT_WRITE, on="consent"),
    row("/api/biometrics/enrolments/<pk>/", "GET", *OBJECT_READ, on="employee"),
    row("/api/biometrics/enrolments/<pk>/erase/", "POST", *OBJECT_WRITE, on="employee", body={"reason": "asked"}),
    # Unusable samples: a 400 is only reached past the role and site checks (the real
    # enrolment is tested in biometrics/ and tests/test_biometric_privacy.py).
    row(
        "/api/biometrics/enrolments/<pk>/face/",
        "POST",
        400,
        403,
        404,
        401,
        401,
        401,
        on="employee",
        body={"images": [base64.b64encode(b"not a picture").decode()]},
    ),
    row(
        "/api/biometrics/enrolments/<pk>/voice/",
        "POST",
        400,
        403,
        404,
        401,
        401,
        401,
        on="employee",
        body={"clips": [base64.b64encode(b"not a sound").decode()] * 2},
    ),
    # The QR page link is a bearer credential: admins only, like the QR revocation.
    row("/api/biometrics/enrolments/<pk>/qr-link/", "GET", *ADMIN_OBJECT_READ, on="employee"),
    row("/api/biometrics/enrolments/<pk>/qr-revoke/", "POST", *OBJECT_WRITE, on="employee"),
    row("/api/biometrics/site-policies/<pk>/", "GET", *OBJECT_READ, on="site_a"),
    row("/api/biometrics/site-policies/<pk>/", "PATCH", *OBJECT_WRITE, on="site_a", body={"face_margin": 0.05}),
    # dashboard
    row("/api/dashboard/presence/", "GET", *OBJECT_READ, query="site={site_a}"),
    row("/api/dashboard/charts/", "GET", *OBJECT_READ, query="site={site_a}"),
    # environment
    row("/api/environment/", "GET", *PERSON_READ),
    row(
        "/api/environment/device/readings/",
        "POST",
        *DEVICE_OWN_WRITE,
        body=lambda w: {"recorded_at": _now_iso(), "light": {"value": 300, "unit": "lux"}},
    ),
    row("/api/environment/device-modes/modes/", "GET", *DEVICE_OWN),
    row("/api/environment/conditions/current/", "GET", *PERSON_READ),
    row("/api/environment/conditions/history/", "GET", *PERSON_READ),
    row("/api/environment/conditions/modes/", "GET", *PERSON_READ),
    row("/api/environment/rule-sets/", "GET", *PERSON_READ),
    row("/api/environment/rule-sets/", "POST", *CREATE_IN_A, body=lambda w: {"site": w.site_a.pk, "rules": RULES}),
    row("/api/environment/rule-sets/<pk>/", "GET", *OBJECT_READ, on="rule_set"),
    row("/api/environment/rule-sets/<pk>/", "PATCH", *OBJECT_WRITE, on="rule_set", body={"note": "tuned"}),
    row("/api/environment/rule-sets/<pk>/activate/", "POST", *OBJECT_WRITE, on="rule_set"),
    # A dry run changes nothing, but it is a POST and viewers send none.
    row(
        "/api/environment/rule-sets/<pk>/dry-run/",
        "POST",
        *OBJECT_WRITE,
        on="rule_set",
        body={"conditions": {"light_lux": 40}},
    ),
    # simulations
    row("/api/simulations/", "GET", *PERSON_READ),
    row("/api/simulations/runs/", "GET", *PERSON_READ),
    row(
        "/api/simulations/runs/",
        "POST",
        *CREATE_IN_A,
        body=lambda w: {"site": w.site_a.pk, "scenario": "m", "generator_version": "1", "results": [RESULT_ROW]},
    ),
    row("/api/simulations/runs/<pk>/", "GET", *OBJECT_READ, on="simulation_run"),
    row("/api/simulations/runs/<pk>/", "DELETE", *OBJECT_DELETE, on="simulation_run"),
    row("/api/simulations/runs/<pk>/analysis/", "GET", *OBJECT_READ, on="simulation_run"),
    row("/api/simulations/runs/<pk>/results/", "GET", *OBJECT_READ, on="simulation_run"),
    row("/api/simulations/runs/<pk>/recommendation/draft/", "POST", 201, 403, 404, 401, 401, 401, on="simulation_run"),
    # streams
    row("/api/streams/", "GET", *PERSON_READ),
    row(
        "/api/streams/",
        "POST",
        *CREATE_IN_A,
        body=lambda w: {"site": w.site_a.pk, "name": "Yard", "url": "rtsp://10.20.1.8/stream"},
    ),
    row("/api/streams/<pk>/", "GET", *OBJECT_READ, on="stream"),
    row("/api/streams/<pk>/", "DELETE", *OBJECT_DELETE, on="stream"),
    row("/api/streams/<pk>/start/", "POST", *OBJECT_WRITE, on="stream"),
    row("/api/streams/<pk>/stop/", "POST", *OBJECT_WRITE, on="stream"),
    row("/api/streams/camera-hosts/", "GET", *PERSON_READ),
    row(
        "/api/streams/camera-hosts/",
        "POST",
        *CREATE_IN_A,
        body=lambda w: {"site": w.site_a.pk, "host": "10.30.0.0/16"},
    ),
    row("/api/streams/camera-hosts/<pk>/", "GET", *OBJECT_READ, on="camera_host"),
    row("/api/streams/camera-hosts/<pk>/", "DELETE", *OBJECT_DELETE, on="camera_host"),
]

# Enabled plugins bring their own rows, objects and admin models (<plugin>/tests/access_matrix.py).
PLUGIN_MATRICES = plugin_test_modules("access_matrix")
API_ROWS += [plugin_row for module in PLUGIN_MATRICES for plugin_row in module.api_rows(sys.modules[__name__])]

PAGE_ROWS = [
    row("/", "GET", 302, 302, 302, 302, 302, 302),
    row("/", "POST", 302, 302, 302, 302, 302, 302),
    # Signed-in people are sent on to the dashboard; a device is nobody to a browser page.
    row("/accounts/login/", "GET", 302, 302, 302, 200, 200, 200),
    row(
        "/accounts/login/", "POST", 302, 302, 302, 302, 302, 302, body={"username": "admin-a", "password": "pw-admin-a"}
    ),
    row("/accounts/logout/", "GET", 405, 405, 405, 405, 405, 405),
    row("/accounts/logout/", "POST", *[LOGGED_OUT] * 6),
    row("/healthz", "GET", *PUBLIC),
    row("/healthz", "POST", 405, 405, 405, 405, 405, 405),
    row("/readyz", "GET", *PUBLIC),
    row("/readyz", "POST", 405, 405, 405, 405, 405, 405),
    row("/dashboard/", "GET", *PAGE),
    row("/dashboard/", "POST", *PAGE),
    row("/streams/<stream_id>/", "GET", *OBJECT_PAGE),
    row("/streams/<stream_id>/", "POST", *PAGE_POST_REFUSED),
    row("/streams/<stream_id>/hls/<filename>", "GET", *OBJECT_PAGE),
    row("/streams/<stream_id>/hls/<filename>", "POST", *PAGE_POST_REFUSED),
    # The QR page is reached by its signed link alone: a bearer link for the employee's phone.
    row("/qr/<link_token>/", "GET", *PUBLIC),
    row("/qr/<link_token>/", "POST", *PUBLIC),
    row("/qr/<link_token>/code.png", "GET", *PUBLIC),
    row("/qr/<link_token>/code.png", "POST", *PUBLIC),
]

# --- The admin: one table per kind of ModelAdmin, and which kind each registered model is ---

# The admin's refusal by redirect to its index: for an object outside the caller's sites
# (Django's "does not exist", the same as for a wrong id), on guardian's pages for people
# without change permission, and the admin's logout for someone not signed in.
TO_INDEX = "to-index"

NO_SESSION = (LOGIN, LOGIN, LOGIN)  # devices and anonymous callers: the admin is for signed-in staff
ADMIN_PAGES = ("changelist", "add", "change", "delete", "history", "object")
ADMIN_EDITABLE = {
    # (page, method)          admin_a viewer_a admin_b
    ("changelist", "GET"): (200, 200, 200),
    ("changelist", "POST"): (200, 200, 200),  # the delete action's confirmation page, or the list again
    ("add", "GET"): (200, 403, 200),
    ("add", "POST"): (200, 403, 200),  # an empty form: shown again with its errors
    ("change", "GET"): (200, 200, TO_INDEX),
    ("change", "POST"): (200, 403, TO_INDEX),
    ("delete", "GET"): (200, 403, TO_INDEX),
    ("delete", "POST"): (302, 403, TO_INDEX),
    ("history", "GET"): (200, 200, TO_INDEX),
    ("history", "POST"): (200, 200, TO_INDEX),
    ("object", "GET"): (302, 302, 302),  # /<id>/ redirects to /<id>/change/
    ("object", "POST"): (302, 302, 302),
}
# Events, sessions, readings, consents, templates, audit entries: nobody edits them here.
ADMIN_READ_ONLY = {
    **ADMIN_EDITABLE,
    ("add", "GET"): (403, 403, 403),
    ("add", "POST"): (403, 403, 403),
    # Refused before the object is looked up, so B's admin gets the same 403.
    ("change", "POST"): (403, 403, 403),
    ("delete", "GET"): (403, 403, 403),
    ("delete", "POST"): (403, 403, 403),
}
# Django's and third-party apps' models: our roles hold no permission on them (superusers only).
ADMIN_SUPERUSER_ONLY = {
    **{(page, method): (403, 403, 403) for page in ADMIN_PAGES for method in ("GET", "POST")},
    ("object", "GET"): (302, 302, 302),
    ("object", "POST"): (302, 302, 302),
}
# The same for a third-party model's row that does not exist: every page that shows or
# changes something refuses before any lookup; only the history asks whether it exists.
ADMIN_SUPERUSER_ONLY_NO_ROW = {
    **ADMIN_SUPERUSER_ONLY,
    ("history", "GET"): (TO_INDEX, TO_INDEX, TO_INDEX),
    ("history", "POST"): (TO_INDEX, TO_INDEX, TO_INDEX),
}


@dataclass(frozen=True)
class AdminModel:
    on: str  # the world object its change, delete and history pages are about
    pages: dict
    overrides: dict | None = None


ADMIN_MODELS = {
    "accounts.auditlogentry": AdminModel(
        "audit_entry",
        ADMIN_READ_ONLY,
        # The audit log is for admins: viewers see an empty list and no entry.
        {
            ("change", "GET"): (200, TO_INDEX, TO_INDEX),
            ("history", "GET"): (200, TO_INDEX, TO_INDEX),
            ("history", "POST"): (200, TO_INDEX, TO_INDEX),
        },
    ),
    "employees.site": AdminModel(
        "site_a",
        ADMIN_EDITABLE,
        {("delete", "POST"): (200, 403, TO_INDEX)},  # its devices and events protect it: "cannot delete"
    ),
    "employees.department": AdminModel("department_empty", ADMIN_EDITABLE),
    "employees.shift": AdminModel("shift", ADMIN_EDITABLE),
    "employees.employee": AdminModel(
        "employee",
        ADMIN_EDITABLE,
        # Employees are deactivated (by the API), never deleted: attendance must be kept.
        {("delete", "GET"): (403, 403, 403), ("delete", "POST"): (403, 403, 403)},
    ),
    "attendance.device": AdminModel("device_spare", ADMIN_EDITABLE),
    "attendance.attendanceevent": AdminModel("event", ADMIN_READ_ONLY),
    "attendance.worksession": AdminModel("work_session", ADMIN_READ_ONLY),
    "biometrics.biometricconsent": AdminModel("consent", ADMIN_READ_ONLY),
    "biometrics.facetemplate": AdminModel("face_template", ADMIN_READ_ONLY),
    "biometrics.voicetemplate": AdminModel("voice_template", ADMIN_READ_ONLY),
    "biometrics.sitebiometricpolicy": AdminModel("site_policy", ADMIN_EDITABLE),
    "environment.conditionreading": AdminModel("reading", ADMIN_READ_ONLY),
    "simulations.simulationrun": AdminModel("simulation_run", ADMIN_READ_ONLY),
    # Django's users and groups: for superusers only.
    "auth.user": AdminModel("viewer_a", ADMIN_SUPERUSER_ONLY),
    "auth.group": AdminModel("viewers_group", ADMIN_SUPERUSER_ONLY),
}

ADMIN_PAGE_ROUTES = {
    "changelist": "/admin/{model}/",
    "add": "/admin/{model}/add/",
    "change": "/admin/{model}/<object_id>/change/",
    "delete": "/admin/{model}/<object_id>/delete/",
    "history": "/admin/{model}/<object_id>/history/",
    "object": "/admin/{model}/<object_id>/",
}
for _module in PLUGIN_MATRICES:
    ADMIN_MODELS.update(_module.admin_models(sys.modules[__name__]))

ADMIN_POST_BODIES = {
    "changelist": lambda pk: {"action": "delete_selected", "_selected_action": [pk]},
    "delete": lambda pk: {"post": "yes"},
}


def _admin_model_rows() -> list[Row]:
    rows = []
    for model in admin.site._registry:
        spec = ADMIN_MODELS.get(model._meta.label_lower)
        if spec is None and model._meta.app_label not in ROLE_MANAGED_APPS:
            # Django's and third-party models: refused before any lookup, so no object is needed.
            spec = AdminModel("", ADMIN_SUPERUSER_ONLY_NO_ROW)
        if spec is None:
            continue  # one of ours without an entry: test_every_route_and_method_has_a_row names it
        pages = {**spec.pages, **(spec.overrides or {})}
        for (page, method), people in pages.items():
            body = ADMIN_POST_BODIES.get(page) if method == "POST" and spec.on else None
            rows.append(
                Row(
                    ADMIN_PAGE_ROUTES[page].format(model=model._meta.label_lower.replace(".", "/")),
                    method,
                    (*people, *NO_SESSION),
                    on=spec.on,
                    body=(lambda w, make=body, on=spec.on: make(object_of(w, on).pk)) if body else None,
                )
            )
    return rows


ADMIN_ROWS = [
    row("/admin/", "GET", *PAGE),
    row("/admin/", "POST", *PAGE),
    row("/admin/login/", "GET", 302, 302, 302, 200, 200, 200),
    row("/admin/login/", "POST", 302, 302, 302, 302, 302, 302, body={"username": "admin-a", "password": "pw-admin-a"}),
    row("/admin/logout/", "GET", 405, 405, 405, TO_INDEX, TO_INDEX, TO_INDEX),
    row("/admin/logout/", "POST", LOGGED_OUT, LOGGED_OUT, LOGGED_OUT, TO_INDEX, TO_INDEX, TO_INDEX),
    row("/admin/password_change/", "GET", *PAGE),
    row("/admin/password_change/", "POST", *PAGE),  # an empty form: shown again with its errors
    row("/admin/password_change/done/", "GET", *PAGE),
    row("/admin/password_change/done/", "POST", 405, 405, 405, *NO_SESSION),
    row("/admin/autocomplete/", "GET", 403, 403, 403, *NO_SESSION),  # no field named: refused
    row("/admin/autocomplete/", "POST", 405, 405, 405, *NO_SESSION),
    row("/admin/jsi18n/", "GET", *PAGE),
    row("/admin/jsi18n/", "POST", 405, 405, 405, *NO_SESSION),
    # "View on site" of a site: none of our models has a public page, so there is nothing to see.
    row("/admin/r/<content_type_id>/<object_id>/", "GET", 404, 404, 404, *NO_SESSION, on="site_a"),
    row("/admin/r/<content_type_id>/<object_id>/", "POST", 404, 404, 404, *NO_SESSION, on="site_a"),
    row("/admin/<app_label>/", "GET", *PAGE),
    row("/admin/<app_label>/", "POST", *PAGE),
    row("/admin/<url>", "GET", 404, 404, 404, *NO_SESSION),
    row("/admin/<url>", "POST", 404, 404, 404, *NO_SESSION),
    # guardian's object permission pages of a site: who may see site A.
    row("/admin/employees/site/<object_pk>/permissions/", "GET", 200, TO_INDEX, 404, *NO_SESSION, on="site_a"),
    row("/admin/employees/site/<object_pk>/permissions/", "POST", 200, TO_INDEX, 404, *NO_SESSION, on="site_a"),
    row(
        "/admin/employees/site/<object_pk>/permissions/user-manage/<user_id>/",
        "GET",
        200,
        TO_INDEX,
        404,
        *NO_SESSION,
        on="site_a",
    ),
    row(
        "/admin/employees/site/<object_pk>/permissions/user-manage/<user_id>/",
        "POST",
        302,
        TO_INDEX,
        404,
        *NO_SESSION,
        on="site_a",
        body={"permissions": ["access_site"]},
    ),
    row(
        "/admin/employees/site/<object_pk>/permissions/group-manage/<group_id>/",
        "GET",
        200,
        TO_INDEX,
        404,
        *NO_SESSION,
        on="site_a",
    ),
    row(
        "/admin/employees/site/<object_pk>/permissions/group-manage/<group_id>/",
        "POST",
        302,
        TO_INDEX,
        404,
        *NO_SESSION,
        on="site_a",
        body={"permissions": ["access_site"]},
    ),
    row("/admin/auth/user/<id>/password/", "GET", 403, 403, 403, *NO_SESSION),
    row("/admin/auth/user/<id>/password/", "POST", 403, 403, 403, *NO_SESSION),
    *_admin_model_rows(),
]

# WebSocket routes, with what each caller's connection gets: the sites it is subscribed
# to, or the close code it is refused with.
WEBSOCKET_ROUTES = {
    "/ws/live/": {
        "admin_a": ["site_a"],
        "viewer_a": ["site_a"],
        "admin_b": ["site_b"],
        "device_a": 4401,
        "device_b": 4401,
        "anonymous": 4401,
    },
}

ROWS = [*API_ROWS, *PAGE_ROWS, *ADMIN_ROWS]


# --- The world the table runs against: one of everything, in site A --------------------


def _answer(response) -> str:
    if response.status_code in (301, 302):
        return f"{response.status_code} to {response['Location']}"
    return str(response.status_code)


def _matches(expected: Status, response) -> bool:
    location = response.get("Location", "")
    is_login = response.status_code == 302 and "/login/" in location
    if expected in (LOGIN, LOGGED_OUT):
        return is_login
    if expected == TO_INDEX:
        return response.status_code == 302 and location.split("?")[0] == "/admin/"
    return response.status_code == expected and not is_login


def _refused(expected: Status) -> bool:
    return expected in (LOGIN, TO_INDEX) or (isinstance(expected, int) and expected >= 400)


# --- The database must not move on a refusal -------------------------------------------


def _writes_so_far() -> int:
    """Rows written on this connection so far: a cheap test before comparing every table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Counts this transaction's writes, rolled-back savepoints included.
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        else:
            cursor.execute("SELECT total_changes()")
        return int(cursor.fetchone()[0])


def _process_caches_clear() -> None:
    # Galleries and active rule sets are cached per process under a site id; a rolled-back
    # cell must not leave the next one a cache built from rows that no longer exist.
    biometric_selectors.galleries.clear()
    environment_selectors.active_rule_sets.clear()


def _run_cell(client, row: Row, world: World, baseline: dict, *, must_not_write: bool, method: str | None = None):
    """Send one request in a savepoint that is rolled back; return (response, changed tables)."""
    cookies = copy.deepcopy(client.cookies)
    changed: list[str] = []
    try:
        with transaction.atomic():
            writes = _writes_so_far()
            response = request_send(client, row, world, method)
            if must_not_write and _writes_so_far() != writes:
                changed = tables_changed(baseline, database_state())
            transaction.set_rollback(True)
    finally:
        # A login or logout replaces the session cookie; the next cell needs the original.
        client.cookies = cookies
        _process_caches_clear()
    return response, changed


# --- What the resolver serves ----------------------------------------------------------


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _normalise(route: str) -> str:
    """``api/employees/^sites/(?P<pk>[^/.]+)/$`` -> ``/api/employees/sites/<pk>/``."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route)
    return "/" + route.replace("^", "").replace("$", "").replace("\\.", ".")


def _methods(callback) -> set[str]:
    view = getattr(callback, "cls", None)
    actions = getattr(callback, "actions", None)
    if actions and view is not None:  # a DRF viewset route: the actions it maps, less any method the viewset turns off
        return {method.upper() for method in actions if method in view.http_method_names} & set(METHODS)
    if view is not None:  # a DRF APIView
        return {m for m in METHODS if m.lower() in view.http_method_names and hasattr(view, m.lower())}
    # Django views (pages, the admin) tell GET from POST only; other verbs reach the GET
    # code (test_pages_and_admin_answer_other_verbs_as_reads).
    return {"GET", "POST"}


def served_routes() -> dict[tuple[str, str], bool]:
    """(route, method) -> whether DRF serves it, for every pattern the resolver reaches."""
    served: dict[tuple[str, str], bool] = {}
    seen_routes = set()
    for raw, pattern in _walk(get_resolver().url_patterns):
        route = _normalise(raw)
        # DRF's format-suffix twins (.json) are the same view with the same permissions;
        # a route seen before is shadowed (the streams list sits on its router's root).
        if "<format>" in route or route in seen_routes:
            continue
        seen_routes.add(route)
        is_drf = hasattr(pattern.callback, "cls")
        for method in _methods(pattern.callback):
            served[(route, method)] = is_drf
    return served


def websocket_routes() -> set[str]:
    from attendance_site.asgi import application

    inner = application
    while not hasattr(inner, "routes"):  # through the protocol router and every middleware
        mapping = getattr(inner, "application_mapping", None)
        if mapping:
            inner = mapping["websocket"]
        else:
            inner = next(getattr(inner, name) for name in ("application", "app", "inner") if hasattr(inner, name))
    return {_normalise(str(route.pattern)) for route in inner.routes}


# --- The tests ---------------------------------------------------------------------------


def test_every_route_and_method_has_a_row():
    served = set(served_routes())
    table = [item.key for item in ROWS]
    duplicated = sorted({key for key in table if table.count(key) > 1})
    missing = sorted(served - set(table))
    stale = sorted(set(table) - served)
    ours = {model._meta.label_lower for model in admin.site._registry if model._meta.app_label in ROLE_MANAGED_APPS}
    ours |= {"auth.user", "auth.group"}

    assert not missing, "served without a row in the access matrix (add one per method):\n" + "\n".join(
        f"  {method} {route}" for route, method in missing
    )
    assert not stale, "rows for nothing the resolver serves:\n" + "\n".join(f"  {m} {r}" for r, m in stale)
    assert not duplicated, f"rows given twice: {duplicated}"
    assert ours == set(ADMIN_MODELS), (
        f"admin models without an ADMIN_MODELS entry: {sorted(ours - set(ADMIN_MODELS))}; "
        f"entries for unregistered models: {sorted(set(ADMIN_MODELS) - ours)}"
    )
    assert websocket_routes() == set(WEBSOCKET_ROUTES)


def test_every_endpoint_answers_each_role_as_the_table_says(world, callers):
    baseline = database_state()
    failures = []
    cells = 0
    for item in ROWS:
        for role, expected in zip(ROLES, item.expected, strict=True):
            must_not_write = _refused(expected) or item.method == "GET"
            response, changed = _run_cell(callers[role], item, world, baseline, must_not_write=must_not_write)
            cells += 1
            if not _matches(expected, response):
                failures.append(f"{item.method} {item.route} as {role}: expected {expected}, got {_answer(response)}")
            if changed:
                failures.append(f"{item.method} {item.route} as {role} ({_answer(response)}) changed {changed}")
    print(f"\naccess matrix: {len(ROWS)} rows x {len(ROLES)} roles = {cells} cells")

    assert not failures, f"{len(failures)} of {cells} cells differ from the table:\n" + "\n".join(failures)


def test_pages_and_admin_change_nothing_on_other_verbs(world, callers):
    """Django views (pages, the admin) tell only GET from POST, so the table has rows for
    those two; PUT, PATCH and DELETE must change nothing and fail no view, even for site
    A's admin (they get the GET page, a 405, or the admin's login form)."""
    baseline = database_state()
    drf = served_routes()
    failures = []
    for item in ROWS:
        if item.method != "GET" or drf[item.key]:
            continue
        for verb in ("PUT", "PATCH", "DELETE"):
            response, changed = _run_cell(callers["admin_a"], item, world, baseline, must_not_write=True, method=verb)
            if response.status_code >= 500 or changed:
                failures.append(f"{verb} {item.route}: {_answer(response)}, changed {changed}")

    assert not failures, "\n".join(failures)


@pytest.mark.django_db(transaction=True)
def test_websocket_routes_subscribe_each_role_to_its_sites_only(
    site_a, site_b, admin_a, viewer_a, admin_b, device_a, device_b
):
    people = {"admin_a": admin_a, "viewer_a": viewer_a, "admin_b": admin_b}
    devices = {"device_a": device_a, "device_b": device_b}
    sites = {"site_a": site_a.pk, "site_b": site_b.pk}

    def headers_for(role: str) -> list[tuple[bytes, bytes]]:
        headers = [(b"origin", b"http://127.0.0.1")]
        if role in people:
            client = Client()
            client.force_login(people[role])
            headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
        elif role in devices:
            headers.append((b"authorization", f"Device {devices[role].credential}".encode()))
        return headers

    async def connect(route: str, role: str, headers: list):
        """The subscribed sites from the greeting, or the close code of a refusal."""
        from attendance_site.asgi import application

        scope = {"type": "websocket", "path": route, "query_string": b"", "headers": headers}
        communicator = ApplicationCommunicator(application, {**scope, "client": ("127.0.0.1", 50000)})
        await communicator.send_input({"type": "websocket.connect"})
        try:
            answer = await communicator.receive_output(timeout=5)
            if answer["type"] == "websocket.close":
                return answer.get("code")
            greeting = await communicator.receive_output(timeout=5)
            return sorted(json.loads(greeting["text"])["sites"])
        finally:
            await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
            await communicator.wait(timeout=5)

    failures = []
    for route, expected_by_role in WEBSOCKET_ROUTES.items():
        for role, expected in expected_by_role.items():
            wanted = sorted(sites[name] for name in expected) if isinstance(expected, list) else expected
            answer = async_to_sync(connect)(route, role, headers_for(role))
            if answer != wanted:
                failures.append(f"{route} as {role}: expected {wanted}, got {answer}")

    assert not failures, "\n".join(failures)
