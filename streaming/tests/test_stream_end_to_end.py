"""A registered camera becomes an annotated HLS stream that only its site's people can fetch."""

import threading
import time

import pytest
from django.db import connections
from django.test import Client

from attendance_site import celery_app
from streaming.models import CameraHostAllowance, CameraStream
from streaming.services import camera_stream_run, stream_output_dir
from streaming.tests.test_pipeline import looped_clip, needs_av, needs_rtsp_server, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def test_camera_registered_through_the_api_is_served_as_hls_to_its_site_only(
    server,  # noqa: F811 (the fixture imported above)
    admin_client,
    site_a,
    viewer_a,
    django_user_model,
    settings,
    tmp_path,
):
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    CameraHostAllowance.objects.create(site=site_a, host="127.0.0.1")
    # The start task goes to the `streams` queue (no worker here); the pipeline runs in a
    # thread instead, through the same service the task calls.
    eager_before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        created = admin_client.post(
            "/api/streams/", {"site": site_a.pk, "name": "Lobby", "url": server.url}, format="json"
        )
    finally:
        celery_app.conf.task_always_eager = eager_before
    assert created.status_code == 201, created.json()
    stream_id = created.json()["id"]

    def run() -> None:
        try:
            camera_stream_run(stream_id=stream_id)
        finally:
            connections.close_all()  # the thread's own connection, or the test database stays in use

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        playlist = stream_output_dir(stream_id) / "index.m3u8"
        _wait_for(lambda: playlist.exists() and ".ts" in playlist.read_text(), 30, "the first HLS segment")

        viewer = Client()
        viewer.force_login(viewer_a)
        hls = created.json()["hls_url"].split("testserver", 1)[1]
        listed = viewer.get(hls)
        listed_text = b"".join(listed.streaming_content).decode()
        segment_name = next(line for line in listed_text.splitlines() if line.endswith(".ts"))
        segment = viewer.get(hls.replace("index.m3u8", segment_name))
        stranger = django_user_model.objects.create_user(username="stranger", password="pw")
        outsider = Client()
        outsider.force_login(stranger)

        assert listed.status_code == 200
        assert listed["Content-Type"] == "application/vnd.apple.mpegurl"
        assert "no-cache" in listed["Cache-Control"]
        assert segment.status_code == 200 and segment["Content-Type"] == "video/mp2t"
        assert outsider.get(hls).status_code == 404
        assert Client().get(hls).status_code == 302  # to the login page
        assert viewer.get(hls.replace("index.m3u8", "..%2Fsecret-key")).status_code == 404
        _wait_for(lambda: CameraStream.objects.get(pk=stream_id).state == "live", 10, "the live state")
        assert CameraStream.objects.get(pk=stream_id).heartbeat_at is not None

        deleted = admin_client.delete(f"/api/streams/{stream_id}/")
        runner.join(timeout=15)

        assert deleted.status_code == 204
        assert not runner.is_alive()
        assert not stream_output_dir(stream_id).exists()
    finally:
        CameraStream.objects.filter(pk=stream_id).delete()
        runner.join(timeout=15)
