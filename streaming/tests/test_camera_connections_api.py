"""Registering cameras safely (security issue #10): IPv6 forms of special addresses, TLS
settings, and a DNS answer that changes after registration."""

import hashlib

import pytest

from streaming import camera_addresses
from streaming.models import CameraHostAllowance, CameraStream
from streaming.services import camera_stream_run
from streaming.tests.fake_cameras import RecordingListener
from streaming.tests.test_pipeline import needs_av  # noqa: F401 (fixture)

STREAMS = "/api/streams/"
FINGERPRINT = hashlib.sha256(b"a camera certificate").hexdigest()
FINGERPRINT_COLONS = ":".join(FINGERPRINT[index : index + 2] for index in range(0, 64, 2)).upper()


def create(client, site, url, **options):
    return client.post(STREAMS, {"site": site.pk, "name": "Lobby", "url": url, **options}, format="json")


@pytest.mark.parametrize(
    "host",
    [
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:a9fe:a9fe::1]",
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
    ],
)
def test_ipv6_forms_of_loopback_and_metadata_are_refused_under_a_wide_ipv6_range(admin_client, site_a, host):
    CameraHostAllowance.objects.create(site=site_a, host="::/0")
    CameraHostAllowance.objects.create(site=site_a, host="0.0.0.0/0")

    response = create(admin_client, site_a, f"rtsp://{host}/stream")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "url"
    assert "exact address" in response.json()["errors"][0]["detail"]
    assert not CameraStream.objects.exists()


def test_a_listed_name_that_resolves_to_loopback_is_refused(admin_client, site_a, monkeypatch):
    monkeypatch.setattr(camera_addresses, "system_resolve", lambda host, port: ["127.0.0.1"])
    CameraHostAllowance.objects.create(site=site_a, host="cam.test")

    response = create(admin_client, site_a, "rtsp://cam.test/stream")

    assert response.status_code == 400
    assert "cam.test resolves to 127.0.0.1" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("given", [FINGERPRINT, FINGERPRINT.upper(), FINGERPRINT_COLONS, FINGERPRINT_COLONS.lower()])
def test_a_self_signed_camera_is_registered_with_its_pinned_fingerprint(admin_client, site_a, given, queued_not_run):
    CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")

    response = create(admin_client, site_a, "rtsps://10.20.1.7/live", tls_verify=False, tls_fingerprint_sha256=given)

    assert response.status_code == 201, response.json()
    assert response.json()["tls_verify"] is False
    assert response.json()["tls_fingerprint_sha256"] == FINGERPRINT_COLONS


def test_rtsps_verifies_certificates_unless_told_otherwise(admin_client, site_a, queued_not_run):
    CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")

    response = create(admin_client, site_a, "rtsps://10.20.1.7/live")

    assert response.status_code == 201
    assert response.json()["tls_verify"] is True and response.json()["tls_fingerprint_sha256"] == ""


@pytest.mark.parametrize(
    ("url", "options", "attr", "detail"),
    [
        ("rtsps://10.20.1.7/live", {"tls_verify": False}, "tls_fingerprint_sha256", "pinned"),
        (
            "rtsps://10.20.1.7/live",
            {"tls_verify": False, "tls_fingerprint_sha256": " "},
            "tls_fingerprint_sha256",
            "pin",
        ),
        ("rtsps://10.20.1.7/live", {"tls_fingerprint_sha256": "ab:cd"}, "tls_fingerprint_sha256", "64 hex"),
        ("rtsps://10.20.1.7/live", {"tls_fingerprint_sha256": "z" * 64}, "tls_fingerprint_sha256", "64 hex"),
        ("rtsps://10.20.1.7/live", {"tls_fingerprint_sha256": FINGERPRINT + "00"}, "tls_fingerprint_sha256", "64 hex"),
        ("rtsp://10.20.1.7/live", {"tls_verify": False, "tls_fingerprint_sha256": FINGERPRINT}, "tls_verify", "rtsps"),
        ("rtsp://10.20.1.7/live", {"tls_fingerprint_sha256": FINGERPRINT}, "tls_verify", "rtsps"),
    ],
)
def test_tls_settings_that_make_no_sense_are_refused(admin_client, site_a, url, options, attr, detail):
    CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")

    response = create(admin_client, site_a, url, **options)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["attr"] == attr and detail in error["detail"]
    assert not CameraStream.objects.exists()


def test_a_name_that_resolves_elsewhere_after_registration_is_refused_when_the_pipeline_connects(
    needs_av,  # noqa: F811 (the fixture imported above)
    admin_client,
    site_a,
    monkeypatch,
    queued_not_run,
    settings,
    tmp_path,
):
    """DNS rebinding: registration saw a private address; at connect time the name points
    at loopback. The gateway resolves and checks again, and the stream fails, saying why."""
    settings.STREAMS_ROOT = str(tmp_path)
    answers = {"cam.test": ["10.20.1.7"]}
    monkeypatch.setattr(camera_addresses, "system_resolve", lambda host, port: answers[host])
    CameraHostAllowance.objects.create(site=site_a, host="cam.test")
    listener = RecordingListener("127.0.0.2")
    try:
        created = create(admin_client, site_a, f"rtsp://door:s3cret-pw@cam.test:{listener.port}/live")
        assert created.status_code == 201, created.json()
        stream = CameraStream.objects.get()
        answers["cam.test"] = ["127.0.0.2"]

        camera_stream_run(stream_id=stream.pk, run_token=stream.run_token)

        stream.refresh_from_db()
        assert listener.take() == []
    finally:
        listener.close()
    assert stream.state == "failed"
    assert "cam.test resolves to 127.0.0.2" in stream.last_error
    assert stream.run_token == ""  # the lease is given back: the supervisor does not retry it
    assert admin_client.get(f"{STREAMS}{stream.pk}/").json()["last_error"] == stream.last_error
