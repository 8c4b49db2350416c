"""QR check-in: rotating signed tokens, single use, revocable, decoded from images too."""

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import qrcode
import time_machine
from PIL import Image
from qrcode.image.pil import PilImage

from attendance.models import AttendanceEvent
from biometrics.services.qr import qr_credential_revoke, qr_token_issue

QR_CHECK = "/api/biometrics/device/qr-check/"
NOW = datetime(2026, 3, 10, 8, 0, 10, tzinfo=UTC)


def qr_check(client, token=None, image=None, client_event_id="qr-1"):
    body = {"direction": "in", "client_event_id": client_event_id}
    if token is not None:
        body["token"] = token
        return client.post(QR_CHECK, body, format="json")
    body["image"] = io.BytesIO(image)
    return client.post(QR_CHECK, body, format="multipart")


def code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_qr_check_in_works_without_biometric_consent(device_a_client, employee_a):
    with time_machine.travel(NOW, tick=False):
        token = qr_token_issue(employee=employee_a).token
        response = qr_check(device_a_client, token=token)

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["method"] == "qr"
    assert response.json()["event"]["employee"] == employee_a.pk


def test_replayed_token_is_rejected(device_a_client, employee_a):
    with time_machine.travel(NOW, tick=False):
        token = qr_token_issue(employee=employee_a).token
        qr_check(device_a_client, token=token)
    with time_machine.travel(NOW + timedelta(seconds=5), tick=False):
        replay = qr_check(device_a_client, token=token, client_event_id="qr-2")

    assert replay.status_code == 400
    assert code(replay) == "qr_replayed"
    assert AttendanceEvent.objects.count() == 1


def test_expired_token_is_rejected(device_a_client, employee_a):
    with time_machine.travel(NOW, tick=False):
        token = qr_token_issue(employee=employee_a).token
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        response = qr_check(device_a_client, token=token)

    assert response.status_code == 400
    assert code(response) == "qr_expired"


def test_token_of_another_site_is_rejected(device_a_client, employee_b):
    with time_machine.travel(NOW, tick=False):
        token = qr_token_issue(employee=employee_b).token
        response = qr_check(device_a_client, token=token)

    assert response.status_code == 400
    assert code(response) == "qr_other_site"


def test_forged_token_is_rejected(device_a_client, employee_a):
    with time_machine.travel(NOW, tick=False):
        token = qr_token_issue(employee=employee_a).token
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        response = qr_check(device_a_client, token=forged)

    assert response.status_code == 400
    assert code(response) == "qr_invalid"


def test_revoked_codes_stop_working(device_a_client, employee_a, admin_user):
    with time_machine.travel(NOW, tick=False):
        token = qr_token_issue(employee=employee_a).token
        qr_credential_revoke(actor=admin_user, employee=employee_a)
        response = qr_check(device_a_client, token=token)

    assert response.status_code == 400
    assert code(response) == "qr_revoked"


def test_qr_in_a_camera_image_is_decoded(device_a_client, employee_a):
    with time_machine.travel(NOW, tick=False):
        token = qr_token_issue(employee=employee_a).token
        picture = qrcode.make(token, box_size=6, border=4, image_factory=PilImage).convert("RGB")
        scene = Image.new("RGB", (picture.width + 200, picture.height + 160), (90, 110, 100))
        scene.paste(picture, (100, 80))
        buffer = io.BytesIO()
        scene.save(buffer, format="JPEG", quality=92)
        response = qr_check(device_a_client, image=buffer.getvalue())

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["employee"] == employee_a.pk


def test_image_without_a_qr_code_is_rejected(device_a_client, employee_a):
    buffer = io.BytesIO()
    Image.fromarray(np.full((200, 200, 3), 200, dtype=np.uint8)).save(buffer, format="PNG")

    response = qr_check(device_a_client, image=buffer.getvalue())

    assert response.status_code == 400
    assert code(response) == "qr_not_found"


def test_both_or_neither_of_token_and_image_is_a_400(device_a_client):
    response = device_a_client.post(QR_CHECK, {"direction": "in", "client_event_id": "x"}, format="json")

    assert response.status_code == 400


def test_qr_page_shows_a_rotating_code_and_dies_on_revocation(admin_client, client, employee_a, admin_user):
    link = admin_client.get(f"/api/biometrics/enrolments/{employee_a.pk}/qr-link/").json()["url"]
    path = link.split("testserver", 1)[1]

    page = client.get(path)
    image = client.get(path + "code.png")
    qr_credential_revoke(actor=admin_user, employee=employee_a)

    assert page.status_code == 200
    assert employee_a.last_name in page.content.decode()
    assert image["Content-Type"] == "image/png"
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    assert client.get(path).status_code == 404
    assert client.get("/qr/not-a-signed-link/").status_code == 404


def test_viewers_cannot_get_an_employees_qr_link(viewer_a_client, employee_a):
    assert viewer_a_client.get(f"/api/biometrics/enrolments/{employee_a.pk}/qr-link/").status_code == 403


def test_gigantic_image_header_is_refused_not_a_crash(device_a_client):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
        + chunk(b"IEND", b"")
    )
    response = qr_check(device_a_client, image=png)

    assert response.status_code == 400
    assert code(response) in {"image_too_large", "corrupt_image", "not_an_image"}
