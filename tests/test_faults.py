"""Faults injected into the whole system as `make run` starts it, while check-ins arrive.

The runner (attendance_site.runner) starts its embedded Redis, the web server, the
Celery workers and beat against this run's test database, and runs a camera (GStreamer's
RTSP test pattern). Devices keep checking people in, retrying with the same client event
id after any failure, as real kiosks do. Then: the streams worker is SIGKILLed while it
processes the camera; the worker is SIGKILLed during a face recognition and again while
it delivers events; Redis is paused for 30 s (SIGSTOP: connections hang, they are not
refused) and later SIGKILLed, so the supervisor restarts it empty and every queued task
is lost.

Afterwards, without anyone stepping in: every check-in is stored exactly once, with one
work session and one domain event; every domain event (check-ins, the camera's changes
of state) ends delivered, each to every handler of its type exactly once, those written
while Redis was paused by the sweeper; the system answers ready, a new check-in reaches
the live feed, and the camera is live again under a new run.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django.utils import timezone

from attendance.models import AttendanceEvent, WorkSession
from attendance_site.embedded_redis import free_port
from attendance_site.events.models import DomainEvent, DomainEventDelivery
from attendance_site.registry import registry
from attendance_site.testing.processes import child_process_env
from attendance_site.testing.web_server import api_token, http_request
from biometrics.services.consent import consent_grant
from biometrics.services.enrolment import face_templates_enroll
from streaming.models import CameraStream
from streaming.tests.test_pipeline import RtspServer, needs_av, needs_rtsp_server  # noqa: F401 (fixtures)
from tests.factories import EmployeeFactory

pytestmark = [pytest.mark.real_worker, pytest.mark.django_db(transaction=True)]

FACES = Path(settings.BASE_DIR) / "tests" / "data" / "faces"
START_TIMEOUT = 120.0
SETTLE_TIMEOUT = 150.0
REDIS_PAUSE_SECONDS = 30
CHECK_IN = "/api/attendance/device/check-in/"
FACE_CHECK = "/api/biometrics/device/face-check/"


class Runner:
    """`python -m attendance_site.runner` in its own process group, with its log."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int):
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "attendance_site.runner"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child(self, marker: str) -> psutil.Process | None:
        """The runner's running child whose command line contains marker, if there is one."""
        for process in psutil.Process(self.process.pid).children():
            try:
                if marker in " ".join(process.cmdline()) and process.status() != psutil.STATUS_ZOMBIE:
                    return process
            except psutil.NoSuchProcess:
                continue
        return None

    def redis(self) -> psutil.Process:
        found = self.child("redis-server")
        assert found is not None, f"no Redis running; log:\n{self.log()[-3000:]}"
        return found

    def worker(self) -> psutil.Process:
        found = self.child("worker@")
        assert found is not None, f"no worker running; log:\n{self.log()[-3000:]}"
        return found

    def replaced(self, marker: str, old: psutil.Process) -> bool:
        """True once a new child (not old) runs under the marker."""
        new = self.child(marker)
        return new is not None and new.pid != old.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def kill_tree(process: psutil.Process) -> None:
    """SIGKILL a process and its children at once, as a lost container would go."""
    victims = [process, *process.children(recursive=True)]
    for victim in victims:
        try:
            victim.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass


def wait_for(condition, timeout: float, what: str, runner: Runner) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if runner.process.poll() is not None:
            pytest.fail(f"the runner exited with {runner.process.returncode}:\n{runner.log()[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout:.0f} s; runner log:\n{runner.log()[-4000:]}")
        time.sleep(0.5)


