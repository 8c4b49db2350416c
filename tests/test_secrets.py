"""Secrets stay where they belong: canaries searched for everywhere else (issue #10, item 8).

Each canary is a distinctive secret planted the way people plant it: a camera URL's
password, device credentials, API tokens, a person's password, the biometric template key,
an employee's QR page link and QR code.
The test then drives the system through the API, the pages and the admin, including
requests that fail with a canary in their body, and searches every place a secret could
leak to: log records and process output, task messages (as published, and as they sit in
Redis with everything else Redis holds), every response body and header, the files under
STREAMS_ROOT, the admin's pages, and the database in the clear. A canary may appear only in
the one response that hands it out.

A new kind of secret (webhook secrets, HRMS connector credentials) adds a function to
CANARY_SOURCES that plants one through the API and returns it; a new place a secret could
reach (an export folder, a webhook's outbox) joins the places searched at the end.
"""

import base64
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from celery.signals import before_task_publish, task_prerun
from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import connections
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from attendance_site import celery_app
from attendance_site.testing.processes import child_process_env, free_port
from attendance_site.testing.web_server import WebServer, api_token, http_request
from biometrics import crypto
from biometrics.services.qr import qr_page_link_issue, qr_token_issue
from streaming.models import CameraHostAllowance, CameraStream
from streaming.services import camera_stream_run, stream_output_dir
from streaming.tests.conftest import queued_not_run  # noqa: F401 (fixture)
from streaming.tests.test_pipeline import looped_clip, needs_av, needs_rtsp_server, server  # noqa: F401 (fixtures)
from tests.factories import EmployeeFactory
from tests.test_access_matrix import ROLES, ROWS
from tests.world import (  # noqa: F401 (fixtures)
    CAMERA_PASSWORD,
    World,
    admin_b_fixture,
    callers_fixture,
    fast_password_hashing_fixture,
    request_send,
    world_fixture,
)

FACES = Path(__file__).resolve().parent / "data" / "faces"
PERSON_PASSWORD = "Pw-Canary-3c91e0-long enough"


@dataclass(frozen=True)
class Canary:
    name: str
    value: str
    # The responses allowed to carry it, as "METHOD /path": the one that hands it out.
    handed_out_by: tuple[str, ...] = ()
    # Places (keys of the search) where it is known to sit, each with the reason.
    known_in: tuple[str, ...] = ()


@dataclass
class Scenario:
    """What the canaries were exposed to: every response, task message and page."""

    world: World
    callers: dict[str, APIClient]
    responses: list[tuple[str, bytes]]  # ("METHOD /path", status line, headers and body)
    admin_pages: list[tuple[str, bytes]]
    task_messages: list[str]

    def record(self, label: str, response):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        cookies = response.cookies.output()
        self.responses.append((label, f"{response.status_code}\n{headers}\n{cookies}\n".encode() + body))
        return response

    def send(self, client: APIClient, method: str, path: str, body=None, **extra):
        response = getattr(client, method.lower())(path, body, **extra)
        return self.record(f"{method} {path}", response)


# --- Where the canaries come from ---------------------------------------------------------


def camera_passwords(scenario: Scenario) -> list[Canary]:
    # The world's camera was registered with one; register another through the API.
    world, admin_a = scenario.world, scenario.callers["admin_a"]
    password = "Cam-Canary-api-pw-8e2f44"
    created = scenario.send(
        admin_a,
        "POST",
        "/api/streams/",
        {"site": world.site_a.pk, "name": "Gate", "url": f"rtsp://gate:{password}@10.20.1.9/live"},
        format="json",
    )
    assert created.status_code == 201, created.content
    return [Canary("camera password (service)", CAMERA_PASSWORD), Canary("camera password (API)", password)]


def device_credentials(scenario: Scenario) -> list[Canary]:
    world, admin_a = scenario.world, scenario.callers["admin_a"]
    created = scenario.send(
        admin_a, "POST", "/api/attendance/devices/", {"site": world.site_a.pk, "name": "Door"}, format="json"
    )
    assert created.status_code == 201, created.content
    return [
        Canary("device credential (service)", world.device_credentials["device_a"]),
        Canary("device credential (API)", created.json()["credential"], ("POST /api/attendance/devices/",)),
    ]


