"""Fixtures shared by the streaming tests."""

import pytest

from attendance_site import celery_app


@pytest.fixture
def queued_not_run():
    """Stream tasks go to the broker's `streams` queue (no worker consumes it here) instead
    of running eagerly in the test; the test runs the pipeline in a thread itself. A
    message left in the queue is harmless: its stream or lease is gone by then, a worker
    would drop it."""
    eager_before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager_before
