"""Consent, enrolment and erasure through the people's API."""

import io

import pytest

from accounts.models import AuditLogEntry
from biometrics import crypto
from biometrics.models import BiometricConsent, FaceTemplate, VoiceTemplate
from biometrics.tests.conftest import DATA, photo
from tests.factories import EmployeeFactory

CONSENTS = "/api/biometrics/consents/"


def enrolment(employee) -> str:
    return f"/api/biometrics/enrolments/{employee.pk}/"


def clip(name: str) -> bytes:
    return next((DATA / "voice").rglob(name)).read_bytes()


def test_consent_comes_first(admin_client, employee_a):
    response = admin_client.post(
        f"{enrolment(employee_a)}face/", {"images": [io.BytesIO(photo("obama_01.jpg"))]}, format="multipart"
    )

    assert response.status_code == 400
    assert "consented" in response.json()["errors"][0]["detail"]
    assert not FaceTemplate.objects.exists()


def test_admin_records_consent_then_enrols_photos(admin_client, employee_a):
    consent = admin_client.post(CONSENTS, {"employee": employee_a.pk, "notice_version": "v3"}, format="json")
    enrolled = admin_client.post(
        f"{enrolment(employee_a)}face/",
        {"images": [io.BytesIO(photo("obama_01.jpg")), io.BytesIO(photo("obama_02.jpg"))]},
        format="multipart",
    )

    assert consent.status_code == 201
    assert enrolled.status_code == 201, enrolled.json()
    assert enrolled.json()["face_templates"] == 2
    assert enrolled.json()["consent"]["notice_version"] == "v3"


def test_templates_are_encrypted_at_rest_and_never_returned(admin_client, obama):
    template = FaceTemplate.objects.filter(employee=obama).first()
    assert template is not None
    raw = bytes(template.encoding_encrypted)

    assert len(raw) > 128 * 8  # a Fernet token, not 128 float64s
    assert len(crypto.decrypt(raw)) == 128 * 8
    body = admin_client.get(enrolment(obama)).content.decode()
    assert "encoding" not in body and raw[:20].decode(errors="ignore") not in body
    assert template.image_encrypted is None  # no raw photo kept by default