def _token_of(client: APIClient) -> str:
    # APIClient keeps what credentials() was given only in this private attribute.
    return client._credentials["HTTP_AUTHORIZATION"].split()[-1]  # type: ignore[attr-defined]


def api_tokens(scenario: Scenario) -> list[Canary]:
    issued = scenario.send(
        APIClient(), "POST", "/api/auth/token/", {"username": "admin-a", "password": "pw-admin-a"}, format="json"
    )
    assert issued.status_code == 200, issued.content
    # DRF's authtoken keeps tokens in the clear and lists them in the admin; hashed tokens
    # replace it (issue #10), and from then on tokens are held to the rule like any secret.
    known = ("database", "admin pages") if "rest_framework.authtoken" in settings.INSTALLED_APPS else ()
    return [
        Canary("API token (fixture)", _token_of(scenario.callers["viewer_a"]), known_in=known),
        Canary("API token (issued)", issued.json()["token"], ("POST /api/auth/token/",), known_in=known),
    ]


def person_passwords(scenario: Scenario) -> list[Canary]:
    user_create(username="canary-person", password=PERSON_PASSWORD, role=Role.VIEWER, sites=[scenario.world.site_a])
    return [Canary("person's password", PERSON_PASSWORD), Canary("mistyped password", PERSON_PASSWORD + "?")]


def template_key(scenario: Scenario) -> list[Canary]:
    return [Canary("biometric template key", settings.BIOMETRIC_TEMPLATE_KEYS[0])]


def qr_credentials(scenario: Scenario) -> list[Canary]:
    """An employee's QR page link is a bearer credential, and so is the code it shows."""
    world = scenario.world
    token = qr_token_issue(employee=world.employee_unconsented).token
    checked = scenario.send(
        scenario.callers["device_a"],
        "POST",
        "/api/biometrics/device/qr-check/",
        {"token": token, "direction": "in", "client_event_id": "secret-qr"},
        format="json",
    )
    assert checked.status_code == 201, checked.content
    return [
        Canary(
            "QR page link", world.qr_link, ("GET /api/biometrics/enrolments/<pk>/qr-link/", "GET /qr/<link_token>/")
        ),
        Canary("QR code", token),
    ]


# Later apps add theirs (webhook secrets, connector credentials): plant through the API.
CANARY_SOURCES: list[Callable[[Scenario], list[Canary]]] = [
    camera_passwords,
    device_credentials,
    api_tokens,
    person_passwords,
    template_key,
    qr_credentials,
]


# --- What the system is put through ---------------------------------------------------------


def every_get(scenario: Scenario) -> None:
    """Every GET of the access matrix, by the first role the table lets in."""
    for item in ROWS:
        if item.method != "GET":
            continue
        role = next((role for role, status in zip(ROLES, item.expected, strict=True) if status == 200), None)
        if role is not None:
            scenario.record(f"GET {item.route}", request_send(scenario.callers[role], item, scenario.world))


