"""A device check-in travels through a real Celery worker and the Channels layer over Redis.

Nothing here runs eagerly: the API stores the event and its domain event, the commit hook
puts the delivery task on the Redis queue, a worker in another process (reading the same
test database) picks it up and publishes to the site's group, and this process receives
it there.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from attendance.models import AttendanceEvent, WorkSession
from attendance_site import celery_app
from attendance_site.events.tasks import domain_event_deliver_task
from attendance_site.live.publisher import site_group_name
from attendance_site.testing.processes import child_process_env
from tests.factories import EmployeeFactory

pytestmark = [pytest.mark.real_worker, pytest.mark.django_db(transaction=True)]

CHECK_IN = "/api/attendance/device/check-in/"
WORKER_START_TIMEOUT = 60.0
MESSAGE_TIMEOUT = 20.0
NO_SUCH_EVENT = 0


def _worker_log_tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, tmp_path_factory):
    """A `celery worker` process on the default and biometrics queues, sharing this run's test database.

    It is ready once it has run a dispatch task sent after its start; as the queue is
    first in, first out and the worker runs one task at a time, that also drains tasks
    left on the queue by earlier runs before any test creates an event.
    """
    env = child_process_env(CELERY_TASK_ALWAYS_EAGER="false")
    hostname = f"real-worker-test-{uuid.uuid4().hex[:8]}@%h"
    log_path = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    eager_before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    with log_path.open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603 (fixed arguments, this interpreter)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "attendance_site",
                "worker",
                "-Q",
                "default,biometrics",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--hostname",
                hostname,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        barrier = domain_event_deliver_task.apply_async((NO_SUCH_EVENT,), ignore_result=False)
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not barrier.ready():
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited with {worker.returncode}:\n{_worker_log_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the Celery worker ran no task within {WORKER_START_TIMEOUT:.0f} s:\n{_worker_log_tail(log_path)}"
                )
            time.sleep(0.1)
        assert barrier.get(timeout=1) is False
        ours = hostname.replace("%h", socket.gethostname())
        others = [name for reply in celery_app.control.ping(timeout=0.5) or [] for name in reply if name != ours]
        if others:
            pytest.fail(f"other Celery workers use {os.environ['REDIS_URL']} and could take the tasks: {others}")
        yield worker
    finally:
        celery_app.conf.task_always_eager = eager_before
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


class SiteGroupListener:
    """A channel of this process subscribed to one site's group on the Redis layer."""

    def __init__(self, site_id: int):
        layer = get_channel_layer()
        assert layer is not None
        self.layer = layer
        self.group = site_group_name(site_id)
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(self.group, self.channel)

    def close(self) -> None:
        async_to_sync(self.layer.group_discard)(self.group, self.channel)

    def receive_until(self, predicate, timeout: float = MESSAGE_TIMEOUT) -> list[dict]:
        """Every site message received until one matches (that one last); fails on timeout."""
        return async_to_sync(self._receive_until)(predicate, timeout)

    async def _receive_until(self, predicate, timeout: float) -> list[dict]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        received: list[dict] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                pytest.fail(f"no matching message on {self.group} within {timeout:.0f} s; received {received}")
            try:
                envelope = await asyncio.wait_for(self.layer.receive(self.channel), remaining)
            except TimeoutError:
                continue
            received.append(envelope["message"])
            if predicate(envelope["message"]):
                return received


@pytest.fixture
def site_a_listener(site_a):
    listener = SiteGroupListener(site_a.pk)
    yield listener
    listener.close()


def announces(event_id: int):
    return lambda message: message["type"] == "attendance.event" and message["data"]["id"] == event_id


def check_in(client, employee, client_event_id: str):
    return client.post(
        CHECK_IN, {"employee": employee.pk, "client_event_id": client_event_id, "method": "pin"}, format="json"
    )


def test_device_check_in_is_announced_to_the_site_group_by_the_worker(
    celery_worker, site_a_listener, device_a_client, employee_a, site_a, device_a
):
    response = check_in(device_a_client, employee_a, f"rw-{uuid.uuid4().hex}")

    assert response.status_code == 201, response.json()
    event_id = response.json()["event"]["id"]
    message = site_a_listener.receive_until(announces(event_id))[-1]
    assert message["type"] == "attendance.event"
    assert message["site"] == site_a.pk
    assert isinstance(message["sequence"], int)
    assert message["sequence"] >= 1
    assert message["data"]["id"] == event_id
    assert message["data"]["employee"] == employee_a.pk
    assert message["data"]["employee_code"] == employee_a.employee_code
    assert message["data"]["site"] == site_a.pk
    assert message["data"]["device"] == device_a.device.pk
    assert message["data"]["direction"] == "in"
    assert message["data"]["status"] == "accepted"


def test_device_retrying_a_check_in_is_stored_and_announced_once(
    celery_worker, site_a_listener, device_a_client, employee_a, site_a
):
    client_event_id = f"rw-{uuid.uuid4().hex}"
    first = check_in(device_a_client, employee_a, client_event_id)
    retry = check_in(device_a_client, employee_a, client_event_id)
    # A later check-in by someone else: the worker takes tasks in order, one at a time,
    # so once its message is here, any message the retry caused would be here too.
    colleague = EmployeeFactory(site=site_a)
    later = check_in(device_a_client, colleague, f"rw-{uuid.uuid4().hex}")

    assert first.status_code == 201, first.json()
    assert retry.status_code == 200, retry.json()
    assert retry.json()["outcome"] == "replayed"
    event_id = first.json()["event"]["id"]
    assert retry.json()["event"]["id"] == event_id
    received = site_a_listener.receive_until(announces(later.json()["event"]["id"]))
    assert [message["data"]["id"] for message in received if message["type"] == "attendance.event"].count(event_id) == 1
    assert AttendanceEvent.objects.filter(employee=employee_a).count() == 1
    assert WorkSession.objects.filter(employee=employee_a).count() == 1


def test_face_check_in_is_identified_by_the_biometrics_worker(
    celery_worker, site_a, device_a, device_client_for, admin_user
):
    """The device waits on the recognition task; a worker process loads the model and answers."""
    from biometrics.services.consent import consent_grant
    from biometrics.services.enrolment import face_templates_enroll

    faces = Path(settings.BASE_DIR) / "tests" / "data" / "faces"
    employee = EmployeeFactory(site=site_a)
    consent_grant(actor=admin_user, employee=employee, notice_version="v1")
    face_templates_enroll(
        actor=admin_user, employee=employee, images=[(faces / f"obama_0{n}.jpg").read_bytes() for n in (1, 2, 3)]
    )

    with (faces / "obama_04.jpg").open("rb") as probe:
        response = device_client_for(device_a).post(
            "/api/biometrics/device/face-check/",
            {"image": probe, "direction": "in", "client_event_id": f"face-{uuid.uuid4().hex}"},
            format="multipart",
        )

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["employee"] == employee.pk
    assert response.json()["event"]["method"] == "face"
