"""Registering camera streams: hostile URLs refused before anything opens them, allowlists, secrets."""

import pytest

from accounts.models import AuditLogEntry
from biometrics.models import SiteBiometricPolicy
from streaming.models import CameraHostAllowance, CameraStream
from streaming.services import _camera_url_with_credentials

STREAMS = "/api/streams/"
HOSTS = "/api/streams/camera-hosts/"


@pytest.fixture
def camera_network(site_a):
    return CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")


def create(client, site, url, name="Lobby"):
    return client.post(STREAMS, {"site": site.pk, "name": name, "url": url}, format="json")


def test_admin_registers_a_camera_and_credentials_never_come_back(admin_client, site_a, camera_network):
    response = create(admin_client, site_a, "rtsp://viewer:s3cr3t-pw@10.20.1.7:554/stream1")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url_without_credentials"] == "rtsp://10.20.1.7:554/stream1"
    assert body["has_credentials"] is True
    assert body["state"] == "starting"
    stored = CameraStream.objects.get()
    assert stored.credentials_encrypted is not None
    assert b"s3cr3t-pw" not in bytes(stored.credentials_encrypted)
    listing = admin_client.get(STREAMS).content.decode() + admin_client.get(f"{STREAMS}{stored.pk}/").content.decode()
    audit = AuditLogEntry.objects.get(action="create", object_id=str(stored.pk))
    assert "s3cr3t-pw" not in listing
    assert audit.after is not None
    assert "s3cr3t-pw" not in str(audit.after) and "credentials_encrypted" not in audit.after


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "concat:/etc/passwd|/etc/hosts",
        "http://10.20.1.7/playlist.m3u8",
        "https://10.20.1.7/live.m3u8",
        "rtsp://10.20.1.7/;rm -rf /",
        "rtsp://10.20.1.7/$(reboot)",
        "rtsp://10.20.1.7 /x",
        "data:text/plain,hello",
        "",
    ],
)
def test_hostile_urls_are_refused_and_nothing_is_stored(admin_client, site_a, camera_network, url):
    response = create(admin_client, site_a, url)

    assert response.status_code == 400
    assert not CameraStream.objects.exists()


@pytest.mark.parametrize("host", ["169.254.169.254", "127.0.0.1", "[::1]", "0.0.0.0"])  # noqa: S104 (refused hosts)
def test_metadata_loopback_and_link_local_hosts_need_an_exact_allowance(admin_client, site_a, host):
    CameraHostAllowance.objects.create(site=site_a, host="0.0.0.0/0")  # a wide entry is not enough

    response = create(admin_client, site_a, f"rtsp://{host}/stream")

    assert response.status_code == 400
    assert not CameraStream.objects.exists()


def test_loopback_passes_when_listed_exactly(admin_client, site_a):
    CameraHostAllowance.objects.create(site=site_a, host="127.0.0.1")

    assert create(admin_client, site_a, "rtsp://127.0.0.1:8554/test").status_code == 201


def test_host_outside_the_allowlist_is_refused(admin_client, site_a, camera_network):
    response = create(admin_client, site_a, "rtsp://192.168.1.50/stream")

    assert response.status_code == 400
    assert "allowlist" in response.json()["errors"][0]["detail"]


def test_viewer_watches_but_cannot_register_or_stop(viewer_a_client, admin_client, site_a, camera_network):
    stream = create(admin_client, site_a, "rtsp://10.20.1.7/stream1").json()

    assert viewer_a_client.get(f"{STREAMS}{stream['id']}/").status_code == 200
    assert create(viewer_a_client, site_a, "rtsp://10.20.1.8/stream1", name="Other").status_code == 403
    assert viewer_a_client.delete(f"{STREAMS}{stream['id']}/").status_code == 403
    assert viewer_a_client.post(HOSTS, {"site": site_a.pk, "host": "10.0.0.1"}, format="json").status_code == 403


def test_another_sites_stream_is_invisible(admin_a_client, site_b, admin_user):
    CameraHostAllowance.objects.create(site=site_b, host="10.30.0.0/16")
    theirs = CameraStream.objects.create(site=site_b, name="B cam", url_without_credentials="rtsp://10.30.0.2/x")

    assert admin_a_client.get(f"{STREAMS}{theirs.pk}/").status_code == 404
    assert admin_a_client.delete(f"{STREAMS}{theirs.pk}/").status_code == 404
    assert create(admin_a_client, site_b, "rtsp://10.30.0.2/x").status_code == 400


@pytest.mark.parametrize("host", ["10.0.0.0/8", "cam-lobby.local", "10.1.2.3"])
def test_admin_lists_camera_hosts(admin_client, site_a, host):
    assert admin_client.post(HOSTS, {"site": site_a.pk, "host": host}, format="json").status_code == 201


@pytest.mark.parametrize("host", ["", "cam lobby", "10.0.0.1;reboot", "$(x)", "a" * 300])
def test_bad_camera_hosts_are_refused(admin_client, site_a, host):
    assert admin_client.post(HOSTS, {"site": site_a.pk, "host": host}, format="json").status_code == 400
    assert not CameraHostAllowance.objects.exists()