def refused_with_canaries_in_the_body(scenario: Scenario, canaries: list[Canary]) -> None:
    """Requests that fail, carrying a secret: the error must not repeat it."""
    world, admin_a, anonymous = scenario.world, scenario.callers["admin_a"], APIClient()
    password = CAMERA_PASSWORD
    for url in [
        f"rtsp://cam:{password}@10.20.1.7/;reboot",  # a shell character
        f"rtsp://cam:{password}@192.168.77.7/s",  # not on the allowlist
        f"http://cam:{password}@10.20.1.7/s",  # not RTSP
        f"rtsp://cam:{password}/s",  # the host forgotten: the password reads as a port
        f"rtsp://cam:{password}@10.20.1.7:99999/s",  # port out of range
        f"rtsp://cam:{password}@10.20.1.7/" + "x" * 600,  # too long
        f"rtsp://cam:{password}@@10.20.1.7/s",
        f"rtsp://cam:{password}@[10.20.1.7/s",
    ]:
        scenario.send(
            admin_a, "POST", "/api/streams/", {"site": world.site_a.pk, "name": "X", "url": url}, format="json"
        )
    # The same name twice at a site, with a valid URL: refused by the unique constraint.
    scenario.send(
        admin_a,
        "POST",
        "/api/streams/",
        {"site": world.site_a.pk, "name": "Lobby", "url": f"rtsp://cam:{password}@10.20.1.8/s"},
        format="json",
    )
    for canary in canaries:
        wrong = canary.value + "x"
        device, token = APIClient(), APIClient()
        device.credentials(HTTP_AUTHORIZATION=f"Device {wrong}")
        token.credentials(HTTP_AUTHORIZATION=f"Token {wrong}")
        scenario.send(device, "GET", "/api/attendance/device/me/")
        scenario.send(token, "GET", "/api/accounts/me/")
        scenario.send(anonymous, "POST", "/api/auth/token/", {"username": "canary-person", "password": wrong})
    form = {"username": "canary-person", "password": PERSON_PASSWORD + "?"}
    scenario.send(APIClient(), "POST", "/accounts/login/", form, format="multipart")
    scenario.send(APIClient(), "POST", "/admin/login/", form, format="multipart")


def used_as_intended(scenario: Scenario) -> None:
    """Each secret at work: devices check in, people sign in, cameras start and stop,
    faces are enrolled and recognised under the template key."""
    world, callers = scenario.world, scenario.callers
    scenario.send(
        callers["device_a"],
        "POST",
        "/api/attendance/device/check-in/",
        {"employee": world.employee_unconsented.pk, "method": "pin", "client_event_id": "secret-1"},
        format="json",
    )
    person = APIClient()
    form = {"username": "canary-person", "password": PERSON_PASSWORD}
    scenario.send(person, "POST", "/accounts/login/", form, format="multipart")
    scenario.send(person, "GET", "/dashboard/")
    scenario.send(APIClient(), "POST", "/api/auth/token/", form, format="json")
    stream = f"/api/streams/{world.stream.pk}/"
    for action in ("stop/", "start/"):
        scenario.send(callers["admin_a"], "POST", stream + action)
    scenario.send(callers["admin_a"], "GET", "/api/accounts/audit-log/")
    enrolled = scenario.send(
        callers["admin_a"],
        "POST",
        f"/api/biometrics/enrolments/{world.employee.pk}/face/",
        {"images": [io.BytesIO((FACES / "obama_01.jpg").read_bytes())]},
        format="multipart",
    )
    assert enrolled.status_code == 201, enrolled.content
    # Recognition runs in a worker: here in-process, its task arguments recorded all the same.
    celery_app.conf.task_always_eager = True
    try:
        checked = scenario.send(
            callers["device_a"],
            "POST",
            "/api/biometrics/device/face-check/",
            {"image": io.BytesIO((FACES / "obama_04.jpg").read_bytes()), "direction": "out", "client_event_id": "f"},
            format="multipart",
        )
    finally:
        celery_app.conf.task_always_eager = False
    assert checked.status_code == 201, checked.content
    gate = CameraStream.objects.get(site=world.site_a, name="Gate")
    scenario.send(callers["admin_a"], "DELETE", f"/api/streams/{gate.pk}/")


def admin_pages(scenario: Scenario) -> None:
    """Every admin list and change page, as a superuser: the admin shows them everything."""
    root = apps.get_model("auth", "User").objects.create_superuser(username="root", password=None, email="")
    superuser = APIClient()
    superuser.force_login(root)
    request = RequestFactory().get("/admin/")
    request.user = root
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        pages = [reverse("admin:{}_{}_changelist".format(*info))]
        pages += [
            reverse("admin:{}_{}_change".format(*info), args=[pk])
            for pk in model_admin.get_queryset(request).values_list("pk", flat=True)[:20]
        ]
        for page in pages:
            response = superuser.get(page)
            scenario.admin_pages.append((f"GET {page} ({response.status_code})", response.content))


