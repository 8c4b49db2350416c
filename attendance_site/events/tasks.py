"""Celery tasks of the event log: thin wrappers around its services."""

from celery import shared_task

from attendance_site.events import services


@shared_task(name="events.deliver", ignore_result=True, time_limit=60, soft_time_limit=50)
def domain_event_deliver_task(event_id: int) -> bool:
    # No autoretry: a failed handler is retried by the sweeper with back-off, per handler.
    return services.domain_event_deliver_in_order(event_id=event_id)


@shared_task(name="events.sweep", ignore_result=True, time_limit=60, soft_time_limit=50)
def domain_events_sweep_task() -> int:
    return services.domain_events_sweep()


@shared_task(name="events.prune", ignore_result=True, time_limit=300, soft_time_limit=240)
def domain_events_prune_task() -> int:
    return services.domain_events_prune()
