"""The camera pipeline against a real RTSP server (GStreamer) serving a real face video.

Needs Debian's /usr/bin/python3 with PyGObject and GstRtspServer (see
streaming/rtsp_test_server.py) and PyAV in the venv. Locally the tests skip without them;
with CI set they fail instead, so a broken CI image cannot pass silently.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from attendance_site.testing.processes import free_port
from streaming.camera_gateway import CameraAccess
from streaming.pipeline import PipelineOptions, StreamStatus, run_stream, validate_stream_url
from streaming.pipeline.drawing import drawable

REPO = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = REPO / "streaming" / "rtsp_test_server.py"
CLIP = REPO / "tests" / "data" / "video" / "short_hamilton_clip.mp4"
SYSTEM_PYTHON = "/usr/bin/python3"
GREEN_BGR = (0, 255, 0)
# The test servers listen on 127.0.0.1, which an admin would list exactly.
LOOPBACK_CAMERA = CameraAccess(allowances=("127.0.0.1",))


def _missing_av() -> str | None:
    try:
        import av  # noqa: F401
    except ImportError:
        return "PyAV (av) is not installed in the venv"
    return None


def _missing_rtsp_server() -> str | None:
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} is missing (the RTSP test server needs Debian's Python with PyGObject)"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
        "from gi.repository import Gst, GstRtspServer"
    )
    try:
        result = subprocess.run([SYSTEM_PYTHON, "-P", "-c", probe], capture_output=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{SYSTEM_PYTHON} cannot be probed: {error}"
    if result.returncode != 0:
        return (
            f"{SYSTEM_PYTHON} lacks gi/GstRtspServer (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0"
            " gstreamer1.0-rtsp gstreamer1.0-plugins-{base,good,bad,ugly})"
        )
    return None


def _skip_or_fail(missing: str | None) -> None:
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so this is an error rather than a skip: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def needs_av() -> None:
    _skip_or_fail(_missing_av())


@pytest.fixture(scope="module")
def needs_rtsp_server(needs_av: None) -> None:
    _skip_or_fail(_missing_rtsp_server())


class RtspServer:
    """The GStreamer test server as a child process, always stopped by pid."""

    def __init__(self, port: int, clip: Path | None):
        """Serves clip, or a live test pattern that never ends when clip is None."""
        self.port, self.clip = port, clip
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/test"

    def start(self, timeout: float = 20.0) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [SYSTEM_PYTHON, "-P", str(SERVER_SCRIPT), str(self.port), *([str(self.clip)] if self.clip else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                lines.append(line)
                if line.strip() == "READY":
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise AssertionError(f"RTSP test server not ready after {timeout} s: {''.join(lines)[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def looped_clip(needs_rtsp_server: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip's video track four times over (~37 s): the server's file mount does not loop."""
    import av

    target = tmp_path_factory.mktemp("clip") / "looped.mp4"
    with av.open(str(CLIP)) as source, av.open(str(target), mode="w") as sink:
        video_in = source.streams.video[0]
        video_out = sink.add_stream_from_template(video_in)
        packets = [packet for packet in source.demux(video_in) if packet.dts is not None]
        timed = [(p.pts, p.duration) for p in packets if p.pts is not None and p.duration is not None]
        assert len(timed) == len(packets)  # a clip's packets all carry their times
        span = max(pts + duration for pts, duration in timed) - min(pts for pts, _ in timed)
        for loop in range(4):
            for packet in packets:
                copy = av.Packet(bytes(packet))
                assert packet.pts is not None and packet.dts is not None
                copy.pts, copy.dts = packet.pts + loop * span, packet.dts + loop * span
                copy.duration, copy.is_keyframe = packet.duration, packet.is_keyframe
                copy.time_base, copy.stream = packet.time_base, video_out
                sink.mux(copy)
    return target


@pytest.fixture
def server(looped_clip: Path) -> Iterator[RtspServer]:
    instance = RtspServer(free_port(), looped_clip)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


class Recorder:
    def __init__(self) -> None:
        self.statuses: list[StreamStatus] = []
        self.lock = threading.Lock()

    def __call__(self, status: StreamStatus) -> None:
        with self.lock:
            # The pipeline mutates one status object: keep snapshots.
            self.statuses.append(StreamStatus(**{**status.__dict__, "boxes": list(status.boxes)}))

    def states(self) -> list[str]:
        with self.lock:
            return [status.state for status in self.statuses]


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _playlist_segments(playlist: Path) -> list[str]:
    if not playlist.exists():
        return []
    return [line for line in playlist.read_text().splitlines() if line.endswith(".ts")]


def _segment_number(name: str) -> int:
    return int(re.findall(r"\d+", name)[-1])


def _decode_segment(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(stream)]


def _green_mask(bgr: np.ndarray) -> np.ndarray:
    # Pure green after H.264 (4:2:0 chroma, quantisation) comes back only near (0, 255, 0).
    blue, green, red = (bgr[:, :, channel].astype(int) for channel in range(3))
    return (green >= 170) & (red <= 110) & (blue <= 110)