# --- Where the canaries are searched for ---------------------------------------------------


def _redis_contents() -> Iterable[tuple[str, bytes]]:
    """Every value in Redis (broker queues, results, cache, channel layer), message bodies decoded."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(count=1000):
        kind = _raw(client.type(key)).decode()
        values: list[bytes]
        if kind == "string":
            values = [_raw(client.get(key))]
        elif kind == "list":
            values = [_raw(value) for value in client.lrange(key, 0, -1)]
        elif kind == "hash":
            values = [b"%s=%s" % (_raw(field), _raw(value)) for field, value in client.hgetall(key).items()]
        elif kind == "set":
            values = [_raw(value) for value in client.smembers(key)]
        elif kind == "zset":  # members only: no scores are asked for
            values = [_raw(value) for value in client.zrange(key, 0, -1) if isinstance(value, bytes | str)]
        else:
            values = []
        name = _raw(key).decode(errors="replace")
        for value in values:
            yield name, value
            yield name, _decoded_message_body(value)


def _raw(value: bytes | str | None) -> bytes:
    # The client does not decode responses, so a value is bytes; its types allow str too.
    if isinstance(value, str):
        return value.encode()
    return value or b""


def _decoded_message_body(value: bytes) -> bytes:
    # Kombu keeps a task's arguments base64-encoded inside its JSON envelope.
    try:
        envelope = json.loads(value)
        if envelope.get("properties", {}).get("body_encoding") == "base64":
            return base64.b64decode(envelope["body"])
    except (ValueError, AttributeError, TypeError, KeyError):
        pass
    return b""


def _database_contents() -> Iterable[tuple[str, bytes]]:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        columns = [field.attname for field in model._meta.concrete_fields]
        for values in model._base_manager.values_list(*columns).iterator():
            yield (
                model._meta.label,
                repr(values).encode()
                + b"".join(bytes(value) for value in values if isinstance(value, bytes | memoryview)),
            )


def _files_under(root: str) -> Iterable[tuple[str, bytes]]:
    for path in Path(root).rglob("*"):
        if path.is_file():
            yield str(path), path.read_bytes()


@dataclass(frozen=True)
class Leak:
    canary: str
    place: str
    where: str


def _search(canaries: list[Canary], place: str, items: Iterable[tuple[str, bytes]]) -> list[Leak]:
    leaks = []
    for where, content in items:
        for canary in canaries:
            if canary.value.encode() in content:
                if (place == "responses" and where in canary.handed_out_by) or place in canary.known_in:
                    continue
                leaks.append(Leak(canary.name, place, where))
    return leaks


@pytest.fixture(name="template_key")
def template_key_fixture(settings):
    """A fresh template key, in force before the world's templates are encrypted."""
    settings.BIOMETRIC_TEMPLATE_KEYS = [Fernet.generate_key().decode()]
    crypto._fernet.cache_clear()
    yield settings.BIOMETRIC_TEMPLATE_KEYS[0]
    crypto._fernet.cache_clear()


@pytest.fixture
def published_tasks():
    """Tasks go to the broker (Redis) instead of running; what is published is recorded."""
    messages: list[str] = []

    def on_publish(sender=None, body=None, headers=None, **kwargs):
        messages.append(f"{sender} {body!r} {headers!r}")

    def on_eager_run(sender=None, args=None, kwargs=None, **extra):
        messages.append(f"{sender.name} {args!r} {kwargs!r}")

    before_task_publish.connect(on_publish)
    task_prerun.connect(on_eager_run)
    eager_before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield messages
    celery_app.conf.task_always_eager = eager_before
    before_task_publish.disconnect(on_publish)
    task_prerun.disconnect(on_eager_run)


