"""Camera stream pipeline: RTSP in, face boxes drawn, HLS out, in one process.

PyAV (FFmpeg in a wheel, with libx264 and the HLS muxer) does the whole job in-process:
no system FFmpeg, no subprocess to supervise. One call of :func:`run_stream` runs one
camera until ``should_stop()`` says so, reconnecting on its own when the camera goes away.

- Input: RTSP only. The format is pinned to ``rtsp`` and ``protocol_whitelist`` is set,
  because FFmpeg otherwise opens anything it knows (``file:``, ``concat:``, ``http:``...)
  from a user-supplied string; :func:`validate_stream_url` refuses such strings earlier.
  TCP interleaved transport: no UDP ports to open through NATs and firewalls, no losses.
  FFmpeg never sees the camera's address: it connects to a
  :class:`~streaming.camera_gateway.CameraGateway` on 127.0.0.1, which checks every
  address against the allowlist at connect time, verifies TLS and refuses redirects.
  A refusal fails the stream (reconnecting would be refused again) with the reason.
- Detection: ``biometrics.face.faces_detect`` on every k-th frame, boxes reused in between.
  k starts at ``detect_every`` and grows (up to ``detect_every_max``) while processing is
  slower than the stream, shrinks again when there is room: a live source never waits for
  us, so falling behind would only grow the delay until the camera's buffer overflows.
- Output: libx264 (zerolatency, GOP = fps, scene-cut off, so every 1 s segment starts with
  an I-frame) muxed as HLS in ``output_dir/index.m3u8``; a rolling window of 6 segments,
  old segments deleted. Resolution and fps are capped (aspect preserved, frames dropped).
- Input loss (error, end of stream, stalled server that accepts TCP and sends nothing,
  no frame for ``stall_timeout_s``): status ``reconnecting``, exponential backoff 1, 2, 4...
  30 s. The HLS output is closed *without* ``#EXT-X-ENDLIST`` (players keep polling) and
  reopened with ``append_list``: new segments continue the same playlist after an
  ``#EXT-X-DISCONTINUITY``, which tells players the timestamps restart.
- Audio is dropped (not even requested from the camera, ``allowed_media_types=video``):
  door cameras and kiosks rarely carry useful audio, nobody listens to an attendance
  feed, and audio would double the work (second encoder, A/V sync across reconnects).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import numpy as np

from biometrics.face import FaceBox
from streaming.camera_gateway import CameraAccess, CameraGateway, CameraRefused, CameraTarget

logger = logging.getLogger(__name__)

StreamState = Literal["starting", "live", "reconnecting", "stopped", "failed"]
PLAYLIST_NAME = "index.m3u8"
SEGMENT_PATTERN = "segment_%06d.ts"


@dataclass(frozen=True)
class PipelineOptions:
    max_width: int = 1280
    max_height: int = 720
    max_fps: float = 25.0
    # Detection cadence: every k-th frame, k adapted between these two bounds. Every 5th
    # frame of 25 fps is 5 detections a second: boxes follow a walking person closely
    # enough, at a fifth of the cost of detecting on every frame.
    detect_every: int = 5
    detect_every_max: int = 15
    preset: str = "veryfast"  # "ultrafast" halves the CPU at a higher bitrate
    crf: int = 23
    # Bitrate ceiling (x264 VBV), which also bounds the disk each stream uses; None:
    # 3 Mbit/s at 1280x720, scaled by pixel count.
    max_bitrate_kbps: int | None = None
    min_free_disk_bytes: int = 0  # the output fails (not the camera) below this
    box_colour_bgr: tuple[int, int, int] = (0, 255, 0)
    box_thickness: int = 3  # >= 3 px so the colour survives 4:2:0 chroma subsampling
    open_timeout_s: float = 10.0
    stall_timeout_s: float = 10.0  # no decoded frame for this long = input lost
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    max_reconnects: int | None = None  # None: retry for ever (cameras reboot, networks flap)
    status_interval_s: float = 1.0
    hls_time_s: int = 1
    hls_list_size: int = 6
    # Injected in tests or for another detector; default biometrics.face.faces_detect.
    # It gets the frame's luma plane (a grayscale picture): HOG needs no colour, and
    # skipping the colour conversion (3.5 ms a 720p frame, half of what encoding costs) matters.
    detector: Callable[[np.ndarray], list[FaceBox]] | None = None
    # Names for the boxes (and attendance, in the streaming service): given the RGB frame
    # and its boxes, one label or None per box. Called at most every identify_interval_s;
    # boxes in between keep the label of the box they overlap.
    identify: Callable[[np.ndarray, list[FaceBox]], list[str | None]] | None = None
    identify_interval_s: float = 1.0


@dataclass(frozen=True)
class TimedBox:
    """A face box in output-frame pixels, and the stream time (s) of the frame it was found in."""

    top: int
    right: int
    bottom: int
    left: int
    frame_time: float
    label: str | None = None


@dataclass
class StreamStatus:
    state: StreamState
    input_fps: float = 0.0
    output_fps: float = 0.0
    # Processing latency: from a frame's packet being read to the frame being encoded
    # (decoder delay, detection, drawing, encoding), plus any backlog behind the live input
    # (wall clock vs stream clock since the first frame of this connection). Camera-side
    # and network delay, segment length and the player's buffer are not included.
    latency_ms: float = 0.0
    last_error: str = ""
    boxes: list[TimedBox] = field(default_factory=list)
    detect_every: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


class InputLost(Exception):
    """The camera stopped delivering frames; the pipeline reconnects."""


class OutputFailed(Exception):
    """The HLS side failed (disk, encoder): not something reconnecting the camera fixes."""


# --------------------------------------------------------------------------- URL check

_ALLOWED_SCHEMES = {"rtsp", "rtsps"}
# RFC 3986 characters only, minus the ones shells and FFmpeg give meaning to: no spaces,
# quotes, ; | & $ ` ( ) < > \ { } ^ or control characters.
_SAFE_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!%+=,*]+")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
MAX_URL_LENGTH = 2048


def validate_stream_url(url: str) -> str:
    """The URL unchanged if it is a plain rtsp:// or rtsps:// URL with a host, else ValueError.

    Purely syntactic: no DNS, no connection. Which hosts are allowed (private ranges,
    metadata addresses) is an allowlist question answered elsewhere.
    """
    if not isinstance(url, str) or not url:
        raise ValueError("The stream URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"The stream URL is longer than {MAX_URL_LENGTH} characters.")
    if url != url.strip() or not _SAFE_URL.fullmatch(url):
        raise ValueError(
            "The stream URL contains characters that are not allowed (spaces, quotes, ; | & $ ` ( ) < > \\ ...)."
        )
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme.lower() not in _ALLOWED_SCHEMES:
        raise ValueError("Only rtsp:// and rtsps:// stream URLs are accepted.")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        # urllib's message quotes the port, which is the password when the host was left
        # out (rtsp://user:password/path): neither the error nor its context repeats the URL.
        raise ValueError("The stream URL is malformed: its host or port cannot be read.") from None
    netloc = parts.netloc
    if netloc.count("@") > 1:
        raise ValueError("The stream URL may hold one user:password@ part at most.")
    hostport = netloc.rpartition("@")[2]
    host = parts.hostname or ""
    if not host or not (_HOST.fullmatch(hostport.rsplit(":", 1)[0] if port is not None else hostport)):
        raise ValueError("The stream URL needs a host name or IP address.")
    if port == 0:
        raise ValueError("The stream URL has port 0.")
    if "@" in parts.path or "@" in parts.query or "@" in parts.fragment:
        # rtsp://camera/x@evil: FFmpeg's own URL split can disagree with urllib's.
        raise ValueError("'@' is only allowed in the user:password@ part of the stream URL.")
    if "%" in netloc.rpartition("@")[2]:
        raise ValueError("The stream URL host may not be percent-encoded.")
    return url


# --------------------------------------------------------------------------- helpers


_URL_CREDENTIALS = re.compile(r"(rtsps?://)[^/@\s'\"]*@", re.IGNORECASE)


def redact(message: str) -> str:
    """The message with any user:password@ of a camera URL masked: FFmpeg's errors quote
    the URL they failed on, and these messages reach logs and the API's last_error."""
    return _URL_CREDENTIALS.sub(r"\1***@", message)