def _thumbnail(bgr: np.ndarray) -> np.ndarray:
    """A 1/8 grey copy for matching frames (the thin green outline barely moves it)."""
    grey = bgr.astype(np.float32).mean(axis=2)
    height, width = (grey.shape[0] // 8) * 8, (grey.shape[1] // 8) * 8
    return grey[:height, :width].reshape(height // 8, 8, width // 8, 8).mean(axis=(1, 3))


def _box_edges_green(mask: np.ndarray, top: int, right: int, bottom: int, left: int, slack: int = 8) -> float:
    """Share of points along the box outline that have a green pixel within `slack` px."""
    height, width = mask.shape
    hits = total = 0
    for x in np.linspace(left, right, 12).astype(int):
        for y in (top, bottom):
            window = mask[max(0, y - slack) : min(height, y + slack + 1), max(0, x - 1) : min(width, x + 2)]
            hits, total = hits + int(window.any()), total + 1
    for y in np.linspace(top, bottom, 12).astype(int):
        for x in (left, right):
            window = mask[max(0, y - 1) : min(height, y + 2), max(0, x - slack) : min(width, x + slack + 1)]
            hits, total = hits + int(window.any()), total + 1
    return hits / total


def test_stream_to_hls_with_face_boxes_and_reconnect(server: RtspServer, tmp_path: Path) -> None:
    from biometrics.face import faces_detect

    output_dir = tmp_path / "hls"
    playlist = output_dir / "index.m3u8"
    recorder = Recorder()
    stop = threading.Event()
    options = PipelineOptions(max_fps=30, box_colour_bgr=GREEN_BGR)
    thread = threading.Thread(
        target=run_stream,
        kwargs={
            "url": server.url,
            "access": LOOPBACK_CAMERA,
            "output_dir": output_dir,
            "options": options,
            "should_stop": stop.is_set,
            "on_status": recorder,
        },
        daemon=True,
    )
    thread.start()
    try:
        _wait_for(lambda: "live" in recorder.states(), 20, "the stream to go live")
        time.sleep(8)
        segments = _playlist_segments(playlist)
        assert len(segments) >= 3, playlist.read_text()
        assert "#EXT-X-DISCONTINUITY" not in playlist.read_text()
        assert any(status.boxes for status in recorder.statuses), "no face was ever reported"
        live = [status for status in recorder.statuses if status.state == "live"]
        assert live[-1].output_fps > 0 and live[-1].input_fps > 0

        # Every listed segment is H.264 that decodes; boxes are drawn on the faces.
        frames: list[np.ndarray] = []
        for name in segments:
            decoded = _decode_segment(output_dir / name)
            assert decoded, f"{name} holds no frame"
            frames.extend(decoded)
        # Each green outline drawn by the pipeline must sit around a face in the matching
        # *input* frame (found by pixel similarity, outline pixels left out): detection runs
        # on that clean frame, and those outline pixels are not green in the input.
        source_frames = _decode_segment(CLIP)
        source_small = np.stack([_thumbnail(bgr) for bgr in source_frames])
        outlined = boxed = 0
        for bgr in frames[::6]:
            mask = _green_mask(bgr)
            ys, xs = np.nonzero(mask)
            if len(ys) < 100:
                continue
            top, right, bottom, left = int(ys.min()), int(xs.max()), int(ys.max()), int(xs.min())
            if _box_edges_green(mask, top, right, bottom, left, slack=3) < 0.9:
                continue  # two boxes in one frame: their union is no outline; skip the frame
            outlined += 1
            distance = np.abs(source_small - _thumbnail(bgr)[None]).mean(axis=(1, 2))
            source = source_frames[int(distance.argmin())]
            assert _green_mask(source)[mask].mean() < 0.05, "the input is green where the box is drawn"
            faces = faces_detect(np.ascontiguousarray(source[:, :, ::-1]))
            centres = [((face.left + face.right) / 2, (face.top + face.bottom) / 2) for face in faces]
            if any(left < cx < right and top < cy < bottom for cx, cy in centres):
                boxed += 1
        assert outlined >= 3, "no green face outline in the output"
        assert boxed >= 0.8 * outlined, f"only {boxed} of {outlined} green outlines surround a face"
        assert max(_green_mask(bgr).mean() for bgr in source_frames[::10]) < 0.0005

        # The camera goes away and comes back on the same address.
        last_before = max(_segment_number(name) for name in _playlist_segments(playlist))
        server.stop()
        _wait_for(lambda: "reconnecting" in recorder.states(), 25, "the 'reconnecting' status")
        reconnecting = next(status for status in recorder.statuses if status.state == "reconnecting")
        assert reconnecting.last_error
        server.start()
        first_reconnect = recorder.states().index("reconnecting")
        _wait_for(lambda: "live" in recorder.states()[first_reconnect:], 40, "'live' after reconnecting")
        _wait_for(
            lambda: (
                "#EXT-X-DISCONTINUITY" in playlist.read_text()
                and max(_segment_number(name) for name in _playlist_segments(playlist)) >= last_before + 3
            ),
            20,
            "new segments after a discontinuity",
        )
        for name in _playlist_segments(playlist)[-2:]:
            assert _decode_segment(output_dir / name)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive(), "run_stream did not stop"
    assert recorder.states()[-1] == "stopped"
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")


def test_stalled_server_is_detected_and_gives_up_after_max_reconnects(needs_av: None, tmp_path: Path) -> None:
    # Accepts TCP (the kernel completes the handshake for the backlog) and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        recorder = Recorder()
        options = PipelineOptions(open_timeout_s=2, stall_timeout_s=2, backoff_initial_s=0.5, max_reconnects=1)
        thread = threading.Thread(
            target=run_stream,
            kwargs={
                "url": f"rtsp://127.0.0.1:{port}/test",
                "access": LOOPBACK_CAMERA,
                "output_dir": tmp_path / "hls",
                "options": options,
                "should_stop": lambda: False,
                "on_status": recorder,
            },
            daemon=True,
        )
        started = time.monotonic()
        thread.start()
        thread.join(timeout=30)
    assert not thread.is_alive(), "a silent server hung the pipeline"
    assert time.monotonic() - started < 20
    assert recorder.states() == ["starting", "reconnecting", "failed"]
    assert recorder.statuses[-1].last_error


def test_camera_credentials_never_reach_the_error_or_the_log(
    needs_av: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens: FFmpeg's error quotes the URL it failed on
    recorder = Recorder()

    run_stream(
        url=f"rtsp://door:s3cret-pw@127.0.0.1:{port}/test",
        access=LOOPBACK_CAMERA,
        output_dir=tmp_path / "hls",
        options=PipelineOptions(max_reconnects=0),
        should_stop=lambda: False,
        on_status=recorder,
    )

    assert recorder.states()[-1] == "failed"
    errors = [status.last_error for status in recorder.statuses]
    assert any("***@127.0.0.1" in error for error in errors)  # still says where it failed
    assert not any("s3cret-pw" in error for error in errors)
    assert "s3cret-pw" not in caplog.text


def test_stop_while_waiting_to_reconnect(needs_av: None, tmp_path: Path) -> None:
    port = free_port()  # nothing listens: connection refused at once
    recorder = Recorder()
    stop = threading.Event()
    thread = threading.Thread(
        target=run_stream,
        kwargs={
            "url": f"rtsp://127.0.0.1:{port}/test",
            "access": LOOPBACK_CAMERA,
            "output_dir": tmp_path / "hls",
            "options": PipelineOptions(backoff_initial_s=30),
            "should_stop": stop.is_set,
            "on_status": recorder,
        },
        daemon=True,
    )
    thread.start()
    _wait_for(lambda: "reconnecting" in recorder.states(), 15, "'reconnecting'")
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert recorder.states()[-1] == "stopped"


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://camera.local/stream1",
        "rtsps://10.0.0.5:322/live",
        "rtsp://user:p%40ss@192.168.1.20:554/Streaming/Channels/101?transportmode=unicast",
        "rtsp://[fe80::1]:554/x",
        "rtsp://169.254.169.254/",  # syntactically fine: blocking addresses is the allowlist's job
    ],
)
def test_validate_stream_url_accepts_plain_rtsp(url: str) -> None:
    assert validate_stream_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "file:///etc/passwd",
        "concat:a|b",
        "http://x/playlist.m3u8",
        "https://x/stream",
        "data:text/plain,hello",
        "pipe:0",
        "/dev/video0",
        "rtsp:///path-without-host",
        "rtsp://",
        "rtsp://host/;rm -rf /",
        "rtsp://host/$(reboot)",
        "rtsp://host/`reboot`",
        "rtsp://host /x",
        " rtsp://host/x",
        "rtsp://host/x\n",
        "rtsp://host/x|tee",
        "rtsp://a@b@evil/x",
        "rtsp://camera/x@evil.example/",
        "rtsp://host:notaport/x",
        "rtsp://host:99999/x",
        "rtsp://ho%73t/x",
        "rtsp://host/x'quoted'",
        'rtsp://host/x"',
        "rtsp://host/<x>",
        "rtmp://host/live",
    ],
)
def test_validate_stream_url_refuses_hostile_input(url: str) -> None:
    with pytest.raises(ValueError):
        validate_stream_url(url)


@pytest.mark.parametrize(
    ("name", "drawn"),
    [("Lin-Manuel Miranda", "Lin-Manuel Miranda"), ("José Müller", "Jose Muller"), ("Zoë Ørsted", "Zoe ?rsted")],
)
def test_names_are_drawn_in_the_ascii_the_box_font_has(name: str, drawn: str) -> None:
    assert drawable(name) == drawn
