"""The supervisor (streams whose heartbeat stopped are restarted, stopped ones left alone) and the limit."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone

from attendance_site.events.models import DomainEvent
from streaming.models import CameraHostAllowance, CameraStream
from streaming.services import camera_stream_create, camera_stream_run, camera_streams_supervise, stream_output_dir

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
    # One new run each, sent after commit, and the delivery of the one change of state
    # (the dead stream was live; the queued one was starting already).
    assert len(queued) == 3
    assert list(DomainEvent.objects.values_list("type", "payload__stream_id", "payload__state")) == [
        ("stream.status_changed", dead.pk, "starting")
    ]
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


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_cannot_both_pass_the_limit(admin_user, site_a, settings, tmp_path, queued_not_run):
    """The second start waits for the first one's transaction, then counts its stream."""
    settings.STREAMS_MAX_CONCURRENT = 1
    settings.STREAMS_ROOT = str(tmp_path)
    CameraHostAllowance.objects.create(site=site_a, host="10.20.0.0/16")
    first_inserted, release = threading.Event(), threading.Event()
    outcome = {}

    def create(name: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                camera_stream_create(actor=admin_user, site=site_a, name=name, url="rtsp://10.20.1.7/s", options={})
                if hold:
                    first_inserted.set()
                    release.wait(10)
            outcome[name] = "created"
        except ValidationError as error:
            outcome[name] = error.code or "refused"
        finally:
            connections.close_all()

    first = threading.Thread(target=create, args=("first", True))
    first.start()
    assert first_inserted.wait(10)
    second = threading.Thread(target=create, args=("second", False))
    second.start()
    second.join(timeout=1.0)
    waited = second.is_alive()  # blocked behind the first start's transaction
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert waited
    assert outcome == {"first": "created", "second": "stream_limit"}
    assert list(CameraStream.objects.values_list("name", flat=True)) == ["first"]