def test_one_bad_photo_rejects_the_whole_enrolment(admin_client, employee_a, consented):
    consented(employee_a)

    response = admin_client.post(
        f"{enrolment(employee_a)}face/",
        {"images": [io.BytesIO(photo("obama_01.jpg")), io.BytesIO(photo("two_people.jpg"))]},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "several_faces"
    assert "Photo 2" in response.json()["errors"][0]["detail"]
    assert not FaceTemplate.objects.exists()


def test_viewer_cannot_enrol_or_erase(viewer_a_client, obama):
    count = FaceTemplate.objects.count()

    enrol = viewer_a_client.post(
        f"{enrolment(obama)}face/", {"images": [io.BytesIO(photo("obama_04.jpg"))]}, format="multipart"
    )
    erase = viewer_a_client.post(f"{enrolment(obama)}erase/", {"reason": "x"}, format="json")

    assert (enrol.status_code, erase.status_code) == (403, 403)
    assert FaceTemplate.objects.count() == count


def test_other_sites_employee_is_a_404(admin_a_client, employee_b):
    assert admin_a_client.get(enrolment(employee_b)).status_code == 404
    assert admin_a_client.post(f"{enrolment(employee_b)}erase/", {"reason": "x"}).status_code == 404


def test_erasure_on_request_deletes_everything_and_is_audited(admin_client, obama, device_a_client):
    response = admin_client.post(f"{enrolment(obama)}erase/", {"reason": "Employee request"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"face_templates": 3, "voice_templates": 0}
    assert not FaceTemplate.objects.filter(employee=obama).exists()
    entry = AuditLogEntry.objects.filter(reason__startswith="Biometric data erased").get()
    assert "Employee request" in entry.reason
    recognised = device_a_client.post(
        "/api/biometrics/device/face-check/",
        {"image": io.BytesIO(photo("obama_04.jpg")), "direction": "in", "client_event_id": "after-erase"},
        format="multipart",
    )
    assert recognised.status_code == 400  # the gallery forgot the face at once


def test_withdrawing_consent_erases_templates(admin_client, obama):
    consent = BiometricConsent.objects.get(employee=obama)

    response = admin_client.post(f"{CONSENTS}{consent.pk}/withdraw/")

    assert response.status_code == 200
    assert response.json()["withdrawn_at"] is not None
    assert not FaceTemplate.objects.filter(employee=obama).exists()
    again = admin_client.post(f"{CONSENTS}{consent.pk}/withdraw/")
    assert again.status_code == 400


def test_second_active_consent_is_refused(admin_client, obama):
    response = admin_client.post(CONSENTS, {"employee": obama.pk, "notice_version": "v4"}, format="json")

    assert response.status_code == 400


def test_voice_enrolment_from_two_clips(admin_client, employee_a, consented):
    consented(employee_a)

    response = admin_client.post(
        f"{enrolment(employee_a)}voice/",
        {"clips": [io.BytesIO(clip("367-130732-0001.flac")), io.BytesIO(clip("367-130732-0004.flac"))]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["voice_enrolled"] is True
    assert VoiceTemplate.objects.get(employee=employee_a).clip_count == 2


@pytest.mark.parametrize(
    "clips, code",
    [
        ([b"", b""], None),
        ([b"RIFF0000WAVEjunk", b"RIFF0000WAVEjunk"], None),
        ([b"\xff\xd8\xff\xe0 not audio", b"\xff\xd8\xff\xe0 not audio"], None),
    ],
    ids=["empty", "corrupt-wav", "jpeg-bytes"],
)
def test_bad_voice_clips_are_a_400(admin_client, employee_a, consented, clips, code):
    consented(employee_a)

    response = admin_client.post(
        f"{enrolment(employee_a)}voice/", {"clips": [io.BytesIO(c) for c in clips]}, format="multipart"
    )

    assert response.status_code == 400
    assert not VoiceTemplate.objects.exists()


def test_voice_enrolment_needs_two_clips(admin_client, employee_a, consented):
    consented(employee_a)

    response = admin_client.post(
        f"{enrolment(employee_a)}voice/", {"clips": [io.BytesIO(clip("367-130732-0001.flac"))]}, format="multipart"
    )

    assert response.status_code == 400


def test_voice_check_in_verifies_the_claimed_speaker(admin_client, device_a_client, site_a, consented):
    speaker = consented(EmployeeFactory(site=site_a))
    other = consented(EmployeeFactory(site=site_a))
    for employee, names in (
        (speaker, ["367-130732-0001.flac", "367-130732-0004.flac"]),
        (other, ["1688-142285-0003.flac", "1688-142285-0004.flac"]),
    ):
        admin_client.post(
            f"{enrolment(employee)}voice/", {"clips": [io.BytesIO(clip(n)) for n in names]}, format="multipart"
        )

    genuine = device_a_client.post(
        "/api/biometrics/device/voice-check/",
        {
            "clip": io.BytesIO(clip("367-130732-0007.flac")),
            "employee": speaker.pk,
            "direction": "in",
            "client_event_id": "v-1",
        },
        format="multipart",
    )
    impostor = device_a_client.post(
        "/api/biometrics/device/voice-check/",
        {
            "clip": io.BytesIO(clip("1688-142285-0005.flac")),
            "employee": speaker.pk,
            "direction": "in",
            "client_event_id": "v-2",
        },
        format="multipart",
    )

    assert genuine.status_code == 201, genuine.json()
    assert genuine.json()["event"]["method"] == "voice"
    assert impostor.status_code == 400
    assert impostor.json()["errors"][0]["code"] == "voice_not_recognised"


def test_raw_photos_are_kept_only_when_configured_and_purged_after_retention(
    admin_user, employee_a, consented, settings
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from biometrics.services.enrolment import face_templates_enroll
    from biometrics.tasks import raw_face_images_purge_task

    settings.BIOMETRIC_RAW_IMAGE_RETENTION_DAYS = 7
    consented(employee_a)
    [template] = face_templates_enroll(actor=admin_user, employee=employee_a, images=[photo("obama_01.jpg")])
    template.refresh_from_db()

    assert template.image_encrypted is not None
    assert crypto.decrypt(template.image_encrypted) == photo("obama_01.jpg")
    assert raw_face_images_purge_task.delay().get() == 0
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert raw_face_images_purge_task.delay().get() == 1
    template.refresh_from_db()
    assert template.image_encrypted is None
    assert FaceTemplate.objects.filter(pk=template.pk).exists()