def test_option_caps_are_validated(admin_client, site_a, camera_network):
    response = admin_client.post(
        STREAMS,
        {"site": site_a.pk, "name": "Big", "url": "rtsp://10.20.1.7/s", "max_width": 8000, "max_fps": 240},
        format="json",
    )

    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"max_width", "max_fps"}


def test_ipv6_camera_url_keeps_its_brackets(admin_client, site_a):
    CameraHostAllowance.objects.create(site=site_a, host="::1")

    response = create(admin_client, site_a, "rtsp://cam:pw@[::1]:8554/test")

    assert response.status_code == 201, response.json()
    assert response.json()["url_without_credentials"] == "rtsp://[::1]:8554/test"


def test_stop_and_start_keep_the_stream_and_renew_its_lease(admin_client, viewer_a_client, site_a, camera_network):
    stream_id = create(admin_client, site_a, "rtsp://10.20.1.7/stream1").json()["id"]
    first_lease = CameraStream.objects.get(pk=stream_id).run_token

    assert viewer_a_client.post(f"{STREAMS}{stream_id}/stop/").status_code == 403
    stopped = admin_client.post(f"{STREAMS}{stream_id}/stop/")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert CameraStream.objects.get(pk=stream_id).run_token == ""
    assert viewer_a_client.post(f"{STREAMS}{stream_id}/start/").status_code == 403

    started = admin_client.post(f"{STREAMS}{stream_id}/start/")

    assert started.status_code == 200 and started.json()["state"] == "starting"
    assert CameraStream.objects.get(pk=stream_id).run_token not in ("", first_lease)
    actions = list(AuditLogEntry.objects.filter(object_id=str(stream_id)).values_list("action", flat=True))
    assert actions.count("stop") == 1 and actions.count("start") == 1


def test_another_sites_stream_cannot_be_stopped_or_started(admin_a_client, site_b):
    theirs = CameraStream.objects.create(
        site=site_b, name="B cam", url_without_credentials="rtsp://10.30.0.2/x", run_token="theirs"
    )

    assert admin_a_client.post(f"{STREAMS}{theirs.pk}/stop/").status_code == 404
    assert admin_a_client.post(f"{STREAMS}{theirs.pk}/start/").status_code == 404
    assert CameraStream.objects.get(pk=theirs.pk).run_token == "theirs"


def test_concurrent_stream_limit(admin_client, site_a, camera_network, settings):
    settings.STREAMS_MAX_CONCURRENT = 2
    first = create(admin_client, site_a, "rtsp://10.20.1.7/a", name="A").json()["id"]
    assert create(admin_client, site_a, "rtsp://10.20.1.8/b", name="B").status_code == 201

    refused = create(admin_client, site_a, "rtsp://10.20.1.9/c", name="C")

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "stream_limit"
    assert not CameraStream.objects.filter(name="C").exists()
    # A stopped stream frees its slot; starting it again while full is refused.
    admin_client.post(f"{STREAMS}{first}/stop/")
    assert create(admin_client, site_a, "rtsp://10.20.1.9/c", name="C").status_code == 201
    again = admin_client.post(f"{STREAMS}{first}/start/")
    assert again.status_code == 400 and again.json()["errors"][0]["code"] == "stream_limit"
    assert CameraStream.objects.get(pk=first).run_token == ""


def test_no_stream_starts_on_a_full_disk(admin_client, site_a, camera_network, settings, tmp_path):
    settings.STREAMS_ROOT = str(tmp_path)
    settings.STREAMS_MIN_FREE_DISK_MB = 2**40  # more than any disk has

    response = create(admin_client, site_a, "rtsp://10.20.1.7/a")

    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "disk_full"
    assert not CameraStream.objects.exists()


def test_camera_attendance_is_refused_where_liveness_is_required(admin_client, site_a, camera_network):
    SiteBiometricPolicy.objects.create(site=site_a, liveness_required=True)

    response = admin_client.post(
        STREAMS,
        {"site": site_a.pk, "name": "Door", "url": "rtsp://10.20.1.7/s", "record_attendance": True},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "record_attendance"
    assert not CameraStream.objects.exists()


@pytest.mark.parametrize(
    "options",
    [
        {"attendance_direction": "sideways"},
        {"attendance_cooldown_seconds": 0},
        {"attendance_cooldown_seconds": "soon"},
        {"label_faces": "maybe"},
    ],
)
def test_attendance_options_are_validated(admin_client, site_a, camera_network, options):
    response = admin_client.post(
        STREAMS, {"site": site_a.pk, "name": "Door", "url": "rtsp://10.20.1.7/s", **options}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == next(iter(options))
    assert not CameraStream.objects.exists()


def test_percent_encoded_credentials_reach_the_camera_as_given(admin_client, site_a, camera_network):
    url = "rtsp://door%40lobby:p%40ss%3Aword@10.20.1.7:554/stream1"  # '@' and ':' inside
    created = create(admin_client, site_a, url)

    assert created.status_code == 201
    assert _camera_url_with_credentials(CameraStream.objects.get()) == url
