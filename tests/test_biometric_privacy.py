"""Biometric privacy (issue #10, item 8): consent first, erasure complete, encryption at rest,
and no biometric data in anything that leaves the system.

The real dlib model is used on real photos (tests/data/faces), so each test processes only
the few photos it needs. What a sample or a template "is", when searched for, is every form
it could leave in: its bytes, their base64, and (for an embedding) its numbers.
"""

import asyncio
import base64
import io
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from attendance_site.events.models import DomainEvent
from attendance_site.live.publisher import site_group_name
from biometrics import crypto
from biometrics.models import FaceTemplate, VoiceTemplate
from biometrics.services.consent import consent_grant
from biometrics.services.enrolment import face_templates_enroll
from biometrics.tests.conftest import DATA, photo
from tests.factories import EmployeeFactory
from tests.test_access_matrix import ROLES, ROWS
from tests.world import (  # noqa: F401 (fixtures)
    World,
    admin_b_fixture,
    callers_fixture,
    database_state,
    fast_password_hashing_fixture,
    request_send,
    tables_changed,
    world_fixture,
)

FACE_CHECK = "/api/biometrics/device/face-check/"
VOICE_CHECK = "/api/biometrics/device/voice-check/"


def enrolment(employee) -> str:
    return f"/api/biometrics/enrolments/{employee.pk}/"


def clip(name: str) -> bytes:
    return next((DATA / "voice").rglob(name)).read_bytes()


def face_check(client, image: bytes, client_event_id: str, **extra):
    body = {"image": io.BytesIO(image), "direction": "in", "client_event_id": client_event_id, **extra}
    return client.post(FACE_CHECK, body, format="multipart")


def forms_of(data: bytes) -> list[bytes]:
    """The ways a sample or template could be written out: as is, and in base64."""
    return [data, base64.b64encode(data), base64.urlsafe_b64encode(data)]


def embedding_forms(raw: bytes) -> list[bytes]:
    """An embedding's bytes (float64 as stored, and float32), their base64, and its numbers as text."""
    vector = np.frombuffer(raw, dtype=np.float64)
    forms = forms_of(raw) + forms_of(vector.astype(np.float32).tobytes())
    return [*forms, json.dumps(vector[:4].tolist())[1:-1].encode(), repr(float(vector[0])).encode()]


# --- Places where data could stay behind ------------------------------------------------------


@pytest.fixture
def watched_disk(settings, tmp_path, monkeypatch):
    """The places files are written to (streams, uploads, temporary files, var/), watchable."""
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return [tmp_path, Path(settings.BASE_DIR) / "var"]


def files_holding(roots: list[Path], forms: list[bytes]) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            # The test database itself is checked row by row, through the ORM.
            if path.is_file() and ".sqlite3" not in path.name and path.stat().st_size < 50 * 2**20:
                content = path.read_bytes()
                found += [str(path) for form in forms if form in content]
    return found


