"""The domain event log: written with the change, delivered once per handler, swept, pruned."""

from contextlib import ExitStack
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from attendance_site import celery_app
from attendance_site.events.handlers import DeliveredEvent, EventHandler
from attendance_site.events.models import DomainEvent, DomainEventDelivery
from attendance_site.events.services import (
    domain_event_deliver,
    domain_event_deliver_in_order,
    domain_event_emit,
    domain_events_prune,
    domain_events_sweep,
)
from attendance_site.events.types import ACCOUNT_LOGIN_LOCKED_OUT, LoginLockedOutPayload
from attendance_site.registry import registry
from attendance_site.testing.registry import registered

CHECK_IN = "/api/attendance/device/check-in/"


def lockout(username: str) -> LoginLockedOutPayload:
    return {"lockout_id": 1, "username": username, "ip_address": "192.0.2.7", "failures": 30, "path": "/admin/login/"}


class RecordingHandler:
    """A handler as another app would register one; it fails its first `failures` calls."""

    def __init__(self, name: str, failures: int = 0):
        self.name = name
        self.failures = failures
        self.calls: list[int] = []

    def __call__(self, event: DeliveredEvent) -> None:
        self.calls.append(event.id)
        if len(self.calls) <= self.failures:
            raise ConnectionError(f"{self.name} is down")


@pytest.fixture
def handlers():
    with ExitStack() as stack:

        def register(name: str, failures: int = 0) -> RecordingHandler:
            handler = RecordingHandler(name, failures)
            event_handler = EventHandler(
                name=name, event_types=frozenset({ACCOUNT_LOGIN_LOCKED_OUT.name}), handle=handler
            )
            stack.enter_context(registered(registry.event_handlers, event_handler))
            return handler

        yield register


@pytest.fixture
def undelivered_after_commit():
    """The task sent after commit goes to a broker queue no worker reads: only the sweeper delivers."""
    eager_before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager_before


def emit_lockout(username: str = "mallory") -> DomainEvent:
    with transaction.atomic():
        return domain_event_emit(
            event_type=ACCOUNT_LOGIN_LOCKED_OUT,
            payload=lockout(username),
            site_id=None,
        )


def test_check_in_writes_one_event_that_the_live_feed_takes_once(
    device_a_client, employee_a, site_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = device_a_client.post(
            CHECK_IN, {"employee": employee_a.pk, "client_event_id": "evt-1", "method": "pin"}, format="json"
        )
    replay = device_a_client.post(
        CHECK_IN, {"employee": employee_a.pk, "client_event_id": "evt-1", "method": "pin"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert replay.json()["outcome"] == "replayed"
    event = DomainEvent.objects.get()
    assert event.type == "attendance.event_recorded"
    assert event.version == 1
    assert event.site_id == site_a.pk
    assert event.payload["attendance_event_id"] == response.json()["event"]["id"]
    assert event.payload["employee_id"] == employee_a.pk
    assert event.dispatched_at is not None
    assert list(DomainEventDelivery.objects.values_list("handler", flat=True)) == ["dashboard.live"]


def test_a_change_that_rolls_back_leaves_no_event(db):
    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        domain_event_emit(
            event_type=ACCOUNT_LOGIN_LOCKED_OUT,
            payload=lockout("x"),
            site_id=None,
        )
        raise RuntimeError("boom")

    assert not DomainEvent.objects.exists()


def test_an_event_is_only_emitted_inside_the_transaction_of_its_change(transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        domain_event_emit(
            event_type=ACCOUNT_LOGIN_LOCKED_OUT,
            payload=lockout("x"),
            site_id=None,
        )


def test_a_failing_handler_is_retried_alone_with_back_off(db, handlers, undelivered_after_commit, settings):
    settings.DOMAIN_EVENT_RETRY_BASE = timedelta(seconds=5)
    steady = handlers("test.steady")
    flaky = handlers("test.flaky", failures=1)
    event = emit_lockout()

    assert domain_event_deliver(event_id=event.pk) is False
    event.refresh_from_db()
    assert (event.attempts, event.dispatched_at) == (1, None)
    assert "test.flaky: ConnectionError: test.flaky is down" in event.last_error
    assert event.next_attempt_at is not None
    assert event.next_attempt_at > timezone.now() + timedelta(seconds=4)
    assert domain_events_sweep() == 0  # not due yet

    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        assert domain_events_sweep() == 1

    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert steady.calls == [event.pk]  # taken once, never given again
    assert flaky.calls == [event.pk, event.pk]
    assert sorted(DomainEventDelivery.objects.values_list("handler", flat=True)) == ["test.flaky", "test.steady"]


def test_the_sweeper_delivers_events_whose_task_never_ran(db, handlers, undelivered_after_commit):
    recorder = handlers("test.recorder")
    first, second = emit_lockout("first"), emit_lockout("second")
    assert recorder.calls == []

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert domain_events_sweep() == 2

    assert recorder.calls == [first.pk, second.pk]  # in the order they were written
    assert domain_event_deliver(event_id=first.pk) is False  # delivered already: nothing happens
    assert recorder.calls == [first.pk, second.pk]


def test_a_new_event_takes_its_sites_waiting_backlog_along_oldest_first(db, handlers, undelivered_after_commit):
    recorder = handlers("test.recorder")

    def emit(site_id: int) -> DomainEvent:
        with transaction.atomic():
            return domain_event_emit(event_type=ACCOUNT_LOGIN_LOCKED_OUT, payload=lockout("x"), site_id=site_id)

    first, second, elsewhere = emit(7), emit(7), emit(8)  # written while no task could be sent
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        in_flight = emit(7)  # older, but its own task is on its way: not the latest's to deliver
        latest = emit(7)
        assert domain_event_deliver_in_order(event_id=latest.pk) is True

    assert recorder.calls == [first.pk, second.pk, latest.pk]
    assert set(DomainEvent.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True)) == {
        elsewhere.pk,
        in_flight.pk,
    }


def test_an_event_is_given_up_after_the_last_attempt(db, handlers, undelivered_after_commit, settings):
    settings.DOMAIN_EVENT_MAX_ATTEMPTS = 2
    handlers("test.broken", failures=10)
    event = emit_lockout()

    domain_event_deliver(event_id=event.pk)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        domain_events_sweep()

    event.refresh_from_db()
    assert event.attempts == 2
    assert event.failed_at is not None
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert domain_events_sweep() == 0


def test_prune_deletes_old_delivered_events_and_keeps_waiting_ones(db, handlers, undelivered_after_commit, settings):
    settings.DOMAIN_EVENT_RETENTION = timedelta(days=30)
    handlers("test.recorder")
    delivered, waiting = emit_lockout("delivered"), emit_lockout("waiting")
    domain_event_deliver(event_id=delivered.pk)

    assert domain_events_prune(now=timezone.now() + timedelta(days=29)) == 0
    assert domain_events_prune(now=timezone.now() + timedelta(days=31)) == 1
    assert list(DomainEvent.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_handler_names_are_unique_and_event_types_known(handlers):
    handlers("test.once")
    with pytest.raises(ImproperlyConfigured, match=r"'test\.once' is registered by both tests and tests"):
        with registered(registry.event_handlers, EventHandler(name="test.once", event_types=frozenset(), handle=print)):
            pass
    with pytest.raises(ImproperlyConfigured, match="unknown event types"):
        other = EventHandler(name="test.other", event_types=frozenset({"no.such"}), handle=print)
        with registered(registry.event_handlers, other):
            pass
