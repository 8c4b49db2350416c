"""The supervisor: streams whose heartbeat stopped are restarted, stopped ones left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streaming.models import CameraStream
from streaming.services import camera_stream_run, camera_streams_supervise, stream_output_dir

pytestmark = pytest.mark.django_db


def _stream(site, name, *, run_token, heartbeat_age_s, state="live"):
    return CameraStream.objects.create(
        site=site,
        name=name,
        url_without_credentials="rtsp://10.20.1.7/s",
        run_token=run_token,
        state=state,
        heartbeat_at=None if heartbeat_age_s is None else timezone.now() - timedelta(seconds=heartbeat_age_s),
    )


def test_only_running_streams_with_a_stale_heartbeat_are_restarted(
    site_a, settings, django_capture_on_commit_callbacks
):
    settings.STREAMS_HEARTBEAT_STALE_SECONDS = 30
    dead = _stream(site_a, "dead", run_token="old", heartbeat_age_s=120)
    never_picked_up = _stream(site_a, "queued", run_token="q", heartbeat_age_s=None, state="starting")
    healthy = _stream(site_a, "healthy", run_token="fine", heartbeat_age_s=2)
    stopped = _stream(site_a, "stopped", run_token="", heartbeat_age_s=3600, state="stopped")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        restarted = camera_streams_supervise()

    assert sorted(restarted) == sorted([dead.pk, never_picked_up.pk])
    assert len(queued) == 2  # one new run each, sent after commit
    for stream in (dead, never_picked_up):
        stream.refresh_from_db()
        assert stream.run_token not in ("", "old", "q") and stream.state == "starting"
        assert timezone.now() - stream.heartbeat_at < timedelta(seconds=5)  # a full period to be picked up
    assert CameraStream.objects.get(pk=healthy.pk).run_token == "fine"
    assert CameraStream.objects.get(pk=stopped.pk).run_token == ""


def test_a_run_whose_lease_is_gone_exits_without_opening_the_camera(site_a, settings, tmp_path):
    settings.STREAMS_ROOT = str(tmp_path)
    stream = _stream(site_a, "cam", run_token="current", heartbeat_age_s=1)

    camera_stream_run(stream_id=stream.pk, run_token="an-older-run")

    assert not stream_output_dir(stream.pk).exists()
    assert CameraStream.objects.get(pk=stream.pk).state == "live"  # untouched


def test_output_folders_of_deleted_streams_are_removed(site_a, settings, tmp_path):
    settings.STREAMS_ROOT = str(tmp_path)
    kept = _stream(site_a, "cam", run_token="", heartbeat_age_s=1, state="stopped")
    stream_output_dir(kept.pk).mkdir()
    (tmp_path / "999999").mkdir()
    (tmp_path / "999999" / "segment_000001.ts").write_bytes(b"x")
    (tmp_path / "notes").mkdir()  # not a stream folder: not ours to delete

    camera_streams_supervise()

    assert stream_output_dir(kept.pk).exists()
    assert not (tmp_path / "999999").exists()
    assert (tmp_path / "notes").exists()
