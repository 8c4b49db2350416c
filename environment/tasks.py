"""Celery tasks of the environment app."""

from celery import shared_task

from environment import services


@shared_task(name="environment.readings_purge", ignore_result=True, time_limit=600)
def condition_readings_purge() -> None:
    services.condition_readings_purge()
