"""Recognised employees in a camera stream: named on the boxes, checked in once per cooldown."""

import threading
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.db import connections

from attendance.models import AttendanceEvent
from biometrics.face import faces_detect, image_decode
from biometrics.selectors import image_limits
from biometrics.services.consent import consent_grant
from biometrics.services.enrolment import face_templates_enroll
from streaming.models import CameraStream
from streaming.pipeline import PipelineOptions, run_stream
from streaming.recognition import StreamRecognizer
from streaming.tests.test_pipeline import (  # noqa: F401 (fixtures)
    LOOPBACK_CAMERA,
    Recorder,
    _decode_segment,
    _green_mask,
    _playlist_segments,
    _wait_for,
    looped_clip,
    needs_av,
    needs_rtsp_server,
    server,
)
from tests.factories import EmployeeFactory

FACES = Path(__file__).resolve().parents[2] / "tests" / "data" / "faces"


def _enrol(admin_user, site, first_name, last_name, photo):
    employee = EmployeeFactory(site=site, first_name=first_name, last_name=last_name)
    consent_grant(actor=admin_user, employee=employee, notice_version="v1")
    face_templates_enroll(actor=admin_user, employee=employee, images=[(FACES / photo).read_bytes()])
    return employee


def _camera(site, **options):
    return CameraStream.objects.create(
        site=site, name="Door", url_without_credentials="rtsp://10.20.1.7/s", run_token="run", **options
    )


@pytest.mark.django_db
def test_cooldown_records_a_person_once_per_period(admin_user, site_a):
    site_a.duplicate_window = timedelta(0)  # only the camera's cooldown decides here
    site_a.save()
    miranda = _enrol(admin_user, site_a, "Lin-Manuel", "Miranda", "lin_manuel_miranda_01.jpg")
    camera = _camera(site_a, record_attendance=True, attendance_cooldown_seconds=300, attendance_direction="in")
    rgb = image_decode((FACES / "lin_manuel_miranda_01.jpg").read_bytes(), limits=image_limits())
    boxes = faces_detect(rgb)
    now = [1000.0]
    recognizer = StreamRecognizer(camera, clock=lambda: now[0])

    labels = recognizer(rgb, boxes)  # label_faces off: recognised, but no name on the box
    now[0] += 10
    recognizer(rgb, boxes)  # within the cooldown
    now[0] += 300
    recognizer(rgb, boxes)  # after it

    assert labels == [None]
    events = AttendanceEvent.objects.filter(employee=miranda, method=AttendanceEvent.Method.CAMERA)
    assert events.count() == 2
    assert {event.direction for event in events} == {"in"}
    assert all(event.confidence is not None and event.confidence > 0.5 and "Door" in event.reason for event in events)


@pytest.mark.django_db
def test_strangers_are_neither_named_nor_checked_in(admin_user, site_a):
    _enrol(admin_user, site_a, "Barack", "Obama", "obama_01.jpg")
    camera = _camera(site_a, label_faces=True, record_attendance=True)
    rgb = image_decode((FACES / "lin_manuel_miranda_01.jpg").read_bytes(), limits=image_limits())

    labels = StreamRecognizer(camera)(rgb, faces_detect(rgb))

    assert labels == [None]
    assert not AttendanceEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_stream_names_the_enrolled_person_and_checks_them_in(server, admin_user, site_a, tmp_path):  # noqa: F811
    miranda = _enrol(admin_user, site_a, "Lin-Manuel", "Miranda", "lin_manuel_miranda_01.jpg")
    _enrol(admin_user, site_a, "Barack", "Obama", "obama_01.jpg")
    camera = _camera(site_a, label_faces=True, record_attendance=True)
    recorder = Recorder()
    stop = threading.Event()
    output_dir = tmp_path / "hls"

    def run() -> None:
        try:
            run_stream(
                url=server.url,
                access=LOOPBACK_CAMERA,
                output_dir=output_dir,
                options=PipelineOptions(identify=StreamRecognizer(camera)),
                should_stop=stop.is_set,
                on_status=recorder,
            )
        finally:
            connections.close_all()

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:

        def labelled_boxes():
            with recorder.lock:
                return [box for status in recorder.statuses for box in status.boxes if box.label]

        _wait_for(lambda: len(labelled_boxes()) >= 3, 40, "boxes labelled with a name")
        segments_before = set(_playlist_segments(output_dir / "index.m3u8"))
        _wait_for(
            lambda: bool(set(_playlist_segments(output_dir / "index.m3u8")) - segments_before),
            10,
            "a segment after that",
        )
    finally:
        stop.set()
        runner.join(timeout=20)
    assert not runner.is_alive()

    names = {box.label for box in labelled_boxes()}
    assert names == {"Lin-Manuel Miranda"}
    events = list(AttendanceEvent.objects.filter(method=AttendanceEvent.Method.CAMERA))
    assert [event.employee_id for event in events] == [miranda.pk]  # once: the cooldown holds
    # The name tag is in the video: a filled patch of the box colour, which survives an
    # erosion that wipes out the box outline (5 px wide as OpenCV draws thickness 3).
    frames = [
        frame
        for segment in sorted(set(_playlist_segments(output_dir / "index.m3u8")) - segments_before)
        for frame in _decode_segment(output_dir / segment)
    ]
    masks = [_green_mask(frame).astype(np.uint8) for frame in frames]
    outlined = [int(mask.sum()) for mask in masks]
    filled = [int(cv2.erode(mask, np.ones((7, 7), np.uint8)).sum()) for mask in masks]
    # Only frames with a box can carry a tag: where the person turns away, the detector
    # finds no face and nothing is drawn, which depends on where in the clip the segment is.
    boxed = [index for index, pixels in enumerate(outlined) if pixels > 150]
    tagged = [index for index in boxed if filled[index] > 150]
    assert boxed, f"no box in any frame (green pixels per frame: {outlined})"
    assert len(tagged) >= len(boxed) / 2, f"no name tag on most boxes (filled green pixels per frame: {filled})"
