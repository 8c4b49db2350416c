"""Celery tasks of the attendance app: thin, idempotent wrappers around services."""

from celery import shared_task


@shared_task(name="attendance.demo_activity", ignore_result=True, time_limit=30, soft_time_limit=25)
def demo_activity() -> None:
    from attendance.demo import demo_activity_step

    demo_activity_step()
