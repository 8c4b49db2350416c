"""The configured biometric backend is the one every check-in goes through."""

import dataclasses
import io
from typing import Any

from django.test import override_settings

from attendance.models import AttendanceEvent
from attendance_site.registry import FaceMatcher, registry
from attendance_site.testing.registry import registered
from biometrics.tests.conftest import photo

FACE_CHECK = "/api/biometrics/device/face-check/"


def recording_matcher(key: str) -> tuple[FaceMatcher, list[str]]:
    """The built-in matcher under another key, noting each 1:N and 1:1 search it makes."""
    built_in = registry.biometric_backends["face"]
    assert isinstance(built_in, FaceMatcher)
    calls: list[str] = []

    def identify(gallery: Any, encoding: Any, **options: float) -> Any:
        calls.append("identify")
        return built_in.identify(gallery, encoding, **options)

    def verify(gallery: Any, encoding: Any, **options: Any) -> Any:
        calls.append("verify")
        return built_in.verify(gallery, encoding, **options)

    return dataclasses.replace(built_in, key=key, identify=identify, verify=verify), calls


def backends(face_matcher: str) -> dict[str, str]:
    return {"face_matcher": face_matcher, "voice_verifier": "voice", "liveness": "liveness"}


def face_check(client: Any, image: bytes, client_event_id: str, **extra: Any) -> Any:
    body = {"image": io.BytesIO(image), "direction": "in", "client_event_id": client_event_id, **extra}
    return client.post(FACE_CHECK, body, format="multipart")


def test_face_check_in_goes_through_the_configured_face_matcher(device_a_client, obama, biden):
    matcher, calls = recording_matcher("recording")

    with registered(registry.biometric_backends, matcher), override_settings(BIOMETRIC_BACKENDS=backends("recording")):
        identified = face_check(device_a_client, photo("obama_04.jpg"), "face-1")
        wrong_claim = face_check(device_a_client, photo("obama_04.jpg"), "face-2", employee=biden.pk)

    assert identified.status_code == 201, identified.json()
    assert identified.json()["event"]["employee"] == obama.pk
    assert wrong_claim.status_code == 400
    assert wrong_claim.json()["errors"][0]["code"] == "face_not_recognised"
    assert calls == ["identify", "verify"]
    assert list(AttendanceEvent.objects.values_list("employee_id", flat=True)) == [obama.pk]


def test_a_registered_face_matcher_is_not_used_until_configured(device_a_client, obama):
    matcher, calls = recording_matcher("recording")

    with registered(registry.biometric_backends, matcher):
        response = face_check(device_a_client, photo("obama_04.jpg"), "face-1")

    assert response.status_code == 201, response.json()
    assert calls == []
