"""Live video in a real browser: headless Chromium plays a camera through the real pipeline.

The GStreamer RTSP test server serves the face clip; `run_stream` (in a thread of this
process) turns it into HLS under STREAMS_ROOT; a web server process with the same
STREAMS_ROOT serves the pages and the HLS files; Chromium logs in, sees the camera's tile
play on the dashboard, opens the player page and plays the stream with the vendored
hls.js: the video's currentTime advances, the live channel turns the state badge to
live, and no request leaves 127.0.0.1 (no CDN). Screenshots go to artifacts/.

Skips without Chromium, Playwright, PyAV or the RTSP server; with CI set it fails instead.
Detection is switched off and the output kept small: the machine has two cores, shared
by the camera server, the pipeline, the web server and Chromium.
"""

import threading
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import pytest

from accounts.models import Role
from accounts.services import user_create
from attendance_site.live.messages import StreamStatusPayload
from attendance_site.live.publisher import site_message_publish
from attendance_site.testing.browser import (  # noqa: F401 (fixtures)
    browser_requirements,
    log_in,
    page,
    screenshot,
    server_env,
    static_root,
)
from attendance_site.testing.web_server import web_serving
from streaming.models import CameraStream
from streaming.pipeline import PipelineOptions, StreamStatus, run_stream
from streaming.services import stream_output_dir
from streaming.tests.test_pipeline import (  # noqa: F401 (fixtures)
    LOOPBACK_CAMERA,
    looped_clip,
    needs_av,
    needs_rtsp_server,
    server,
)

try:
    from playwright.sync_api import expect
except ImportError:  # reported by the `browser_requirements` fixture
    # Left unset on purpose: the fixture skips (or in CI fails) before it is used.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME, PASSWORD = "camera-viewer", "pw-camera-viewer-1"
ADMIN_USERNAME, ADMIN_PASSWORD = "camera-admin", "pw-camera-admin-1"
VENDORED_HLS = Path("vendor") / "hls.js" / "hls.min.js"
PLAYING_TIMEOUT_MS = 45_000  # RTSP connect, the first 1 s segments, hls.js's 2 s retries while there are none
OPTIONS = PipelineOptions(
    max_width=640, max_height=360, max_fps=15, preset="ultrafast", detector=lambda rgb: [], status_interval_s=1.0
)


@pytest.fixture
def streams_root(tmp_path, settings) -> Path:
    """One folder for both sides: the pipeline here writes into it, the web server serves from it."""
    settings.STREAMS_ROOT = str(tmp_path / "streams")
    return Path(settings.STREAMS_ROOT)


@pytest.fixture
def web(server_env, static_root, streams_root, tmp_path, request):  # noqa: F811 (fixtures imported above)
    if not (static_root / VENDORED_HLS).is_file():
        pytest.fail(f"static/{VENDORED_HLS} is missing: run `python scripts/vendor_static.py` (make does)")
    with web_serving(
        env={**server_env, "STREAMS_ROOT": str(streams_root)}, log_path=tmp_path / "web.log", request=request
    ) as instance:
        yield instance


@pytest.fixture
def camera_viewer(site_a):
    return user_create(username=USERNAME, password=PASSWORD, role=Role.VIEWER, sites=[site_a])


@pytest.fixture
def camera_admin(db):
    return user_create(username=ADMIN_USERNAME, password=ADMIN_PASSWORD, role=Role.ADMIN, all_sites=True)


@pytest.fixture
def idle_cameras(site_a, site_b) -> tuple[CameraStream, CameraStream]:
    """A camera at each site, with no pipeline running: their playlists never appear."""
    site_a_camera, site_b_camera = (
        CameraStream.objects.create(site=site, name=f"Camera {site.name}", url_without_credentials="rtsp://10.9.9.9/s")
        for site in (site_a, site_b)
    )
    return site_a_camera, site_b_camera