def output_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Largest size within the caps with the input's aspect ratio; even, as yuv420p needs."""
    scale = min(1.0, max_width / width, max_height / height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _default_detector(rgb: np.ndarray) -> list[FaceBox]:
    from biometrics.face import faces_detect  # dlib import is heavy: only when first needed

    return faces_detect(rgb)


def _report(on_status: Callable[[StreamStatus], None], status: StreamStatus) -> None:
    # A failing status callback (a database hiccup) must not take the camera down.
    try:
        on_status(status)
    except Exception:
        logger.exception("stream status callback failed")


def _sleep_unless_stopped(seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Sleep in short steps; True if asked to stop meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if should_stop():
            return True
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    return should_stop()


class _HlsOutput:
    """libx264 + HLS muxer for one input connection; the playlist outlives it."""

    def __init__(self, output_dir: Path, width: int, height: int, fps: int, options: PipelineOptions):
        import av

        playlist = output_dir / PLAYLIST_NAME
        # omit_endlist: the playlist must stay "live" while we reconnect, or players stop for
        # good; temp_file: readers never see a half-written playlist or segment.
        flags = ["delete_segments", "independent_segments", "omit_endlist", "temp_file"]
        if playlist.exists():
            # Continue the playlist (numbering, window) after a reconnect or a restart;
            # append_list marks the first new segment with #EXT-X-DISCONTINUITY.
            flags += ["append_list", "discont_start"]
        _sweep_orphan_segments(output_dir, options)
        self.fps = fps
        self.frames = 0
        self.last_pts = -1
        self.container = av.open(
            str(playlist),
            mode="w",
            format="hls",
            options={
                "hls_time": str(options.hls_time_s),
                "hls_list_size": str(options.hls_list_size),
                "hls_flags": "+".join(flags),
                "hls_segment_filename": str(output_dir / SEGMENT_PATTERN),
            },
        )
        self.stream = self.container.add_stream("libx264", rate=fps)
        self.stream.width = width
        self.stream.height = height
        self.stream.pix_fmt = "yuv420p"
        self.stream.codec_context.time_base = Fraction(1, fps)
        self.stream.codec_context.gop_size = fps
        kbps = max_bitrate_kbps(width, height, options)
        self.stream.codec_context.options = {
            "preset": options.preset,
            "tune": "zerolatency",
            "crf": str(options.crf),
            # A key frame every second exactly, none extra: segments cut at 1 s. The VBV
            # ceiling keeps a busy scene from blowing up segment sizes (and the disk).
            "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:vbv-maxrate={kbps}:vbv-bufsize={kbps}",
        }

    def write(self, yuv: np.ndarray, pts: int) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = pts
        frame.time_base = Fraction(1, self.fps)  # the encoder's time_base is None until opened
        self.container.mux(self.stream.encode(frame))
        self.frames += 1
        self.last_pts = pts

    def close(self) -> None:
        try:
            if self.frames:
                self.container.mux(self.stream.encode(None))  # flush buffered frames
        finally:
            self.container.close()


def max_bitrate_kbps(width: int, height: int, options: PipelineOptions) -> int:
    if options.max_bitrate_kbps is not None:
        return options.max_bitrate_kbps
    return max(300, round(3000 * width * height / (1280 * 720)))


class _Painter:
    """Draws boxes and labels straight into a yuv420p frame (no colour conversion)."""

    def __init__(self, width: int, height: int, options: PipelineOptions):
        import cv2

        self.width, self.height = width, height
        self.thickness = options.box_thickness
        pixel = np.full((2, 2, 3), options.box_colour_bgr, dtype=np.uint8)
        i420 = cv2.cvtColor(pixel, cv2.COLOR_BGR2YUV_I420)  # rows: Y, Y, then U and V
        self.colour = (int(i420[0, 0]), int(i420[2, 0]), int(i420[2, 1]))

    def planes(self, yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of the Y, U and V planes of a (height * 3/2, width) yuv420p array."""
        flat = yuv.reshape(-1)
        luma = self.width * self.height
        chroma = luma // 4
        half = (self.height // 2, self.width // 2)
        return (
            flat[:luma].reshape(self.height, self.width),
            flat[luma : luma + chroma].reshape(half),
            flat[luma + chroma : luma + 2 * chroma].reshape(half),
        )

    def draw(self, yuv: np.ndarray, box: FaceBox, label: str | None) -> None:
        import cv2

        y_plane, u_plane, v_plane = self.planes(yuv)
        y_value, u_value, v_value = self.colour
        chroma_thickness = max(1, self.thickness // 2)
        cv2.rectangle(y_plane, (box.left, box.top), (box.right, box.bottom), y_value, self.thickness)
        for plane, value in ((u_plane, u_value), (v_plane, v_value)):
            cv2.rectangle(
                plane, (box.left // 2, box.top // 2), (box.right // 2, box.bottom // 2), value, chroma_thickness
            )
        if not label:
            return
        # A filled tag in the box colour above the box, the name in black on it.
        label = _drawable(label)
        font, scale, weight = cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2
        (text_width, text_height), baseline = cv2.getTextSize(label, font, scale, weight)
        tag_bottom = box.top if box.top > text_height + baseline + 6 else box.bottom + text_height + baseline + 6
        tag_top = tag_bottom - text_height - baseline - 6
        tag_right = min(self.width - 1, box.left + text_width + 8)
        cv2.rectangle(y_plane, (box.left, tag_top), (tag_right, tag_bottom), y_value, cv2.FILLED)
        for plane, value in ((u_plane, u_value), (v_plane, v_value)):
            cv2.rectangle(plane, (box.left // 2, tag_top // 2), (tag_right // 2, tag_bottom // 2), value, cv2.FILLED)
        cv2.putText(y_plane, label, (box.left + 4, tag_bottom - baseline - 3), font, scale, 16, weight, cv2.LINE_AA)


def _drawable(label: str) -> str:
    """The label in the ASCII that OpenCV's Hershey fonts draw: "José Müller" -> "Jose Muller"
    (accents dropped rather than every such letter drawn as "?")."""
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(char if char.isascii() else "?" for char in decomposed if not unicodedata.combining(char))


def _overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height
    return intersection / (a.area + b.area - intersection)


def labels_carry(boxes: list[FaceBox], previous: list[FaceBox], labels: list[str | None]) -> list[str | None]:
    """A label for each new box: that of the previous box it overlaps most (IoU >= 0.3)."""
    carried: list[str | None] = []
    for box in boxes:
        scores = [_overlap(box, old) for old in previous]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        carried.append(labels[best] if best is not None and scores[best] >= 0.3 else None)
    return carried


def _sweep_orphan_segments(output_dir: Path, options: PipelineOptions) -> None:
    """Delete old segments the playlist no longer lists.

    delete_segments only knows the segments of the current muxer: each reconnect would
    otherwise leave one or two files behind for ever. Recent files are kept, as a player
    may still be fetching a segment that just left the window.
    """
    playlist = output_dir / PLAYLIST_NAME
    listed = set(playlist.read_text().split()) if playlist.exists() else set()
    horizon = time.time() - 2 * options.hls_list_size * options.hls_time_s - 10
    for segment in output_dir.glob("segment_*.ts"):
        try:
            if segment.name not in listed and segment.stat().st_mtime < horizon:
                segment.unlink()
        except OSError:
            pass  # already gone, or not ours to delete


def _append_endlist(output_dir: Path) -> None:
    """Mark the playlist finished after a clean stop (omit_endlist kept it open until now)."""
    playlist = output_dir / PLAYLIST_NAME
    if not playlist.exists():
        return
    text = playlist.read_text()
    if "#EXT-X-ENDLIST" not in text:
        temporary = playlist.with_name(f".{playlist.name}.endlist")  # not the muxer's own .tmp name
        temporary.write_text(text.rstrip("\n") + "\n#EXT-X-ENDLIST\n")
        temporary.replace(playlist)  # atomic: players read the old or the new file


# --------------------------------------------------------------------------- the loop


class _Session:
    """One connection to the camera: decode, detect, draw, encode until it ends."""

    def __init__(
        self,
        *,
        url: str,
        access: CameraAccess,
        output_dir: Path,
        options: PipelineOptions,
        should_stop: Callable[[], bool],
        on_status: Callable[[StreamStatus], None],
        status: StreamStatus,
    ):
        self.url = url
        self.access = access
        self.output_dir = output_dir
        self.options = options
        self.should_stop = should_stop
        self.on_status = on_status
        self.status = status
        self.detect = options.detector or _default_detector
        self.got_frames = False

    def run(self) -> bool:
        """Stream until stop (returns True), input loss (InputLost) or a refusal (CameraRefused)."""
        target = CameraTarget.from_url(self.url)
        with CameraGateway(target=target, access=self.access, connect_timeout_s=self.options.open_timeout_s) as gateway:
            try:
                return self._run_through(gateway)
            except InputLost as error:
                # The gateway closed FFmpeg's connection: its reason, not FFmpeg's EOF.
                if gateway.refusal is not None:
                    raise CameraRefused(f"blocked: {gateway.refusal}") from error
                if gateway.failure is not None:
                    raise InputLost(redact(f"cannot open {self.url}: {gateway.failure}")) from error
                raise

    def _run_through(self, gateway: CameraGateway) -> bool:
        import av

        options = self.options

        def described(message: str) -> str:
            # FFmpeg's errors quote the URL it opened: show the camera's, credentials masked.
            return redact(message.replace(gateway.url, self.url).replace(f"127.0.0.1:{gateway.port}", "camera"))

        try:
            container = av.open(
                gateway.url,
                format="rtsp",  # never let FFmpeg guess the protocol from the string
                options={
                    "rtsp_transport": "tcp",
                    # Socket timeout in microseconds (FFmpeg >= 5; the old "stimeout" is ignored).
                    "timeout": str(int(options.stall_timeout_s * 1_000_000)),
                    # Plain TCP to the gateway only: no tls (the gateway speaks it), no
                    # udp/rtp (every packet comes interleaved over the one connection).
                    "protocol_whitelist": "rtsp,tcp",
                    "allowed_media_types": "video",  # audio is dropped: see module docstring
                },
                # PyAV's own interrupt timeouts (open, each read): bound every blocking call.
                timeout=(options.open_timeout_s, options.stall_timeout_s),
            )
        except av.FFmpegError as error:
            raise InputLost(described(f"cannot open the stream: {error}"))
        output: _HlsOutput | None = None
        try:
            if not container.streams.video:
                raise InputLost("the stream has no video track")
            video = container.streams.video[0]
            video.thread_type = "AUTO"
            output = self._loop(container, video)
            return True
        except av.FFmpegError as error:
            raise InputLost(described(f"stream read failed: {error}"))
        finally:
            try:
                if output is not None:
                    output.close()
            finally:
                container.close()

    def _loop(self, container, video) -> _HlsOutput | None:
        options = self.options
        rate = video.average_rate or video.guessed_rate or Fraction(25)
        input_fps = float(rate)
        out_fps = max(1, round(min(input_fps, options.max_fps)))
        interval = 1.0 / out_fps

        output: _HlsOutput | None = None
        painter: _Painter | None = None
        detect_every = max(1, options.detect_every)
        boxes: list[FaceBox] = []
        labels: list[str | None] = []
        boxes_time = 0.0
        next_identify = 0.0
        frame_index = 0
        cost_ema = 0.0
        next_adapt = 0
        anchor: tuple[float, int] | None = None  # (stream time, pts) to rebase timestamps
        last_time = 0.0
        wall_start = stream_start = None
        last_frame_wall = time.monotonic()
        arrivals: dict[int, float] = {}  # packet pts -> when it was read
        frame_delay_ema = 0.0
        window_start = time.monotonic()
        window_in = window_out = 0
        last_report = 0.0
        out_w = out_h = 0

        try:
            for packet in container.demux(video):
                now = time.monotonic()
                if self.should_stop():
                    return output
                if now - last_frame_wall > options.stall_timeout_s:
                    # Packets without pictures (or a trickle of garbage) count as a stall too.
                    raise InputLost(f"no frame for {options.stall_timeout_s:.0f} s")
                if packet.dts is None and packet.size == 0:
                    # The demuxer's end-of-stream flush packet: the camera hung up.
                    continue
                if packet.pts is not None:
                    if len(arrivals) > 256:  # pts the decoder never returned (dropped frames)
                        arrivals.clear()
                    arrivals[packet.pts] = now
                for frame in packet.decode():
                    start = time.monotonic()
                    arrived = arrivals.pop(frame.pts, start)
                    last_frame_wall = start
                    window_in += 1
                    t = frame.time if frame.time is not None else last_time + 1.0 / input_fps
                    if output is None:
                        out_w, out_h = output_size(frame.width, frame.height, options.max_width, options.max_height)
                        _disk_check(self.output_dir, options)
                        try:
                            output = _HlsOutput(self.output_dir, out_w, out_h, out_fps, options)
                        except Exception as error:
                            raise OutputFailed(f"cannot start the HLS output: {error}")
                        painter = _Painter(out_w, out_h, options)
                        wall_start, stream_start = start, t
                    # Output pts from the stream clock (keeps real timing with a jittery or
                    # variable-rate source); a jump back or far forward (RTP wrap, camera
                    # reset) re-anchors. pts not advancing = above the fps cap: drop.
                    if anchor is None or t < last_time - 0.5 or t > last_time + 5.0:
                        anchor = (t, output.last_pts + 1)
                        stream_start, wall_start = t, start
                    last_time = t
                    pts = anchor[1] + round((t - anchor[0]) * out_fps)
                    if pts <= output.last_pts:
                        continue

                    if frame.format.name != "yuv420p" or frame.width != out_w or frame.height != out_h:
                        frame = frame.reformat(width=out_w, height=out_h, format="yuv420p")
                    yuv = frame.to_ndarray()  # (height * 3/2, width): Y, then U and V
                    if frame_index % detect_every == 0:
                        found = self.detect(painter.planes(yuv)[0])
                        labels = labels_carry(found, boxes, labels)
                        boxes, boxes_time = found, t
                        if options.identify is not None and found and start >= next_identify:
                            labels = self._identify(yuv, found, labels)
                            next_identify = start + options.identify_interval_s
                    frame_index += 1
                    for box, label in zip(boxes, labels, strict=True):
                        painter.draw(yuv, box, label)
                    try:
                        output.write(yuv, pts)
                    except Exception as error:
                        raise OutputFailed(f"HLS output failed: {error}")
                    window_out += 1
                    if not self.got_frames:
                        self.got_frames = True
                        self.status.state = "live"
                        self.status.last_error = ""
                        last_report = 0.0  # report "live" at once

                    # Adapt k: amortised per-frame cost against the frame interval, or a
                    # growing backlog behind the live stream (latency).
                    end = time.monotonic()
                    cost_ema = 0.9 * cost_ema + 0.1 * (end - start) if cost_ema else end - start
                    latency = (end - wall_start) - (t - stream_start)
                    frame_delay = end - arrived
                    frame_delay_ema = 0.9 * frame_delay_ema + 0.1 * frame_delay if frame_delay_ema else frame_delay
                    if frame_index >= next_adapt:
                        if (cost_ema > 0.8 * interval or latency > 1.0) and detect_every < options.detect_every_max:
                            detect_every += 1
                            next_adapt = frame_index + 2 * detect_every
                        elif cost_ema < 0.4 * interval and latency < 0.5 and detect_every > options.detect_every:
                            detect_every -= 1
                            next_adapt = frame_index + 2 * detect_every

                    if end - last_report >= options.status_interval_s:
                        elapsed = max(1e-6, end - window_start)
                        if window_in >= 2 or last_report == 0.0:
                            self.status.input_fps = round(window_in / elapsed, 2) if last_report else input_fps
                            self.status.output_fps = round(window_out / elapsed, 2) if last_report else out_fps
                        self.status.latency_ms = round((max(0.0, latency) + frame_delay_ema) * 1000.0, 1)
                        self.status.detect_every = detect_every
                        self.status.boxes = [
                            TimedBox(b.top, b.right, b.bottom, b.left, round(boxes_time, 3), label)
                            for b, label in zip(boxes, labels, strict=True)
                        ]
                        _report(self.on_status, self.status)
                        _disk_check(self.output_dir, options)
                        last_report = end
                        window_start, window_in, window_out = end, 0, 0
        except BaseException:
            # The caller never sees this output: close it here (flushes the last segment).
            if output is not None:
                output.close()
            raise
        if self.should_stop():
            return output
        # The demuxer ran dry: the server ended the stream (clip over, camera going away).
        if output is not None:
            output.close()
        raise InputLost("the stream ended")

    def _identify(self, yuv: np.ndarray, boxes: list[FaceBox], labels: list[str | None]) -> list[str | None]:
        """Labels from the identify callback, keeping a tracked box's name where this frame
        alone is not enough (a face turned away, motion blur); the carried ones if it fails."""
        import cv2

        rgb = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
        try:
            found = list(self.options.identify(rgb, boxes))
        except Exception:
            # Recognition trouble (a database hiccup) must not take the camera down.
            logger.exception("stream face identification failed")
            return labels
        if len(found) != len(boxes):
            return labels
        return [new or carried for new, carried in zip(found, labels, strict=True)]


def _disk_check(output_dir: Path, options: PipelineOptions) -> None:
    if options.min_free_disk_bytes <= 0:
        return
    free_mb, needed_mb = shutil.disk_usage(output_dir).free // 2**20, options.min_free_disk_bytes // 2**20
    if free_mb < needed_mb:
        raise OutputFailed(f"only {free_mb} MB free on the streams disk (at least {needed_mb} MB needed)")


def run_stream(
    *,
    url: str,
    access: CameraAccess,
    output_dir: Path,
    options: PipelineOptions,
    should_stop: Callable[[], bool],
    on_status: Callable[[StreamStatus], None],
) -> None:
    """Run one camera until should_stop() is True; never raises for input trouble.

    `access` says where the camera may be reached (the site's allowlist) and how its TLS
    is trusted; every connection is checked against it (see camera_gateway).
    States reported: starting -> live, live -> reconnecting -> live..., and finally
    stopped (asked to), or failed (bad URL, a connection refused for safety, output
    error, or max_reconnects exhausted).
    """
    status = StreamStatus(state="starting", detect_every=options.detect_every)
    try:
        validate_stream_url(url)
        CameraTarget.from_url(url)
        output_dir.mkdir(parents=True, exist_ok=True)
    except (ValueError, OSError) as error:
        status.state, status.last_error = "failed", str(error)
        _report(on_status, status)
        return
    _report(on_status, status)

    backoff = options.backoff_initial_s
    failures = 0
    while True:
        if should_stop():
            break
        session = _Session(
            url=url,
            access=access,
            output_dir=output_dir,
            options=options,
            should_stop=should_stop,
            on_status=on_status,
            status=status,
        )
        try:
            session.run()
            break  # returned: asked to stop
        except InputLost as error:
            message = str(error)
        except CameraRefused as error:
            logger.warning("stream refused: %s", error)
            status.state, status.last_error = "failed", str(error)
            status.input_fps = status.output_fps = 0.0
            status.boxes = []
            _report(on_status, status)
            return
        except OutputFailed as error:
            logger.exception("stream output failed")
            status.state, status.last_error = "failed", str(error)
            _report(on_status, status)
            return
        except Exception as error:  # an unexpected bug: keep the camera going, but say why
            message = redact(f"{type(error).__name__}: {error}")
            # The traceback only at debug level: its messages may quote the camera URL.
            logger.error("stream pipeline error: %s", message)
            logger.debug("stream pipeline error", exc_info=True)
        if session.got_frames:
            backoff, failures = options.backoff_initial_s, 0  # it was live: start over at 1 s
        failures += 1
        if options.max_reconnects is not None and failures > options.max_reconnects:
            status.state, status.last_error = "failed", message
            _report(on_status, status)
            return
        logger.warning("stream input lost (%s); reconnecting in %.0f s", message, backoff)
        status.state, status.last_error = "reconnecting", message
        status.input_fps = status.output_fps = 0.0
        status.boxes = []
        _report(on_status, status)
        if _sleep_unless_stopped(backoff, should_stop):
            break
        backoff = min(options.backoff_max_s, backoff * 2)

    _append_endlist(output_dir)
    status.state = "stopped"
    status.input_fps = status.output_fps = 0.0
    _report(on_status, status)
