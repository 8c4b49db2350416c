"""Celery tasks of the biometrics app: recognition in the worker, retention purges."""

import base64

from celery import shared_task

from biometrics.services.enrolment import raw_face_images_purge
from biometrics.services.identification import face_identify


@shared_task(name="biometrics.face_identify", time_limit=30, soft_time_limit=25, acks_late=False)
def face_identify_task(
    site_id: int,
    image_b64: str,
    claimed_employee_id: int | None = None,
    frames_b64: list[str] | None = None,
    liveness_required: bool = False,
) -> dict:
    # Not retried: a device is waiting on this answer and will send a new request.
    return face_identify(
        site_id=site_id,
        image=base64.b64decode(image_b64),
        claimed_employee_id=claimed_employee_id,
        frames=[base64.b64decode(frame) for frame in frames_b64 or []],
        liveness_required=liveness_required,
    )


@shared_task(name="biometrics.raw_images_purge", time_limit=300)
def raw_face_images_purge_task() -> int:
    return raw_face_images_purge()
