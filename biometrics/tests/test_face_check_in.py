"""Face check-in through the device API with the real dlib model and real photos."""

import base64
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from attendance.models import AttendanceEvent
from attendance.services import device_revoke
from biometrics.models import FaceTemplate, SiteBiometricPolicy
from biometrics.tests.conftest import photo

FACE_CHECK = "/api/biometrics/device/face-check/"


def face_check(client, image: bytes, client_event_id="face-1", **extra):
    body = {"image": io.BytesIO(image), "direction": "in", "client_event_id": client_event_id, **extra}
    return client.post(FACE_CHECK, body, format="multipart")


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_face_model_loads_from_the_installed_package():
    # face_recognition calls quit() with exit code 0 when its models are missing, which
    # would make a broken install look green: the import must print after it.
    completed = subprocess.run(
        [sys.executable, "-c", "import face_recognition; print('model-loaded')"], capture_output=True, text=True
    )
    assert "model-loaded" in completed.stdout, completed.stdout + completed.stderr


def test_enrolled_employee_is_identified_from_an_unseen_photo(device_a_client, obama, biden):
    response = face_check(device_a_client, photo("obama_04.jpg"))

    assert response.status_code == 201, response.json()
    event = response.json()["event"]
    assert event["employee"] == obama.pk
    assert event["method"] == "face"
    assert 0.5 < event["confidence"] <= 1.0
    assert AttendanceEvent.objects.get().employee == obama


def test_base64_image_in_json_works_too(device_a_client, obama):
    body = {
        "image": base64.b64encode(photo("obama_04.jpg")).decode(),
        "direction": "in",
        "client_event_id": "b64-1",
    }

    response = device_a_client.post(FACE_CHECK, body, format="json")

    assert response.status_code == 201
    assert response.json()["event"]["employee"] == obama.pk


def test_unknown_person_is_rejected_not_matched_to_the_nearest(device_a_client, obama, biden):
    response = face_check(device_a_client, photo("kate_siegel_01.jpg"))

    assert response.status_code == 400
    assert error_code(response) == "face_not_recognised"
    assert not AttendanceEvent.objects.exists()


def test_claimed_identity_is_verified_one_to_one(device_a_client, obama, biden):
    wrong_claim = face_check(device_a_client, photo("obama_04.jpg"), employee=biden.pk)
    right_claim = face_check(device_a_client, photo("obama_04.jpg"), client_event_id="face-2", employee=obama.pk)

    assert wrong_claim.status_code == 400
    assert error_code(wrong_claim) == "face_not_recognised"
    assert right_claim.status_code == 201
    assert right_claim.json()["event"]["employee"] == obama.pk


def test_retry_with_the_same_client_event_id_returns_the_original(device_a_client, obama):
    first = face_check(device_a_client, photo("obama_04.jpg"))
    retry = face_check(device_a_client, photo("obama_04.jpg"))

    assert retry.status_code == 200
    assert retry.json()["outcome"] == "replayed"
    assert retry.json()["event"]["id"] == first.json()["event"]["id"]


def test_group_photo_of_similar_faces_is_rejected_as_ambiguous(device_a_client, obama, biden):
    response = face_check(device_a_client, photo("two_people.jpg"))

    assert response.status_code == 400
    assert error_code(response) == "several_faces"


