"""Recognising employees in a camera stream: names for the boxes, attendance if asked.

The pipeline calls a :class:`StreamRecognizer` about once a second with the RGB frame and
its face boxes. Each face large enough to encode is searched in the site's gallery with
the site's thresholds (the same open-set rule as a kiosk check-in); recognised people
get their name on the box when the stream labels faces, and a check-in (or check-out)
when it records attendance, at most once per cooldown per person and camera.

A camera stream has no liveness check: a photo held up to it would be recognised. That
is why recording attendance is off by default and refused where the site requires
liveness for face check-ins.
"""

import logging
import time
from collections.abc import Callable

import numpy as np
from django.core.exceptions import ValidationError
from django.db import DatabaseError

from attendance.models import AttendanceEvent
from attendance.services import attendance_event_record
from biometrics.face import MIN_FACE_SIZE, FaceBox
from biometrics.models import SiteBiometricPolicy
from biometrics.selectors import face_matcher, site_gallery, site_policy
from employees.models import Employee
from streaming.models import CameraStream

logger = logging.getLogger(__name__)

POLICY_REFRESH_SECONDS = 60.0


class StreamRecognizer:
    """``identify(rgb, boxes) -> [name or None per box]`` for one stream's pipeline."""

    def __init__(self, stream: CameraStream, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.clock = clock
        self.last_recorded: dict[int, float] = {}  # employee id -> monotonic time
        self.names: dict[int, str] = {}
        self.policy: SiteBiometricPolicy | None = None
        self.policy_read_at = 0.0

    def __call__(self, rgb: np.ndarray, boxes: list[FaceBox]) -> list[str | None]:
        now = self.clock()
        policy = self.policy
        if policy is None or now - self.policy_read_at > POLICY_REFRESH_SECONDS:
            # Thresholds and the liveness rule may change while a stream runs for days.
            policy = self.policy = site_policy(site_id=self.stream.site_id)
            self.policy_read_at = now
        gallery = site_gallery(site_id=self.stream.site_id)
        matcher = face_matcher()
        labels: list[str | None] = []
        for box in boxes:
            employee_id = None
            confidence = 0.0
            if gallery.size and box.height >= MIN_FACE_SIZE:
                result = matcher.identify(
                    gallery,
                    matcher.encode(rgb, box),
                    threshold=policy.face_distance_threshold,
                    margin=policy.face_margin,
                )
                employee_id = result.employee_id
                if employee_id is not None and result.distance is not None:
                    confidence = matcher.confidence(result.distance, policy.face_distance_threshold)
            if employee_id is None:
                labels.append(None)
                continue
            if self.stream.record_attendance and not policy.liveness_required:
                self._attendance_record(employee_id, confidence, now)
            labels.append(self._name_of(employee_id) if self.stream.label_faces else None)
        return labels

    def _name_of(self, employee_id: int) -> str:
        if employee_id not in self.names:
            employee = Employee.objects.only("first_name", "last_name").get(pk=employee_id)
            self.names[employee_id] = employee.full_name
        return self.names[employee_id]

    def _attendance_record(self, employee_id: int, confidence: float, now: float) -> None:
        last = self.last_recorded.get(employee_id)
        if last is not None and now - last < self.stream.attendance_cooldown_seconds:
            return
        # Set before recording: a refusal (inactive employee, another site) is not retried
        # on every frame either.
        self.last_recorded[employee_id] = now
        employee = Employee.objects.select_related("site").get(pk=employee_id)
        try:
            attendance_event_record(
                employee=employee,
                direction=self.stream.attendance_direction,
                method=AttendanceEvent.Method.CAMERA,
                camera_stream=self.stream,
                confidence=round(confidence, 3),
                reason=f"Recognised by camera {self.stream.name!r}",
            )
        except (ValidationError, DatabaseError) as error:
            logger.warning("stream %s: attendance for employee %s not recorded: %s", self.stream.pk, employee_id, error)
