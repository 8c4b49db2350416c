"""A registered camera becomes an annotated HLS stream that only its site's people can fetch."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, cast

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connections
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone

from attendance_site.events.models import DomainEvent
from attendance_site.live.publisher import site_group_name
from streaming.models import CameraHostAllowance, CameraStream
from streaming.services import camera_stream_run, camera_streams_supervise, stream_output_dir
from streaming.tests.test_pipeline import looped_clip, needs_av, needs_rtsp_server, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _next_message(layer: Any, channel: str, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first live message on the channel that is wanted, within 10 s."""

    async def receive() -> dict[str, Any]:
        while True:
            message = (await asyncio.wait_for(layer.receive(channel), timeout=10))["message"]
            if wanted(message):
                return message

    return async_to_sync(receive)()


def test_camera_registered_through_the_api_is_served_as_hls_to_its_site_only(
    server,  # noqa: F811 (the fixture imported above)
    admin_client,
    site_a,
    viewer_a,
    queued_not_run,
    django_user_model,
    settings,
    tmp_path,
):
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    CameraHostAllowance.objects.create(site=site_a, host="127.0.0.1")
    created = admin_client.post("/api/streams/", {"site": site_a.pk, "name": "Lobby", "url": server.url}, format="json")
    assert created.status_code == 201, created.json()
    stream_id = created.json()["id"]

    run_token = CameraStream.objects.get(pk=stream_id).run_token
    layer = get_channel_layer()
    assert layer is not None
    live_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(site_group_name(site_a.pk), live_channel)

    def run() -> None:
        try:
            camera_stream_run(stream_id=stream_id, run_token=run_token)
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
        assert isinstance(listed, StreamingHttpResponse)
        listed_text = b"".join(cast(Iterator[bytes], listed.streaming_content)).decode()
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
        # Its once-a-second gauges reach the site's live channel directly; its change of
        # state is an event (whose delivery no worker runs here).
        gauges = _next_message(layer, live_channel, lambda message: message["type"] == "stream.status")
        assert gauges["data"]["stream"] == stream_id and "boxes" in gauges["data"]
        assert DomainEvent.objects.filter(type="stream.status_changed", payload__state="live").exists()

        stopped = admin_client.post(f"/api/streams/{stream_id}/stop/")
        runner.join(timeout=15)

        assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
        assert not runner.is_alive()
        assert CameraStream.objects.get(pk=stream_id).state == "stopped"
        assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")  # the files stay, finished

        deleted = admin_client.delete(f"/api/streams/{stream_id}/")

        assert deleted.status_code == 204
        assert not stream_output_dir(stream_id).exists()
    finally:
        CameraStream.objects.filter(pk=stream_id).delete()
        runner.join(timeout=15)


def test_a_restarted_stream_hands_over_and_the_old_pipeline_stops_itself(
    server,  # noqa: F811 (the fixture imported above)
    site_a,
    settings,
    tmp_path,
    queued_not_run,
):
    """The supervisor restarts a stream whose heartbeat looks stale: the old run, if it
    was alive after all, must stop on its own so two pipelines never share the files."""
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    CameraHostAllowance.objects.create(site=site_a, host="127.0.0.1")  # checked again at every connection
    stream = CameraStream.objects.create(
        site=site_a, name="Door", url_without_credentials=server.url, run_token="first-run", state="starting"
    )
    runner = threading.Thread(target=_run_in_thread, args=(stream.pk, "first-run"), daemon=True)
    runner.start()
    try:
        _wait_for(lambda: CameraStream.objects.get(pk=stream.pk).state == "live", 30, "the live state")

        restarted = camera_streams_supervise(now=timezone.now() + timedelta(minutes=5))
        runner.join(timeout=15)

        assert restarted == [stream.pk]
        assert not runner.is_alive(), "the old pipeline kept running after losing its lease"
        after = CameraStream.objects.get(pk=stream.pk)
        assert after.run_token not in ("", "first-run")
        # The old run's last words do not overwrite the new run's state.
        assert after.state == "starting"
    finally:
        CameraStream.objects.filter(pk=stream.pk).delete()
        runner.join(timeout=15)


def _run_in_thread(stream_id: int, run_token: str) -> None:
    try:
        camera_stream_run(stream_id=stream_id, run_token=run_token)
    finally:
        connections.close_all()


def test_a_full_disk_fails_the_stream_and_gives_its_lease_back(
    server,  # noqa: F811 (the fixture imported above)
    site_a,
    settings,
    tmp_path,
):
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    settings.STREAMS_MIN_FREE_DISK_MB = 2**40  # more than any disk has
    CameraHostAllowance.objects.create(site=site_a, host="127.0.0.1")
    stream = CameraStream.objects.create(
        site=site_a, name="Door", url_without_credentials=server.url, run_token="run", state="starting"
    )

    camera_stream_run(stream_id=stream.pk, run_token="run")  # returns: a failed output is final

    stream.refresh_from_db()
    assert stream.state == "failed"
    assert "free on the streams disk" in stream.last_error
    assert stream.run_token == ""  # the supervisor leaves it alone; an admin's start retries
    assert not list(stream_output_dir(stream.pk).glob("*.ts"))
