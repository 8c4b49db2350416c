"""Writes of the event log: emit in the change's transaction, deliver after commit, sweep, prune.

The log is a transactional outbox. :func:`domain_event_emit` writes the event as a row in
the transaction of the change it reports, so the event exists if and only if the change
committed. After commit a Celery task delivers it to every registered handler; if Redis
or the worker is gone, the beat sweeper (:func:`domain_events_sweep`) delivers what is
still waiting. Each handler's delivery is recorded, so a handler that failed is retried
alone (with back-off) and one that succeeded is never called again for that event.
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from attendance_site.events.handlers import DeliveredEvent
from attendance_site.events.models import DomainEvent, DomainEventDelivery
from attendance_site.events.types import EventType, Payload
from attendance_site.outages import is_outage, redis_breaker
from attendance_site.registry import registry

logger = logging.getLogger(__name__)

# Older events one delivery takes along at most; the sweeper goes on with the rest.
BACKLOG_LIMIT = 100


def domain_event_emit(*, event_type: EventType[Payload], payload: Payload, site_id: int | None) -> DomainEvent:
    """Write an event in the current transaction; it is delivered once that transaction commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("emit a domain event inside the transaction of the change it reports")
    now = timezone.now()
    event = DomainEvent.objects.create(
        type=event_type.name,
        version=event_type.version,
        site_id=site_id,
        payload=payload,
        created_at=now,
        # Until then the task sent after commit has it; later, the sweeper does.
        next_attempt_at=now + settings.DOMAIN_EVENT_REDELIVER_AFTER,
    )
    transaction.on_commit(lambda: _delivery_enqueue(event.pk), robust=True)
    return event


def _delivery_enqueue(event_id: int) -> None:
    from attendance_site.events.tasks import domain_event_deliver_task

    # No publish retries: with the broker down the request would wait for them, and the
    # sweeper delivers the event once things are back.
    if redis_breaker.is_open():
        return
    try:
        domain_event_deliver_task.apply_async((event_id,), retry=False)
    except Exception as error:
        if not is_outage(error):
            raise
        redis_breaker.trip(error)
        logger.warning("event %s waits for the sweeper: the broker is unavailable", event_id)


def _delivered(event: DomainEvent) -> DeliveredEvent:
    return DeliveredEvent(
        id=event.pk,
        type=event.type,
        version=event.version,
        site_id=event.site_id,
        payload=event.payload,
        created_at=event.created_at,
    )


def _retry_delay(attempts: int) -> timedelta:
    base = settings.DOMAIN_EVENT_RETRY_BASE.total_seconds()
    return timedelta(seconds=min(base * 2 ** (attempts - 1), settings.DOMAIN_EVENT_RETRY_MAX.total_seconds()))


def domain_event_deliver(*, event_id: int) -> bool:
    """Give a waiting event to each handler that has not taken it yet; True once all have.

    The row is locked for the delivery, so the task sent after commit and the sweeper
    never deliver one event at the same time (SQLite serialises writers anyway).
    """
    with transaction.atomic():
        event = (
            DomainEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, dispatched_at__isnull=True, failed_at__isnull=True)
            .first()
        )
        if event is None:
            return False  # delivered, given up, or being delivered right now
        taken = set(event.deliveries.values_list("handler", flat=True))
        delivered = _delivered(event)
        errors = []
        for handler in registry.event_handlers.handlers_for(event.type):
            if handler.name in taken:
                continue
            try:
                with transaction.atomic():  # a handler's failed writes leave the others' intact
                    handler.handle(delivered)
                    DomainEventDelivery.objects.create(event=event, handler=handler.name, delivered_at=timezone.now())
            except Exception as error:
                logger.warning("event %s (%s): handler %s failed: %r", event.pk, event.type, handler.name, error)
                errors.append(f"{handler.name}: {type(error).__name__}: {error}")
        _delivery_outcome_save(event, errors)
        return not errors


def domain_event_deliver_in_order(*, event_id: int) -> bool:
    """Deliver an event after the older events of its site that are due, oldest first.

    After an outage a site's backlog waits for the sweeper while new events are sent at
    once: the first new one's task takes the backlog along, so a live feed shows a
    site's events in the order they were written. Events whose own task is on its way,
    or that wait out a failed handler's back-off, are not due and block nothing.
    """
    site_id = DomainEvent.objects.filter(pk=event_id).values_list("site_id", flat=True).first()
    if site_id is not None:
        older = DomainEvent.objects.filter(
            site_id=site_id,
            pk__lt=event_id,
            dispatched_at__isnull=True,
            failed_at__isnull=True,
            next_attempt_at__lte=timezone.now(),
        )
        for older_id in older.order_by("id").values_list("pk", flat=True)[:BACKLOG_LIMIT]:
            domain_event_deliver(event_id=older_id)
    return domain_event_deliver(event_id=event_id)


def _delivery_outcome_save(event: DomainEvent, errors: list[str]) -> None:
    now = timezone.now()
    if not errors:
        event.dispatched_at = now
        event.last_error = ""
    else:
        event.attempts += 1
        event.last_error = "; ".join(errors)[:2000]
        if event.attempts >= settings.DOMAIN_EVENT_MAX_ATTEMPTS:
            event.failed_at = now
            logger.error("event %s (%s) given up after %s attempts: %s", event.pk, event.type, event.attempts, errors)
        else:
            event.next_attempt_at = now + _retry_delay(event.attempts)
    event.save(update_fields=["dispatched_at", "last_error", "attempts", "failed_at", "next_attempt_at"])


def domain_events_sweep(*, now: datetime | None = None, limit: int = 500, budget_s: float = 20.0) -> int:
    """Deliver, oldest first, events still waiting past their next attempt; the number delivered in full."""
    now = now or timezone.now()
    started = time.monotonic()
    due = list(
        DomainEvent.objects.filter(dispatched_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=now)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    delivered = 0
    for event_id in due:
        if time.monotonic() - started > budget_s:
            break  # the next sweep goes on from here
        delivered += domain_event_deliver(event_id=event_id)
    if due:
        logger.info("event sweep: %s of %s waiting events delivered", delivered, len(due))
    return delivered


def domain_events_prune(*, now: datetime | None = None) -> int:
    """Delete delivered (and given-up) events older than the retention; the number deleted."""
    cutoff = (now or timezone.now()) - settings.DOMAIN_EVENT_RETENTION
    _, deleted = (
        DomainEvent.objects.filter(created_at__lt=cutoff)
        .exclude(dispatched_at__isnull=True, failed_at__isnull=True)
        .delete()
    )
    return deleted.get(DomainEvent._meta.label, 0)  # not counting their deliveries