@pytest.fixture
def live_stream(server, site_a, streams_root):  # noqa: F811 (`server`: the RTSP server imported above)
    """A registered camera whose pipeline runs in a thread, publishing its status like the worker does."""
    stream = CameraStream.objects.create(site=site_a, name="Lobby camera", url_without_credentials=server.url)
    stop = threading.Event()
    failures: list[BaseException] = []

    def on_status(status: StreamStatus) -> None:
        site_message_publish(
            site_id=site_a.pk,
            message_type="stream.status",
            data=cast(StreamStatusPayload, {"stream": stream.pk, **status.as_dict()}),
        )

    def run() -> None:
        try:
            run_stream(
                url=server.url,
                access=LOOPBACK_CAMERA,
                output_dir=stream_output_dir(stream.pk),
                options=OPTIONS,
                should_stop=stop.is_set,
                on_status=on_status,
            )
        except BaseException as error:
            failures.append(error)

    runner = threading.Thread(target=run, name="pipeline", daemon=True)
    runner.start()
    try:
        yield stream
    finally:
        stop.set()
        runner.join(timeout=20)
    assert not runner.is_alive(), "the pipeline did not stop"
    assert not failures, failures


def video_time(browser_page, selector: str) -> float:
    return browser_page.eval_on_selector(selector, "video => video.currentTime")


def wait_until_playing(browser_page, selector: str, seconds: float) -> None:
    browser_page.wait_for_function(
        "([selector, seconds]) => { const video = document.querySelector(selector);"
        " return video && !video.paused && video.currentTime > seconds; }",
        arg=[selector, seconds],
        timeout=PLAYING_TIMEOUT_MS,
    )


def non_local_requests(urls: list[str]) -> list[str]:
    """Every request to another host than 127.0.0.1; data: and the blob: of hls.js's worker are local."""
    outside = []
    for url in urls:
        if url.startswith("data:"):
            continue
        host = urlsplit(url.removeprefix("blob:")).hostname
        if host != "127.0.0.1":
            outside.append(url)
    return outside


def test_the_player_page_plays_the_live_stream_with_the_vendored_hls_js(
    live_stream,
    camera_viewer,
    web,
    page,  # noqa: F811 (`page`: the fixture imported above)
):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(page, web, USERNAME, PASSWORD)

    tile_video = f"#camera-tile-{live_stream.pk} video"
    wait_until_playing(page, tile_video, 0.5)
    screenshot(page, "dashboard-camera-tile")

    page.locator(f"#camera-tile-{live_stream.pk}").click()
    page.wait_for_url(f"{web.url}/streams/{live_stream.pk}/")
    wait_until_playing(page, "#stream-video", 1.0)
    first = video_time(page, "#stream-video")
    page.wait_for_timeout(2_500)
    later = video_time(page, "#stream-video")

    assert later - first > 1.0, f"currentTime went from {first:.2f} to {later:.2f} s in 2.5 s"
    expect(page.locator(".stream-state")).to_have_text("live")
    assert page.eval_on_selector("#stream-video", "video => video.videoWidth") > 0
    assert f"{web.url}/static/{VENDORED_HLS.as_posix()}" in requests
    assert any(url.endswith(".ts") for url in requests), "no HLS segment was fetched"
    assert non_local_requests(requests) == []
    screenshot(page, "stream-player")


def test_dashboard_tiles_follow_the_site_choice_and_wait_for_a_stream_not_yet_written(
    camera_admin,
    idle_cameras,
    web,
    page,  # noqa: F811 (`page`: the fixture imported above)
):
    camera_a, camera_b = idle_cameras
    tile_a, tile_b = page.locator(f"#camera-tile-{camera_a.pk}"), page.locator(f"#camera-tile-{camera_b.pk}")
    log_in(page, web, ADMIN_USERNAME, ADMIN_PASSWORD)
    page.select_option("#site", str(camera_a.site_id))

    expect(tile_a).to_be_visible()
    expect(tile_b).to_be_hidden()
    page.select_option("#site", str(camera_b.site_id))
    expect(tile_a).to_be_hidden()
    expect(tile_b).to_be_visible()
    # No pipeline writes these streams: the tile keeps asking for the playlist, quietly.
    assert tile_b.locator("video").evaluate("video => video.currentTime") == 0
    screenshot(page, "dashboard-camera-tiles-site-b")
