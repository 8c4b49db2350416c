"""Celery tasks of the streaming app."""

from celery import shared_task

from streaming import services

# A stream runs for days: acknowledged at once (acks_late off) so the broker never hands
# the same camera to a second worker, and without the default time limits. A run lost
# with its worker is restarted by the supervisor instead.
STREAM_LIMIT_SECONDS = 30 * 24 * 3600


@shared_task(
    name="streaming.run",
    acks_late=False,
    ignore_result=True,
    time_limit=STREAM_LIMIT_SECONDS,
    soft_time_limit=STREAM_LIMIT_SECONDS - 60,
)
def camera_stream_run_task(stream_id: int, run_token: str) -> None:
    services.camera_stream_run(stream_id=stream_id, run_token=run_token)


@shared_task(name="streaming.supervise", ignore_result=True, time_limit=60, soft_time_limit=50)
def camera_streams_supervise_task() -> None:
    services.camera_streams_supervise()