@pytest.fixture
def all_logs(caplog):
    """Every log record of every logger, down to DEBUG, with its traceback."""
    caplog.set_level(logging.DEBUG)
    quiet = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and logger.propagate is False
    ]
    for logger in quiet:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in quiet:
        logger.removeHandler(caplog.handler)


def test_no_secret_reaches_logs_tasks_redis_responses_files_admin_pages_or_the_database(
    template_key, world, callers, published_tasks, all_logs, capfd, django_capture_on_commit_callbacks
):
    CameraHostAllowance.objects.create(site=world.site_a, host="10.20.1.9")
    scenario = Scenario(world, callers, responses=[], admin_pages=[], task_messages=published_tasks)
    with django_capture_on_commit_callbacks(execute=True):
        canaries = [canary for source in CANARY_SOURCES for canary in source(scenario)]
        used_as_intended(scenario)
        # After the good logins: the failed ones also lock the person out (LOGIN_FAILURE_LIMIT).
        refused_with_canaries_in_the_body(scenario, canaries)
        every_get(scenario)
        admin_pages(scenario)
    output = capfd.readouterr()

    places = {
        "log records": [(record.name, all_logs.handler.format(record).encode()) for record in all_logs.records],
        "process output": [("stdout", output.out.encode()), ("stderr", output.err.encode())],
        "task messages": [(message.split(" ", 1)[0], message.encode()) for message in published_tasks],
        "Redis": list(_redis_contents()),
        "responses": scenario.responses,
        "stream files": list(_files_under(settings.STREAMS_ROOT)),
        "admin pages": scenario.admin_pages,
        "database": list(_database_contents()),
    }
    leaks = [leak for place, items in places.items() for leak in _search(canaries, place, items)]
    searched = {place: len(items) for place, items in places.items()}
    print(f"\nsecrets: {len(canaries)} canaries searched in {searched}")

    assert published_tasks, "no task was published: the broker check saw nothing"
    assert scenario.admin_pages and scenario.responses and all_logs.records
    assert not leaks, "\n".join(f"{leak.canary} in {leak.place}: {leak.where}" for leak in leaks)


@pytest.mark.parametrize(
    "url",
    [
        f"rtsp://cam:{CAMERA_PASSWORD}/stream",  # the host forgotten: urllib reads the password as the port
        f"rtsp://cam:{CAMERA_PASSWORD}@10.20.1.7:99999/stream",
        f"rtsp://cam:{CAMERA_PASSWORD}@[10.20.1.7/stream",
        f"rtsp://cam:{CAMERA_PASSWORD}@192.168.77.7/stream",  # not on the allowlist
        f"rtsp://cam:{CAMERA_PASSWORD}@10.20.1.7/;reboot",
    ],
)
def test_a_refused_camera_url_is_not_repeated_in_the_error(admin_client, site_a, url):
    CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")

    response = admin_client.post("/api/streams/", {"site": site_a.pk, "name": "Door", "url": url}, format="json")

    assert response.status_code == 400
    assert CAMERA_PASSWORD not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_running_camera_keeps_its_password_out_of_playlists_logs_status_and_redis(
    server,  # noqa: F811 (the fixture imported above)
    admin_client,
    site_a,
    queued_not_run,  # noqa: F811 (the fixture imported above)
    settings,
    tmp_path,
    all_logs,
    capfd,
):
    """The real pipeline, through the camera gateway, for one camera that streams and one
    that cannot be reached: its password stays in the encrypted column."""
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    CameraHostAllowance.objects.create(site=site_a, host="127.0.0.1")
    with_password = server.url.replace("rtsp://", f"rtsp://cam:{CAMERA_PASSWORD}@")
    unreachable = f"rtsp://cam:{CAMERA_PASSWORD}@127.0.0.1:{free_port()}/test"
    streams = {}
    for name, url in (("Live", with_password), ("Dead", unreachable)):
        created = admin_client.post(
            "/api/streams/", {"site": site_a.pk, "name": name, "url": url, "label_faces": True}, format="json"
        )
        assert created.status_code == 201, created.json()
        streams[name] = CameraStream.objects.get(pk=created.json()["id"])
    runners = [
        threading.Thread(target=_stream_run, args=(stream.pk, stream.run_token), daemon=True)
        for stream in streams.values()
    ]
    for runner in runners:
        runner.start()
    try:
        playlist = stream_output_dir(streams["Live"].pk) / "index.m3u8"
        _wait_for(lambda: playlist.exists() and ".ts" in playlist.read_text(), "the first HLS segment")
        _wait_for(lambda: CameraStream.objects.get(name="Dead").last_error, "the unreachable camera's error")
        answers = [admin_client.get(f"/api/streams/{stream.pk}/") for stream in streams.values()]
        answers.append(admin_client.get("/api/streams/"))
        for stream in streams.values():
            answers.append(admin_client.post(f"/api/streams/{stream.pk}/stop/"))
    finally:
        CameraStream.objects.update(run_token="")  # every pipeline sees its lease gone and stops
        for runner in runners:
            runner.join(timeout=20)
    output = capfd.readouterr()

    places = {
        "stream files": list(_files_under(settings.STREAMS_ROOT)),
        "log records": [(record.name, all_logs.handler.format(record).encode()) for record in all_logs.records],
        "process output": [("stdout", output.out.encode()), ("stderr", output.err.encode())],
        "responses": [(answer.request["PATH_INFO"], answer.content) for answer in answers],
        "Redis": list(_redis_contents()),  # the status messages sent to the live channel
        "database": list(_database_contents()),
    }
    canary = Canary("camera password", CAMERA_PASSWORD)
    leaks = [leak for place, items in places.items() for leak in _search([canary], place, items)]

    assert not any(runner.is_alive() for runner in runners)
    assert any(name.endswith(".ts") for name, _ in places["stream files"])
    assert not leaks, "\n".join(f"{leak.place}: {leak.where}" for leak in leaks)