def test_dominant_face_in_a_group_photo_is_taken(device_a_client, obama):
    # A kiosk sees the person in front large and passers-by small.
    front = Image.open(io.BytesIO(photo("obama_04.jpg"))).convert("RGB")
    passer_by = Image.open(io.BytesIO(photo("kate_siegel_01.jpg"))).convert("RGB")
    passer_by = passer_by.resize((passer_by.width // 3, passer_by.height // 3))
    canvas = Image.new("RGB", (front.width + passer_by.width, max(front.height, passer_by.height)), "white")
    canvas.paste(front, (0, 0))
    canvas.paste(passer_by, (front.width, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=90)

    response = face_check(device_a_client, buffer.getvalue())

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["employee"] == obama.pk


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "make_image, code",
    [
        (lambda: b"definitely not an image", "not_an_image"),
        (lambda: photo("obama_04.jpg")[:4000], "corrupt_image"),
        (lambda: photo("coffee.jpg"), "no_face"),
        (lambda: jpeg(np.full((60, 80, 3), 128, dtype=np.uint8)), "no_face"),
    ],
    ids=["not-an-image", "truncated-jpeg", "no-face", "blank"],
)
def test_unusable_images_are_a_400_and_store_nothing(device_a_client, obama, make_image, code):
    response = face_check(device_a_client, make_image())

    assert response.status_code == 400
    assert error_code(response) == code
    assert not AttendanceEvent.objects.exists()


def test_decompression_bomb_is_refused_before_decoding(device_a_client, obama):
    buffer = io.BytesIO()
    Image.new("L", (8000, 7000), 0).save(buffer, format="PNG")  # 56 MP, a few kB compressed

    response = face_check(device_a_client, buffer.getvalue())

    assert response.status_code == 400
    assert error_code(response) == "image_too_large"


def png_with_a_text_chunk_too_large_to_decompress() -> bytes:
    """About 1 kB: Pillow refuses to inflate the zTXt chunk while opening the file."""
    text = PngImagePlugin.PngInfo()
    text.add_text("comment", "A" * (PngImagePlugin.MAX_TEXT_CHUNK + 1), zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "gray").save(buffer, format="PNG", pnginfo=text)
    assert len(buffer.getvalue()) < 5_000
    return buffer.getvalue()


@pytest.mark.parametrize(
    "url, body",
    [
        (FACE_CHECK, lambda png: {"image": io.BytesIO(png)}),
        (
            FACE_CHECK,
            lambda png: {"image": io.BytesIO(photo("obama_04.jpg")), "frames": [io.BytesIO(png) for _ in range(8)]},
        ),
        ("/api/biometrics/device/qr-check/", lambda png: {"image": io.BytesIO(png)}),
    ],
    ids=["face-image", "liveness-frames", "qr-image"],
)
def test_image_whose_metadata_is_too_large_to_decode_is_a_400_on_every_check_in(device_a_client, url, body):
    png = png_with_a_text_chunk_too_large_to_decompress()

    response = device_a_client.post(
        url, {"direction": "in", "client_event_id": "ztxt-1", **body(png)}, format="multipart"
    )

    assert response.status_code == 400, response.content
    assert error_code(response) == "corrupt_image"
    assert not AttendanceEvent.objects.exists()


def test_image_whose_metadata_is_too_large_to_decode_is_a_400_on_enrolment(admin_client, employee_a, consented):
    consented(employee_a)

    response = admin_client.post(
        f"/api/biometrics/enrolments/{employee_a.pk}/face/",
        {"images": [io.BytesIO(photo("obama_01.jpg")), io.BytesIO(png_with_a_text_chunk_too_large_to_decompress())]},
        format="multipart",
    )

    assert response.status_code == 400, response.content
    assert error_code(response) == "corrupt_image"
    assert "Photo 2" in response.json()["errors"][0]["detail"]
    assert not FaceTemplate.objects.exists()


def test_face_too_small_is_refused(device_a_client, obama):
    face = Image.open(io.BytesIO(photo("obama_04.jpg"))).convert("RGB")
    small = face.resize((face.width // 5, face.height // 5))
    canvas = Image.new("RGB", (640, 480), "gray")
    canvas.paste(small, (200, 150))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=95)

    response = face_check(device_a_client, buffer.getvalue())

    assert response.status_code == 400
    assert error_code(response) in {"face_too_small", "no_face"}


def test_blurred_face_is_refused(device_a_client, obama):
    import cv2

    sharp = np.asarray(Image.open(io.BytesIO(photo("obama_04.jpg"))).convert("RGB"))
    blurred = cv2.GaussianBlur(sharp, (0, 0), sigmaX=6)

    response = face_check(device_a_client, jpeg(blurred))

    assert response.status_code == 400
    assert error_code(response) in {"face_blurry", "no_face"}


def test_invalid_base64_is_a_400(device_a_client, obama):
    response = device_a_client.post(
        FACE_CHECK, {"image": "%%%not-base64", "direction": "in", "client_event_id": "x"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "image"


def test_revoked_device_is_refused(device_a, device_a_client, obama, admin_user):
    device_revoke(actor=admin_user, device=device_a.device)

    assert face_check(device_a_client, photo("obama_04.jpg")).status_code == 401


def test_liveness_required_without_frames_is_refused(device_a_client, obama, site_a):
    SiteBiometricPolicy.objects.create(site=site_a, liveness_required=True)

    response = face_check(device_a_client, photo("obama_04.jpg"))

    assert response.status_code == 400
    assert error_code(response) == "liveness_required"
    assert not AttendanceEvent.objects.exists()


def test_claim_of_employee_without_consent_is_refused(device_a_client, employee_a):
    response = face_check(device_a_client, photo("obama_04.jpg"), employee=employee_a.pk)

    assert response.status_code == 400
    assert "consented" in response.json()["errors"][0]["detail"]


def test_employee_of_another_site_cannot_be_recognised(device_b, device_client_for, obama):
    response = face_check(device_client_for(device_b), photo("obama_04.jpg"))

    assert response.status_code == 400
    assert error_code(response) == "face_not_recognised"


def test_deactivated_employee_is_no_longer_recognised(
    device_a_client, admin_client, obama, device_a, django_capture_on_commit_callbacks
):
    from attendance.services import attendance_event_record

    attendance_event_record(employee=obama, device=device_a.device, direction="in", method="pin", client_event_id="p")
    assert face_check(device_a_client, photo("obama_04.jpg"), client_event_id="before").status_code in (200, 201)

    with django_capture_on_commit_callbacks(execute=True):
        with_attendance = admin_client.delete(f"/api/employees/employees/{obama.pk}/")  # deactivates
    response = face_check(device_a_client, photo("obama_04.jpg"), client_event_id="after")

    assert with_attendance.status_code == 200
    assert response.status_code == 400
    assert error_code(response) == "face_not_recognised"


def test_site_policy_is_read_by_viewers_and_changed_by_admins(viewer_a_client, admin_a_client, site_a, site_b):
    url = f"/api/biometrics/site-policies/{site_a.pk}/"

    defaults = viewer_a_client.get(url)
    forged = viewer_a_client.patch(url, {"liveness_required": True}, format="json")
    changed = admin_a_client.patch(url, {"face_distance_threshold": 0.45, "liveness_required": True}, format="json")
    out_of_range = admin_a_client.patch(url, {"face_distance_threshold": 0.95}, format="json")
    other_site = admin_a_client.patch(f"/api/biometrics/site-policies/{site_b.pk}/", {"liveness_required": True})

    assert defaults.json() == {
        "site": site_a.pk,
        "face_distance_threshold": 0.48,
        "face_margin": 0.02,
        "liveness_required": False,
    }
    assert forged.status_code == 403
    assert changed.status_code == 200
    assert changed.json()["liveness_required"] is True
    assert out_of_range.status_code == 400
    assert other_site.status_code == 404
    assert SiteBiometricPolicy.objects.get(site=site_a).face_distance_threshold == 0.45


def _jpeg_frames(frames) -> list[bytes]:
    return [jpeg(frame) for frame in frames]


def _live_clip_frames() -> list[np.ndarray]:
    from biometrics.liveness import frames_from_clip
    from biometrics.tests.conftest import DATA

    return frames_from_clip((DATA / "liveness" / "live_hamilton_122-160.mp4").read_bytes())


def test_live_burst_passes_liveness_and_is_recorded_with_its_score(device_a_client, site_a, consented, admin_user):
    from biometrics.services.enrolment import face_templates_enroll
    from tests.factories import EmployeeFactory

    frames = _live_clip_frames()
    person = consented(EmployeeFactory(site=site_a))
    face_templates_enroll(actor=admin_user, employee=person, images=[jpeg(frames[n]) for n in (0, 5, 15, 19)])
    SiteBiometricPolicy.objects.create(site=site_a, liveness_required=True)

    response = device_a_client.post(
        FACE_CHECK,
        {
            "image": io.BytesIO(jpeg(frames[3])),
            "frames": [io.BytesIO(data) for data in _jpeg_frames(frames)],
            "direction": "in",
            "client_event_id": "live-1",
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["employee"] == person.pk
    assert response.json()["event"]["liveness_score"] >= 0.5


def test_printed_photo_burst_fails_liveness(device_a_client, site_a, obama):
    from biometrics.tests.conftest import DATA

    SiteBiometricPolicy.objects.create(site=site_a, liveness_required=True)
    still = np.asarray(Image.open(DATA / "faces" / "obama_04.jpg").convert("RGB"))
    # A photo held up to the kiosk: the same picture, shifted a little each frame.
    burst = [np.roll(still, shift=(step, 2 * step), axis=(0, 1)) for step in range(12)]

    response = device_a_client.post(
        FACE_CHECK,
        {
            "image": io.BytesIO(photo("obama_04.jpg")),
            "frames": [io.BytesIO(data) for data in _jpeg_frames(burst)],
            "direction": "in",
            "client_event_id": "print-1",
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert error_code(response) == "liveness_failed"
    assert not AttendanceEvent.objects.exists()


def test_no_recognition_worker_is_a_503_not_a_500(device_a, obama, settings):
    from rest_framework.test import APIClient

    from attendance_site import celery_app

    # A 5xx is reported through got_request_exception, which the test client would re-raise.
    device_client = APIClient(raise_request_exception=False)
    device_client.credentials(HTTP_AUTHORIZATION=f"Device {device_a.credential}")
    settings.BIOMETRIC_RECOGNITION_TIMEOUT_SECONDS = 0.5
    celery_app.conf.task_always_eager = False  # nothing consumes the biometrics queue here
    try:
        response = face_check(device_client, photo("obama_04.jpg"), client_event_id="busy")
    finally:
        celery_app.conf.task_always_eager = True

    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "recognition_unavailable"
    assert not AttendanceEvent.objects.exists()


def _conditions_rule_set(site, admin_user):
    from environment import services as environment_services

    rules = {
        "modes": [
            {"mode": "face_liveness", "when": {"light_lux": {"min": 50}}},
            {"mode": "face", "when": {"light_lux": {"min": 300}}},
            {"mode": "qr", "when": {}},
        ]
    }
    rule_set = environment_services.rule_set_create(actor=admin_user, site=site, rules=rules)
    environment_services.rule_set_activate(actor=admin_user, rule_set=rule_set)


def _report_light(device_client, lux):
    from django.utils import timezone

    device_client.post(
        "/api/environment/device/readings/",
        {"recorded_at": timezone.now().isoformat(), "light": {"value": lux, "unit": "lux"}},
        format="json",
    )


def test_dim_light_demands_liveness_and_darkness_refuses_face(device_a, device_client_for, obama, site_a, admin_user):
    _conditions_rule_set(site_a, admin_user)
    client = device_client_for(device_a)

    _report_light(client, 100)  # face only with liveness
    dim = face_check(device_client_for(device_a), photo("obama_04.jpg"), client_event_id="dim")
    _report_light(client, 10)  # no face at all
    dark = face_check(device_client_for(device_a), photo("obama_04.jpg"), client_event_id="dark")

    assert dim.status_code == 400
    assert error_code(dim) == "liveness_required"
    assert dark.status_code == 400
    assert error_code(dark) == "method_not_allowed"
    assert not AttendanceEvent.objects.exists()