def redis_holding(forms: list[bytes]) -> list[str]:
    """Keys of Redis (cache, broker, results, channel layer) whose values hold any of the forms."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    found = []
    for key in client.scan_iter(count=1000):
        values = _redis_values(client, key)
        found += [key.decode(errors="replace") for value in values for form in forms if form in (value or b"")]
    return found


def _redis_values(client: redis.Redis, key: bytes) -> list[bytes]:
    kind = _raw(client.type(key)).decode()
    if kind == "string":
        return [_raw(client.get(key))]
    if kind == "list":
        return [_raw(value) for value in client.lrange(key, 0, -1)]
    if kind == "hash":
        return [_raw(value) for value in client.hgetall(key).values()]
    if kind == "set":
        return [_raw(value) for value in client.smembers(key)]
    if kind == "zset":  # members only: no scores are asked for
        return [_raw(value) for value in client.zrange(key, 0, -1) if isinstance(value, bytes | str)]
    return []


def _raw(value: bytes | str | None) -> bytes:
    # The client does not decode responses, so a value is bytes; its types allow str too.
    if isinstance(value, str):
        return value.encode()
    return value or b""


def database_holding(forms: list[bytes]) -> list[str]:
    state = database_state()
    return [
        label
        for label, rows in state.items()
        for values in rows
        for form in forms
        if form in repr(values).encode() + b"".join(v for v in values if isinstance(v, bytes))
    ]


# --- Consent comes first -----------------------------------------------------------------------


def test_enrolment_without_consent_is_refused_and_stores_nothing(admin_a_client, site_a, settings, watched_disk):
    settings.BIOMETRIC_RAW_IMAGE_RETENTION_DAYS = 30  # photos would be kept, were any accepted
    employee = EmployeeFactory(site=site_a)
    before = database_state()

    face = admin_a_client.post(
        f"{enrolment(employee)}face/", {"images": [io.BytesIO(photo("obama_01.jpg"))]}, format="multipart"
    )
    voice = admin_a_client.post(
        f"{enrolment(employee)}voice/",
        {"clips": [io.BytesIO(clip("367-130732-0001.flac")), io.BytesIO(clip("367-130732-0004.flac"))]},
        format="multipart",
    )

    assert (face.status_code, voice.status_code) == (400, 400)
    assert tables_changed(before, database_state()) == []
    assert files_holding(watched_disk, forms_of(photo("obama_01.jpg"))) == []


def test_a_face_check_in_of_someone_without_consent_stores_no_sample(
    device_a_client, site_a, admin_user, watched_disk, django_capture_on_commit_callbacks
):
    enrolled = EmployeeFactory(site=site_a)
    consent_grant(actor=admin_user, employee=enrolled, notice_version="2026-01")
    face_templates_enroll(actor=admin_user, employee=enrolled, images=[photo("obama_01.jpg")])
    stranger = EmployeeFactory(site=site_a)  # works here, never consented
    sample = photo("biden_01.jpg")
    before = database_state()

    with django_capture_on_commit_callbacks(execute=True):
        identified = face_check(device_a_client, sample, "no-consent-1")
        claimed = face_check(device_a_client, sample, "no-consent-2", employee=stranger.pk)
        voiced = device_a_client.post(
            VOICE_CHECK,
            {"clip": io.BytesIO(clip("367-130732-0007.flac")), "employee": stranger.pk, "direction": "in"}
            | {"client_event_id": "no-consent-3"},
            format="multipart",
        )

    assert identified.status_code == 400 and identified.json()["errors"][0]["code"] == "face_not_recognised"
    assert claimed.status_code == 400 and "consented" in claimed.json()["errors"][0]["detail"]
    assert voiced.status_code == 400 and "consented" in voiced.json()["errors"][0]["detail"]
    assert tables_changed(before, database_state()) == []
    assert files_holding(watched_disk, forms_of(sample)) == []
    assert redis_holding(forms_of(sample)) == []


# --- Erasure is complete -------------------------------------------------------------------------


def test_erasure_leaves_no_row_file_or_cache_behind_and_the_face_is_no_longer_recognised(
    admin_a_client, device_a_client, site_a, admin_user, settings, watched_disk, django_capture_on_commit_callbacks
):
    settings.BIOMETRIC_RAW_IMAGE_RETENTION_DAYS = 30  # the enrolment photos are kept, encrypted
    employee = EmployeeFactory(site=site_a)
    consent_grant(actor=admin_user, employee=employee, notice_version="2026-01")
    photos = [photo("obama_01.jpg"), photo("obama_02.jpg")]
    with django_capture_on_commit_callbacks(execute=True):
        enrolled = admin_a_client.post(
            f"{enrolment(employee)}face/", {"images": [io.BytesIO(p) for p in photos]}, format="multipart"
        )
    assert enrolled.status_code == 201, enrolled.json()
    VoiceTemplate.objects.create(
        employee=employee, embedding_encrypted=crypto.encrypt(np.ones(256, np.float32).tobytes()), clip_count=2
    )
    stored = list(FaceTemplate.objects.filter(employee=employee))
    embeddings = [crypto.decrypt(template.encoding_encrypted) for template in stored]
    assert all(template.image_encrypted is not None for template in stored)
    ciphertexts = [bytes(template.encoding_encrypted) for template in stored] + [
        bytes(template.image_encrypted) for template in stored if template.image_encrypted is not None
    ]
    with django_capture_on_commit_callbacks(execute=True):
        # Recognised first: this process's gallery (and the worker's, in production) now holds the face.
        recognised = face_check(device_a_client, photo("obama_04.jpg"), "before-erasure")
        erased = admin_a_client.post(f"{enrolment(employee)}erase/", {"reason": "Employee request"}, format="json")
    after = face_check(device_a_client, photo("obama_04.jpg"), "after-erasure")

    assert recognised.status_code == 201 and recognised.json()["event"]["employee"] == employee.pk
    assert erased.status_code == 200 and erased.json() == {"face_templates": 2, "voice_templates": 1}
    assert after.status_code == 400 and after.json()["errors"][0]["code"] == "face_not_recognised"
    assert not FaceTemplate.objects.filter(employee=employee).exists()
    assert not VoiceTemplate.objects.filter(employee=employee).exists()
    leftovers = [form for raw in embeddings for form in embedding_forms(raw)]
    leftovers += [form for data in photos + ciphertexts for form in forms_of(data)]
    assert database_holding(leftovers) == []
    assert files_holding(watched_disk, leftovers) == []
    assert redis_holding(leftovers) == []


def test_withdrawing_consent_erases_like_a_request_and_the_gallery_forgets_at_once(
    admin_a_client, device_a_client, site_a, admin_user, django_capture_on_commit_callbacks
):
    employee = EmployeeFactory(site=site_a)
    consent = consent_grant(actor=admin_user, employee=employee, notice_version="2026-01")
    face_templates_enroll(actor=admin_user, employee=employee, images=[photo("obama_01.jpg")])
    with django_capture_on_commit_callbacks(execute=True):
        recognised = face_check(device_a_client, photo("obama_04.jpg"), "before-withdrawal")
        withdrawn = admin_a_client.post(f"/api/biometrics/consents/{consent.pk}/withdraw/")
    after = face_check(device_a_client, photo("obama_04.jpg"), "after-withdrawal")

    assert recognised.status_code == 201
    assert withdrawn.status_code == 200
    assert after.status_code == 400 and after.json()["errors"][0]["code"] == "face_not_recognised"
    assert not FaceTemplate.objects.filter(employee=employee).exists()


# --- Encrypted at rest ----------------------------------------------------------------------------


def test_templates_and_kept_photos_are_stored_encrypted(admin_a_client, site_a, admin_user, settings):
    settings.BIOMETRIC_RAW_IMAGE_RETENTION_DAYS = 30
    employee = EmployeeFactory(site=site_a)
    consent_grant(actor=admin_user, employee=employee, notice_version="2026-01")
    sample = photo("obama_01.jpg")

    enrolled = admin_a_client.post(f"{enrolment(employee)}face/", {"images": [io.BytesIO(sample)]}, format="multipart")

    assert enrolled.status_code == 201
    template = FaceTemplate.objects.get(employee=employee)
    embedding = crypto.decrypt(template.encoding_encrypted)
    assert len(embedding) == 128 * 8  # what was encrypted is the embedding itself
    assert template.image_encrypted is not None
    assert crypto.decrypt(template.image_encrypted) == sample
    for form in embedding_forms(embedding):
        assert form not in bytes(template.encoding_encrypted)
    assert database_holding(embedding_forms(embedding) + forms_of(sample)) == []


# --- Nothing that leaves the system carries biometric data -------------------------------------------

# Keys whose values would be biometric data; counts of templates are fine.
BIOMETRIC_KEYS = {
    "clip",
    "clips",
    "descriptor",
    "embedding",
    "embedding_encrypted",
    "encoding",
    "encoding_encrypted",
    "face_encoding",
    "frames",
    "image",
    "image_encrypted",
    "images",
    "sample",
    "samples",
    "template",
    "templates",
    "vector",
}


@dataclass
class Outputs:
    """A run of the system with real faces enrolled, and what it sent out."""

    world: World
    callers: dict
    responses: list[tuple[str, bytes]] = field(default_factory=list)
    live_messages: list[dict] = field(default_factory=list)

    def send(self, role: str, path: str, body: dict):
        response = self.callers[role].post(path, body, format="multipart")
        self.responses.append((f"POST {path}", response.content))
        return response

    def every_get(self) -> None:
        """Every GET of the access matrix, by the first role the table lets in."""
        for item in ROWS:
            role = next((role for role, status in zip(ROLES, item.expected, strict=True) if status == 200), None)
            # The schema describes the API's fields (image, clip ...); it carries no one's data.
            if item.method != "GET" or role is None or item.route.startswith(("/api/schema", "/api/docs")):
                continue
            response = request_send(self.callers[role], item, self.world)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            self.responses.append((f"GET {item.route}", body))


def api_responses(outputs: Outputs) -> Iterable[tuple[str, object]]:
    for where, body in outputs.responses:
        try:
            yield where, json.loads(body)
        except ValueError:
            yield where, body


def live_messages(outputs: Outputs) -> Iterable[tuple[str, object]]:
    for message in outputs.live_messages:
        yield f"live {message.get('type')}", message


def domain_event_payloads(outputs: Outputs) -> Iterable[tuple[str, object]]:
    # What event handlers, plugins and (later) webhooks receive.
    for event in DomainEvent.objects.all():
        yield f"domain event {event.type}", event.payload


# Every way data leaves the system. Exports and webhooks (integrations/) add theirs when they exist.
OUTPUTS: list[Callable[[Outputs], Iterable[tuple[str, object]]]] = [api_responses, live_messages, domain_event_payloads]


def biometric_data_in(payload: object, forms: list[bytes], path: str = "") -> list[str]:
    """Where in a payload biometric data sits: a biometric key, a vector of numbers, or the data itself."""
    if isinstance(payload, bytes):
        return [f"{path}: the data itself" for form in forms if form in payload][:1]
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if str(key).lower() in BIOMETRIC_KEYS:
                found.append(f"{path}.{key}")
            found += biometric_data_in(value, forms, f"{path}.{key}")
    elif isinstance(payload, list):
        if len(payload) >= 64 and all(isinstance(item, int | float) for item in payload):
            found.append(f"{path}: a vector of {len(payload)} numbers")
        for index, item in enumerate(payload[:200]):
            found += biometric_data_in(item, forms, f"{path}[{index}]")
    elif isinstance(payload, str):
        found += biometric_data_in(payload.encode(), forms, path)
    return found


def test_no_response_live_message_or_event_payload_carries_biometric_data(
    world, callers, django_capture_on_commit_callbacks
):
    outputs = Outputs(world, callers)
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(site_group_name(world.site_a.pk), channel)

    with django_capture_on_commit_callbacks(execute=True):
        enrolled = outputs.send(
            "admin_a", f"{enrolment(world.employee)}face/", {"images": [io.BytesIO(photo("obama_01.jpg"))]}
        )
        checked = outputs.send(
            "device_a",
            FACE_CHECK,
            {"image": io.BytesIO(photo("obama_04.jpg")), "direction": "out", "client_event_id": "privacy-out"},
        )
        outputs.every_get()
    outputs.live_messages = async_to_sync(_received)(layer, channel, count=1)

    assert enrolled.status_code == 201 and checked.status_code == 201, checked.content
    template = FaceTemplate.objects.filter(employee=world.employee).last()
    assert template is not None
    forms = embedding_forms(crypto.decrypt(template.encoding_encrypted))
    forms += forms_of(photo("obama_01.jpg")) + forms_of(photo("obama_04.jpg"))
    found = [
        f"{where}: {problem}"
        for output in OUTPUTS
        for where, payload in output(outputs)
        for problem in biometric_data_in(payload, forms)
    ]
    assert outputs.live_messages and DomainEvent.objects.exists()
    assert not found, "\n".join(found)


async def _received(layer, channel: str, *, count: int) -> list[dict]:
    messages: list[dict] = []
    while len(messages) < count:
        message = await asyncio.wait_for(layer.receive(channel), timeout=10)
        messages.append(message["message"])
    return messages