@dataclass
class Kiosk:
    """A device that checks people in one after another and retries each until it is stored."""

    runner: Runner
    credential: str
    employees: list[int]
    statuses: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, status)
    attempted: list[str] = field(default_factory=list)  # client event ids sent
    stored: dict[str, int] = field(default_factory=dict)  # client event id -> event id
    stop: threading.Event = field(default_factory=threading.Event)

    def check_in(self, employee_id: int, client_event_id: str) -> None:
        self.attempted.append(client_event_id)
        body = json.dumps({"employee": employee_id, "client_event_id": client_event_id, "method": "pin"}).encode()
        while True:
            try:
                status, _, answer = http_request(
                    self.runner,
                    "POST",
                    CHECK_IN,
                    headers={"Authorization": f"Device {self.credential}", "Content-Type": "application/json"},
                    body=body,
                    timeout=20,
                )
            except OSError:
                status, answer = 0, b""  # the server did not answer at all
            self.statuses.append((time.monotonic(), status))
            if status in (200, 201):
                self.stored[client_event_id] = json.loads(answer)["event"]["id"]
                return
            time.sleep(0.5)

    def run(self) -> None:
        """Check the employees in one after another until told to stop; each attempt ends stored."""
        for employee_id in self.employees:
            if self.stop.is_set():
                return
            self.check_in(employee_id, f"fault-{employee_id}-{uuid.uuid4().hex[:8]}")
            time.sleep(0.3)


@pytest.fixture
def system(django_db_setup, tmp_path, request):
    port = free_port()
    env = child_process_env()
    del env["REDIS_URL"]  # the runner starts its own, which the test pauses and kills
    env.update(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEMO_DATA": "false",
            "DEMO_ACTIVITY_SECONDS": "0",
            "STATIC_ROOT": str(tmp_path / "static"),
            "STREAMS_ROOT": str(tmp_path / "streams"),
            # The sweeper looks every 2 s for events 5 s old: the test need not wait long.
            "DOMAIN_EVENT_SWEEP_SECONDS": "2",
            "DOMAIN_EVENT_REDELIVER_AFTER_SECONDS": "5",
            "DOMAIN_EVENT_RETRY_BASE_SECONDS": "2",
            "DOMAIN_EVENT_RETRY_MAX_SECONDS": "10",
            # The stream supervisor (beat, every 10 s) restarts a camera silent for 10 s.
            "STREAMS_HEARTBEAT_STALE_SECONDS": "10",
            "STREAMS_MAX_CONCURRENT": "1",
        }
    )
    runner = Runner(env, tmp_path / "runner.log", port)
    failures_before = request.session.testsfailed
    try:
        wait_for(lambda: "running on http://" in runner.log(), START_TIMEOUT, "the runner did not start", runner)
        wait_for(lambda: is_ready(runner), START_TIMEOUT, "the system did not get ready", runner)
        yield runner
    finally:
        runner.stop()
        if request.session.testsfailed > failures_before:
            print(f"--- runner log ---\n{runner.log()[-8000:]}")


@pytest.fixture
def camera(needs_rtsp_server):  # noqa: F811 (the fixture imported above)
    server = RtspServer(free_port(), clip=None)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def devices(site_a, admin_user):
    from attendance.services import device_create

    return [device_create(actor=admin_user, fields={"site": site_a, "name": f"Kiosk {n}"}) for n in range(2)]


def is_ready(runner: Runner) -> bool:
    try:
        return http_request(runner, "GET", "/readyz", timeout=5)[0] == 200
    except OSError:
        return False  # the web server is not listening yet


def all_delivered() -> bool:
    return not DomainEvent.objects.filter(dispatched_at__isnull=True).exists()


