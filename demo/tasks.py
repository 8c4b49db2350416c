"""Celery tasks of the demo app: thin wrappers around its services."""

from celery import shared_task


@shared_task(name="demo.activity", ignore_result=True, time_limit=30, soft_time_limit=25)
def demo_activity() -> None:
    from demo.services import demo_activity_step

    demo_activity_step()