def _stream_run(stream_id: int, run_token: str) -> None:
    try:
        camera_stream_run(stream_id=stream_id, run_token=run_token)
    finally:
        connections.close_all()  # the thread's own connection, or the test database stays in use


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_the_web_process_writes_no_bearer_link_or_credential_to_its_output(
    site_a, admin_user, device_a, tmp_path, settings
):
    """The command `make run` starts, access log included: what it prints is what operators keep."""
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    employee = EmployeeFactory(site=site_a)
    link = qr_page_link_issue(employee=employee)
    CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")
    with WebServer(env=child_process_env(STREAMS_ROOT=settings.STREAMS_ROOT), log_path=tmp_path / "web.log") as web:
        token = api_token(web, "hr-admin", "pw-admin-123")
        device = {"Authorization": f"Device {device_a.credential}"}
        camera = {"site": site_a.pk, "name": "Hall", "url": f"rtsp://cam:{CAMERA_PASSWORD}@10.20.1.7/s"}
        answers = [
            http_request(web, "GET", f"/qr/{link}/"),
            http_request(web, "GET", f"/qr/{link}/code.png"),
            http_request(web, "GET", f"/qr/{link}x/"),  # a broken link: a 404, which Django logs too
            http_request(web, "GET", "/api/attendance/device/me/", headers=device),
            http_request(web, "GET", "/api/accounts/me/", headers={"Authorization": token}),
            http_request(
                web,
                "POST",
                "/api/streams/",
                headers={"Authorization": token, "Content-Type": "application/json"},
                body=json.dumps(camera).encode(),
            ),
        ]
    output = (tmp_path / "web.log").read_text()
    canaries = [
        Canary("QR page link", link),
        Canary("device credential", device_a.credential),
        Canary("API token", token.split()[-1]),
        Canary("camera password", CAMERA_PASSWORD),
    ]

    assert [status for status, _, _ in answers] == [200, 200, 404, 200, 200, 201]
    assert '"GET /' in output  # the access log is on, as in production
    leaks = _search(canaries, "web process output", [("web.log", output.encode())])
    assert not leaks, "\n".join(f"{leak.canary} in the web process's output" for leak in leaks)