def face_check_in(runner: Runner, credential: str, client_event_id: str) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="direction"\r\n\r\nin\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="client_event_id"\r\n\r\n{client_event_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + (FACES / "obama_04.jpg").read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    try:
        return http_request(
            runner,
            "POST",
            FACE_CHECK,
            headers={
                "Authorization": f"Device {credential}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            body=body,
            timeout=40,
        )[0]
    except OSError:
        return 0


def camera_register(runner: Runner, camera: RtspServer, site_id: int) -> int:
    admin = api_token(runner, "hr-admin", "pw-admin-123")
    headers = {"Authorization": admin, "Content-Type": "application/json"}
    stream = {"site": site_id, "name": "Door", "url": camera.url, "max_width": 320, "max_height": 180, "max_fps": 10}
    for path, payload in (
        ("/api/streams/camera-hosts/", {"site": site_id, "host": "127.0.0.1"}),
        ("/api/streams/", stream),
    ):
        status, _, body = http_request(runner, "POST", path, headers=headers, body=json.dumps(payload).encode())
        assert status == 201, body[:500]
    return json.loads(body)["id"]


def stream_live_since(stream_id: int, moment) -> bool:
    stream = CameraStream.objects.get(pk=stream_id)
    return stream.state == "live" and stream.heartbeat_at is not None and stream.heartbeat_at > moment


def test_no_check_in_is_lost_or_doubled_through_worker_kills_and_redis_outages(
    system, devices, camera, site_a, admin_user
):
    runner = system
    stream_id = camera_register(runner, camera, site_a.pk)
    # More than the kiosks get through before they are told to stop, after the last fault.
    employees = [EmployeeFactory(site=site_a).pk for _ in range(600)]
    face_person = EmployeeFactory(site=site_a)
    consent_grant(actor=admin_user, employee=face_person, notice_version="v1")
    face_templates_enroll(
        actor=admin_user, employee=face_person, images=[(FACES / f"obama_0{n}.jpg").read_bytes() for n in (1, 2, 3)]
    )
    kiosks = [
        Kiosk(runner=runner, credential=device.credential, employees=employees[index::2])
        for index, device in enumerate(devices)
    ]
    threads = [threading.Thread(target=kiosk.run) for kiosk in kiosks]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: DomainEventDelivery.objects.exists(), 60, "no check-in reached the live feed", runner)

        # 0. The streams worker dies while it turns the camera into HLS.
        wait_for(
            lambda: stream_live_since(stream_id, timezone.now() - timedelta(seconds=5)), 60, "no live camera", runner
        )
        first_run = CameraStream.objects.get(pk=stream_id).run_token
        kill_tree(runner.child("streams@"))

        # 1. The worker dies while it recognises a face; the kiosk retries the same check-in.
        face_event_id = f"face-{uuid.uuid4().hex}"
        face_statuses: list[int] = []
        face = threading.Thread(
            target=lambda: face_statuses.append(face_check_in(runner, devices[0].credential, face_event_id))
        )
        worker = runner.worker()
        face.start()
        time.sleep(1.0)  # the task is on its way or running: the model loads in about 1.5 s
        kill_tree(worker)
        face.join()
        wait_for(lambda: runner.replaced("worker@", worker), 30, "the worker was not restarted", runner)

        # 2. It dies again while delivering events.
        time.sleep(3)
        kill_tree(runner.worker())

        # 3. Redis stops answering for 30 s.
        redis = runner.redis()
        paused_at, paused_wall = time.monotonic(), timezone.now()
        redis.send_signal(signal.SIGSTOP)
        time.sleep(REDIS_PAUSE_SECONDS)
        redis.send_signal(signal.SIGCONT)
        resumed_at, resumed_wall = time.monotonic(), timezone.now()

        # 4. Redis dies and comes back empty: every queued task and cached version is gone.
        time.sleep(3)
        redis_before = runner.redis()
        kill_tree(redis_before)
        wait_for(lambda: runner.replaced("redis-server", redis_before), 30, "Redis was not restarted", runner)

        while True:  # the face check-in, retried as a kiosk would until it is stored
            face_statuses.append(face_check_in(runner, devices[0].credential, face_event_id))
            if face_statuses[-1] in (200, 201) or len(face_statuses) > 20:
                break
            time.sleep(2)
    finally:
        for kiosk in kiosks:
            kiosk.stop.set()
        for thread in threads:
            thread.join(timeout=SETTLE_TIMEOUT)
    wait_for(all_delivered, SETTLE_TIMEOUT, "events still undelivered", runner)

    stored = {client_id: event_id for kiosk in kiosks for client_id, event_id in kiosk.stored.items()}
    timed = [entry for kiosk in kiosks for entry in kiosk.statuses]
    statuses = [status for _, status in timed] + face_statuses
    during_pause = [status for moment, status in timed if paused_at <= moment <= resumed_at]
    print(
        f"{len(stored)} check-ins in {len(statuses)} requests: "
        + ", ".join(f"{status or 'no answer'} x{statuses.count(status)}" for status in sorted(set(statuses)))
        + f"; {during_pause.count(201)} stored while Redis was paused; face check-in answers {face_statuses}; "
        + "events: "
        + ", ".join(
            f"{kind} x{count}"
            for kind, count in sorted(Counter(DomainEvent.objects.values_list("type", flat=True)).items())
        )
    )
    attempted = {client_id for kiosk in kiosks for client_id in kiosk.attempted}
    assert set(stored) == attempted  # every check-in a kiosk started ended stored
    assert during_pause.count(201) > 0  # the pause fell inside the load, not after it
    assert face_statuses[-1] in (200, 201), face_statuses
    assert not [status for status in statuses if status >= 500 and status != 503]
    # Exactly once: one event per check-in, one work session, one domain event, one delivery.
    events = AttendanceEvent.objects.filter(site=site_a)
    assert events.count() == len(stored) + 1
    assert set(stored.values()) <= set(events.values_list("pk", flat=True))
    assert WorkSession.objects.filter(site=site_a).count() == len(stored) + 1
    recorded = DomainEvent.objects.filter(type="attendance.event_recorded")
    assert recorded.count() == events.count()
    assert sorted(recorded.values_list("payload__attendance_event_id", flat=True)) == sorted(
        events.values_list("pk", flat=True)
    )
    live = DomainEventDelivery.objects.filter(handler="dashboard.live", event__type="attendance.event_recorded")
    assert live.count() == recorded.count()

    # Back to normal, without a human: ready, and a new check-in reaches the live feed.
    wait_for(lambda: is_ready(runner), 30, "the system is not ready again", runner)
    newcomer = EmployeeFactory(site=site_a)
    newcomer_id = f"after-{uuid.uuid4().hex}"
    kiosks[0].check_in(newcomer.pk, newcomer_id)
    newcomer_delivered = DomainEventDelivery.objects.filter(
        event__payload__attendance_event_id=kiosks[0].stored[newcomer_id]
    )
    wait_for(newcomer_delivered.exists, 30, "a new check-in did not reach the live feed", runner)
    after_faults = timezone.now()
    wait_for(lambda: stream_live_since(stream_id, after_faults), 90, "the camera is not live again", runner)
    assert CameraStream.objects.get(pk=stream_id).run_token != first_run  # restarted by the supervisor
    log = runner.log()
    assert re.search(r"\[run\] worker \(pid \d+\) was killed by SIGKILL; restarting in", log)
    assert re.search(r"\[run\] redis \(pid \d+\) was killed by SIGKILL; restarting in", log)
    assert re.search(r"\[run\] streams \(pid \d+\) was killed by SIGKILL; restarting in", log)

    wait_for(all_delivered, SETTLE_TIMEOUT, "events still undelivered", runner)
    # Every event of every type (check-ins, the camera's changes of state...) ended
    # delivered, none given up, and each handler registered for its type has taken it
    # exactly once.
    assert not DomainEvent.objects.filter(failed_at__isnull=False).exists()
    expected = Counter(
        (event_id, handler.name)
        for event_id, event_type in DomainEvent.objects.values_list("pk", "type")
        for handler in registry.event_handlers.handlers_for(event_type)
    )
    assert Counter(DomainEventDelivery.objects.values_list("event_id", "handler")) == expected
    # The camera went live, and live again under the supervisor's new run.
    assert DomainEvent.objects.filter(type="stream.status_changed", payload__state="live").count() >= 2
    # Events written while Redis was paused could not be sent to a worker after their
    # commit: the sweeper delivered them.
    assert recorded.filter(created_at__range=(paused_wall, resumed_wall)).exists()
