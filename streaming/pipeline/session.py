"""One connection to the camera: open it through the gateway, then decode, detect, draw and
encode frame by frame until it ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from streaming.camera_gateway import CameraAccess, CameraGateway, CameraRefused, CameraTarget
from streaming.pipeline.detection import FaceTracker
from streaming.pipeline.drawing import Painter
from streaming.pipeline.hls import HlsOutput, disk_check
from streaming.pipeline.options import PipelineOptions, output_size
from streaming.pipeline.status import InputLost, OutputFailed, StreamStatus, status_report
from streaming.pipeline.timing import StreamClock
from streaming.pipeline.url import redact


class Session:
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

        def described(message: str) -> str:
            # FFmpeg's errors quote the URL it opened: show the camera's, credentials masked.
            return redact(message.replace(gateway.url, self.url).replace(f"127.0.0.1:{gateway.port}", "camera"))

        try:
            container = self._input_open(gateway)
        except av.FFmpegError as error:
            raise InputLost(described(f"cannot open the stream: {error}"))
        output: HlsOutput | None = None
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

    def _input_open(self, gateway: CameraGateway) -> Any:
        import av

        options = self.options
        return av.open(
            gateway.url,
            format="rtsp",  # never let FFmpeg guess the protocol from the string
            options={
                "rtsp_transport": "tcp",
                # Socket timeout in microseconds (FFmpeg >= 5; the old "stimeout" is ignored).
                "timeout": str(int(options.stall_timeout_s * 1_000_000)),
                # Plain TCP to the gateway only: no tls (the gateway speaks it), no
                # udp/rtp (every packet comes interleaved over the one connection).
                "protocol_whitelist": "rtsp,tcp",
                "allowed_media_types": "video",  # audio is dropped: see the package docstring
            },
            # PyAV's own interrupt timeouts (open, each read): bound every blocking call.
            timeout=(options.open_timeout_s, options.stall_timeout_s),
        )

    def _loop(self, container: Any, video: Any) -> HlsOutput | None:
        frames = _FrameLoop(self, video)
        try:
            for packet in container.demux(video):
                now = time.monotonic()
                if self.should_stop():
                    return frames.output
                for frame in frames.packet_decode(packet, now):
                    frames.frame_handle(frame)
        except BaseException:
            # The caller never sees this output: close it here (flushes the last segment).
            if frames.output is not None:
                frames.output.close()
            raise
        if self.should_stop():
            return frames.output
        # The demuxer ran dry: the server ended the stream (clip over, camera going away).
        if frames.output is not None:
            frames.output.close()
        raise InputLost("the stream ended")


@dataclass
class _Window:
    """Counters between two status reports."""

    start: float
    frames_in: int = 0
    frames_out: int = 0
    last_report: float = 0.0
    frame_delay_ema: float = 0.0

    def frame_delay_add(self, delay: float) -> None:
        self.frame_delay_ema = 0.9 * self.frame_delay_ema + 0.1 * delay if self.frame_delay_ema else delay

    def restart(self, now: float) -> None:
        self.last_report = now
        self.start, self.frames_in, self.frames_out = now, 0, 0


class _FrameLoop:
    """The state of one connection's frames, and the steps each frame goes through."""

    def __init__(self, session: Session, video: Any):
        self.session = session
        self.options = options = session.options
        rate = video.average_rate or video.guessed_rate or Fraction(25)
        self.input_fps = float(rate)
        self.out_fps = max(1, round(min(self.input_fps, options.max_fps)))
        self.interval = 1.0 / self.out_fps
        self.output: HlsOutput | None = None
        self.painter: Painter | None = None
        self.out_size = (0, 0)
        self.faces = FaceTracker(options)
        self.clock = StreamClock(input_fps=self.input_fps, out_fps=self.out_fps)
        self.arrivals: dict[int, float] = {}  # packet pts -> when it was read
        self.last_frame_wall = time.monotonic()
        self.window = _Window(start=time.monotonic())

    def packet_decode(self, packet: Any, now: float) -> Iterator[Any]:
        """The packet's frames, after checking the input has not stalled."""
        if now - self.last_frame_wall > self.options.stall_timeout_s:
            # Packets without pictures (or a trickle of garbage) count as a stall too.
            raise InputLost(f"no frame for {self.options.stall_timeout_s:.0f} s")
        if packet.dts is None and packet.size == 0:
            # The demuxer's end-of-stream flush packet: the camera hung up.
            return
        if packet.pts is not None:
            if len(self.arrivals) > 256:  # pts the decoder never returned (dropped frames)
                self.arrivals.clear()
            self.arrivals[packet.pts] = now
        yield from packet.decode()

    def frame_handle(self, frame: Any) -> None:
        start = time.monotonic()
        arrived = self.arrivals.pop(frame.pts, start)
        self.last_frame_wall = start
        self.window.frames_in += 1
        frame_time = self.clock.frame_time(frame.time)
        output, painter = self.output, self.painter
        if output is None or painter is None:
            output, painter = self._output_open(frame)
        pts = self.clock.pts(frame_time, start, output.last_pts)
        if pts <= output.last_pts:
            return  # pts not advancing: above the fps cap, dropped
        yuv = self._yuv(frame)
        self.faces.frame_see(yuv, painter.planes(yuv)[0], frame_time, start)
        for box, label in self.faces.labelled():
            painter.draw(yuv, box, label)
        self._write(output, yuv, pts)
        end = time.monotonic()
        latency = self.clock.backlog(end, frame_time)
        self.window.frame_delay_add(end - arrived)
        # Adapt k: amortised per-frame cost against the frame interval, or a growing
        # backlog behind the live stream (latency).
        self.faces.cadence.adapt(
            frame_index=self.faces.frame_index, cost=end - start, latency=latency, interval=self.interval
        )
        if end - self.window.last_report >= self.options.status_interval_s:
            self._status_report(end, latency)

    def _output_open(self, frame: Any) -> tuple[HlsOutput, Painter]:
        options = self.options
        out_w, out_h = output_size(frame.width, frame.height, options.max_width, options.max_height)
        disk_check(self.session.output_dir, options)
        try:
            self.output = HlsOutput(self.session.output_dir, out_w, out_h, self.out_fps, options)
        except Exception as error:
            raise OutputFailed(f"cannot start the HLS output: {error}")
        self.painter = Painter(out_w, out_h, options)
        self.out_size = (out_w, out_h)
        return self.output, self.painter

    def _yuv(self, frame: Any) -> np.ndarray:
        """The frame at the output size as a (height * 3/2, width) array: Y, then U and V."""
        out_w, out_h = self.out_size
        if frame.format.name != "yuv420p" or frame.width != out_w or frame.height != out_h:
            frame = frame.reformat(width=out_w, height=out_h, format="yuv420p")
        return frame.to_ndarray()

    def _write(self, output: HlsOutput, yuv: np.ndarray, pts: int) -> None:
        try:
            output.write(yuv, pts)
        except Exception as error:
            raise OutputFailed(f"HLS output failed: {error}")
        self.window.frames_out += 1
        session = self.session
        if not session.got_frames:
            session.got_frames = True
            session.status.state = "live"
            session.status.last_error = ""
            self.window.last_report = 0.0  # report "live" at once

    def _status_report(self, now: float, latency: float) -> None:
        window, status = self.window, self.session.status
        elapsed = max(1e-6, now - window.start)
        if window.frames_in >= 2 or window.last_report == 0.0:
            status.input_fps = round(window.frames_in / elapsed, 2) if window.last_report else self.input_fps
            status.output_fps = round(window.frames_out / elapsed, 2) if window.last_report else self.out_fps
        status.latency_ms = round((max(0.0, latency) + window.frame_delay_ema) * 1000.0, 1)
        status.detect_every = self.faces.cadence.every
        status.boxes = self.faces.timed_boxes()
        status_report(self.session.on_status, status)
        disk_check(self.session.output_dir, self.options)
        window.restart(now)
