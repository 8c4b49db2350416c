"""Redis or the database down: a real web server answers 503 with Retry-After, never 500.

A web process (the command `make run` starts) serves this run's test database with a
Redis of its own, which the test stops. Check-ins that need nothing but the database are
still accepted, and their domain event waits in the log for the sweeper; everything that
needs Redis says 503 and when to retry. A second server is pointed at a database that
is not there.
"""

import json
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from attendance_site.embedded_redis import embedded_redis_start, free_port
from attendance_site.events.models import DomainEvent
from attendance_site.testing.processes import child_process_env
from attendance_site.testing.web_server import api_token, http_request, web_serving
from biometrics.services.consent import consent_grant
from biometrics.services.enrolment import face_templates_enroll
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db(transaction=True)

FACES = Path(settings.BASE_DIR) / "tests" / "data" / "faces"
RECOGNITION_TIMEOUT_SECONDS = 3


def json_request(server, method, path, *, credential_header: str, payload=None):
    headers = {"Authorization": credential_header, "Accept": "application/json"}
    body = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(payload).encode()
    return http_request(server, method, path, headers=headers, body=body)


def assert_unavailable(answer, *, json_body: bool = True) -> None:
    status, headers, body = answer
    assert status == 503, body[:500]
    assert int(headers["retry-after"]) > 0
    if json_body:
        errors = json.loads(body)["errors"]
        assert errors[0]["code"] in ("service_unavailable", "recognition_unavailable"), errors


@pytest.fixture
def own_redis():
    redis = embedded_redis_start()
    yield redis
    redis.stop()


@pytest.fixture
def server(own_redis, tmp_path, request):
    # Tasks go to the broker as in production (no eager run in the web process).
    env = child_process_env(
        REDIS_URL=own_redis.url,
        CELERY_TASK_ALWAYS_EAGER="false",
        BIOMETRIC_RECOGNITION_TIMEOUT_SECONDS=str(RECOGNITION_TIMEOUT_SECONDS),
        REDIS_SOCKET_TIMEOUT_SECONDS="2",
    )
    with web_serving(env=env, log_path=tmp_path / "web.log", request=request) as web:
        yield web


@pytest.fixture
def people(site_a, admin_a, device_a):
    employee = EmployeeFactory(site=site_a)
    consent_grant(actor=admin_a, employee=employee, notice_version="v1")
    face_templates_enroll(actor=admin_a, employee=employee, images=[(FACES / "obama_01.jpg").read_bytes()])
    return {"employee": employee, "device": f"Device {device_a.credential}", "site": site_a}


def test_redis_down_check_ins_are_kept_and_what_needs_redis_answers_503(server, own_redis, people):
    device = people["device"]
    admin = api_token(server, "admin-a", "pw-admin-a")
    own_redis.stop()

    pin = json_request(
        server,
        "POST",
        "/api/attendance/device/check-in/",
        credential_header=device,
        payload={"employee": people["employee"].pk, "client_event_id": f"outage-{uuid.uuid4().hex}", "method": "pin"},
    )
    modes = json_request(server, "GET", "/api/environment/device-modes/modes/", credential_header=device)
    presence = json_request(
        server, "GET", f"/api/dashboard/presence/?site={people['site'].pk}", credential_header=admin
    )
    boundary = uuid.uuid4().hex
    face_body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="direction"\r\n\r\nin\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="client_event_id"\r\n\r\nface-{boundary}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + (FACES / "obama_04.jpg").read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    face = http_request(
        server,
        "POST",
        "/api/biometrics/device/face-check/",
        headers={"Authorization": device, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        body=face_body,
        # The documented wait, plus room for a slow machine: a hang fails here.
        timeout=RECOGNITION_TIMEOUT_SECONDS + 10,
    )

    assert pin[0] == 201, pin[2][:500]
    event_id = json.loads(pin[2])["event"]["id"]
    waiting = DomainEvent.objects.get(type="attendance.event_recorded", payload__attendance_event_id=event_id)
    assert waiting.dispatched_at is None  # the sweeper delivers it once Redis is back
    assert modes[0] == 200, modes[2][:500]  # rule sets are read from the database instead
    assert_unavailable(presence)  # live sequence numbers live in Redis
    assert_unavailable(face)
    assert json.loads(face[2])["errors"][0]["code"] == "recognition_unavailable"
    assert_unavailable(http_request(server, "GET", "/readyz"), json_body=False)
    assert http_request(server, "GET", "/healthz")[0] == 200


@pytest.fixture
def server_without_database(tmp_path, request):
    """A web server whose database cannot be opened: SQLite in a folder that does not exist,
    or a PostgreSQL port nobody listens on (with a short pool wait)."""
    if request.param == "sqlite":
        database = {"SQLITE_PATH": str(tmp_path / "missing" / "db.sqlite3")}
    else:
        database = {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/gone",
            "DATABASE_POOL_TIMEOUT_SECONDS": "1",
        }
    env = {key: value for key, value in child_process_env().items() if key not in ("DATABASE_URL", "SQLITE_PATH")}
    with web_serving(env={**env, **database}, log_path=tmp_path / "web.log", request=request) as web:
        yield web


@pytest.mark.parametrize("server_without_database", ["sqlite", "postgresql"], indirect=True)
def test_database_down_every_kind_of_request_answers_503(server_without_database):
    server = server_without_database
    check_in = json_request(
        server,
        "POST",
        "/api/attendance/device/check-in/",
        credential_header="Device dev_abc_def",
        payload={"employee": 1, "client_event_id": "x", "method": "pin"},
    )
    api_list = json_request(server, "GET", "/api/employees/employees/", credential_header="Token abc")
    # A well-formed session key, so that Django looks it up.
    page = http_request(server, "GET", "/dashboard/", headers={"Cookie": f"sessionid={uuid.uuid4().hex}"})
    login = http_request(
        server,
        "POST",
        "/admin/login/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"username=a&password=b",
    )

    assert_unavailable(check_in)
    assert_unavailable(api_list)
    assert_unavailable(page, json_body=False)
    assert b"Unavailable for the moment" in page[2]
    assert login[0] in (403, 503), login[2][:300]  # CSRF refuses it first, or the database is missing
    assert_unavailable(http_request(server, "GET", "/readyz"), json_body=False)
    assert http_request(server, "GET", "/healthz")[0] == 200
    assert "Traceback" not in server.log_tail(chars=10**6) or "dependency unavailable" in server.log_tail(chars=10**6)
