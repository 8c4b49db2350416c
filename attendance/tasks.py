"""Celery tasks of the attendance app: thin, idempotent wrappers around services."""

from celery import shared_task

from attendance import services


@shared_task(
    name="attendance.event_dispatch",
    # Nobody waits on the result: storing one would also cost every check-in a Redis
    # SUBSCRIBE in the web process (the Redis backend listens for results it may get).
    ignore_result=True,
    autoretry_for=(ConnectionError, OSError),
    retry_backoff=True,
    max_retries=5,
    time_limit=30,
    soft_time_limit=20,
)
def attendance_event_dispatch(event_id: int) -> bool:
    return services.attendance_event_dispatch(event_id=event_id)


@shared_task(name="attendance.demo_activity", ignore_result=True, time_limit=30, soft_time_limit=25)
def demo_activity() -> None:
    from attendance.demo import demo_activity_step

    demo_activity_step()
