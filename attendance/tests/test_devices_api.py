"""Devices through the people's API: credentials shown once, stored hashed, revocable."""

from accounts.models import AuditLogEntry
from attendance.models import Device

DEVICES = "/api/attendance/devices/"


def test_credential_is_shown_once_and_only_its_hash_is_stored(admin_client, site_a, client):
    created = admin_client.post(DEVICES, {"site": site_a.pk, "name": "Lobby", "kind": "tablet"}, format="json")

    assert created.status_code == 201
    credential = created.json()["credential"]
    device = Device.objects.get(pk=created.json()["id"])
    assert credential not in (device.credential_hash, device.credential_prefix)
    assert "credential" not in admin_client.get(f"{DEVICES}{device.pk}/").json()
    audit = AuditLogEntry.objects.get(action="create", object_id=str(device.pk))
    assert audit.after is not None
    assert "credential_hash" not in audit.after
    assert client.get("/api/attendance/device/me/", HTTP_AUTHORIZATION=f"Device {credential}").status_code == 200


def test_revoked_device_is_refused_at_once(admin_client, device_a, device_a_client):
    assert device_a_client.get("/api/attendance/device/me/").status_code == 200

    response = admin_client.post(f"{DEVICES}{device_a.device.pk}/revoke/")

    assert response.status_code == 200
    assert response.json()["is_revoked"] is True
    assert device_a_client.get("/api/attendance/device/me/").status_code == 401
    assert AuditLogEntry.objects.filter(action="revoke").count() == 1


def test_viewer_cannot_create_or_revoke_devices(viewer_a_client, site_a, device_a):
    assert viewer_a_client.post(DEVICES, {"site": site_a.pk, "name": "X"}, format="json").status_code == 403
    assert viewer_a_client.post(f"{DEVICES}{device_a.device.pk}/revoke/").status_code == 403
    assert Device.objects.get(pk=device_a.device.pk).revoked_at is None


def test_site_a_admin_cannot_touch_site_b_devices(admin_a_client, site_b, device_b):
    assert admin_a_client.get(f"{DEVICES}{device_b.device.pk}/").status_code == 404
    assert admin_a_client.post(f"{DEVICES}{device_b.device.pk}/revoke/").status_code == 404
    assert admin_a_client.post(DEVICES, {"site": site_b.pk, "name": "X"}, format="json").status_code == 400
    assert admin_a_client.get(DEVICES, {"site": site_b.pk}).status_code == 400
    assert Device.objects.get(pk=device_b.device.pk).revoked_at is None


def test_unknown_device_id_is_a_404(admin_client):
    assert admin_client.post(f"{DEVICES}999999/revoke/").status_code == 404


def test_bad_device_fields_are_a_400(admin_client, site_a):
    response = admin_client.post(DEVICES, {"site": site_a.pk, "name": "", "kind": "toaster"}, format="json")

    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"name", "kind"}
    assert not Device.objects.exists()
