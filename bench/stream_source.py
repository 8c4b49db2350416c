"""The live source of the streaming bench: a coded 720p25 clip, served over RTSP, timed per frame.

* The clip: the face video of ``tests/data/video`` upscaled to 1280x720, resampled to 25 fps and
  looped, encoded like a camera's stream (H.264, a key frame every second, no B-frames), and
  cached in ``var/bench-cache/``. Every frame carries its index as 20 black or white 16 px cells
  along the bottom-left edge (16 bits and a 4-bit checksum, on the macroblock grid, so the code
  survives two H.264 encodes): any decoder of the output can tell which source frame it holds.
* The server: the repository's GStreamer test server (``streaming/rtsp_test_server.py``,
  unchanged), run with Debian's Python. It paces the clip in real time and gives every client
  its own session that starts at frame 0 (``set_shared(False)``).
* The relay: each client under test connects through its own TCP relay on 127.0.0.1, which
  forwards bytes both ways untouched and notes when the last RTP packet of each frame left the
  server, by RTP timestamp. The PLAY answer's ``RTP-Info: rtptime`` is the timestamp of frame 0,
  so frame k is ``rtptime + 3600 k`` (90 kHz clock, 25 fps).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from attendance_site.testing.processes import free_port
from bench.report import note

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_SCRIPT = REPO_ROOT / "streaming" / "rtsp_test_server.py"
SOURCE_CLIP = REPO_ROOT / "tests" / "data" / "video" / "short_hamilton_clip.mp4"
CACHE_DIR = REPO_ROOT / "var" / "bench-cache"
SYSTEM_PYTHON = "/usr/bin/python3"

WIDTH, HEIGHT, FPS = 1280, 720, 25
RTP_TICKS_PER_FRAME = 90_000 // FPS
CELL = 16
CODE_BITS, CHECK_BITS = 16, 4
CODE_CELLS = CODE_BITS + CHECK_BITS
CODE_X, CODE_Y = CELL, HEIGHT - 2 * CELL
CLIP_VERSION = 1


# --------------------------------------------------------------------------- frame code


def _checksum(index: int) -> int:
    return sum((index >> shift) & 0xF for shift in range(0, CODE_BITS, 4)) & 0xF


def code_stamp(bgr, index: int) -> None:
    """Write ``index`` into the frame as black (0) and white (1) cells."""
    word = (index & 0xFFFF) | (_checksum(index & 0xFFFF) << CODE_BITS)
    for bit in range(CODE_CELLS):
        x = CODE_X + bit * CELL
        bgr[CODE_Y : CODE_Y + CELL, x : x + CELL] = 235 if (word >> bit) & 1 else 16


def code_read(grey) -> int | None:
    """The index written by code_stamp, or None if the cells are unclear or the checksum fails."""
    word = 0
    for bit in range(CODE_CELLS):
        x = CODE_X + bit * CELL
        level = float(grey[CODE_Y + 4 : CODE_Y + CELL - 4, x + 4 : x + CELL - 4].mean())
        if 70 < level < 180:
            return None
        word |= int(level >= 180) << bit
    index = word & 0xFFFF
    return index if word >> CODE_BITS == _checksum(index) else None


# --------------------------------------------------------------------------- source clip


def clip_cached(seconds: float) -> Path:
    """The 720p25 coded clip, at least ``seconds`` long (built once: about 40 s for the 180 s default)."""
    length = int(max(180, -(-seconds // 60) * 60))  # whole minutes, 3 at least: one cache file for most runs
    stat = SOURCE_CLIP.stat()
    target = CACHE_DIR / f"stream_pipeline_clip_v{CLIP_VERSION}_{length}s_{stat.st_size}_{int(stat.st_mtime)}.mp4"
    if target.exists():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    partial = target.with_suffix(".partial.mp4")
    _clip_build(partial, length)
    partial.replace(target)
    note(f"built the source clip {target.name} ({length} s) in {time.monotonic() - started:.0f} s")
    return target


def _clip_build(target: Path, seconds: int) -> None:
    import av
    import cv2
    import numpy as np

    with av.open(str(SOURCE_CLIP)) as source:
        video = source.streams.video[0]
        decoded = [(frame.time, frame.to_ndarray(format="bgr24")) for frame in source.decode(video)]
    start = decoded[0][0]
    times = [t - start for t, _ in decoded]
    rate = video.average_rate
    if rate is None:
        raise RuntimeError(f"{SOURCE_CLIP} has no frame rate")
    span = times[-1] + 1 / float(rate)
    with av.open(str(target), mode="w") as sink:
        stream = sink.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        # A camera-like stream: a key frame every second, no B-frames.
        stream.codec_context.options = {
            "preset": "veryfast",
            "crf": "21",
            "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=0",
        }
        picked = 0
        for index in range(seconds * FPS):
            moment = (index / FPS) % span  # resampled to 25 fps by time, then looped
            if moment < times[picked]:
                picked = 0
            while picked + 1 < len(times) and times[picked + 1] <= moment + 1e-6:
                picked += 1
            bgr = cv2.resize(decoded[picked][1], (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)
            code_stamp(bgr, index)
            # cv2's stubs leave the element type open; the resized frame is 8-bit BGR as it came in.
            frame = av.VideoFrame.from_ndarray(bgr.astype(np.uint8, copy=False), format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            sink.mux(stream.encode(frame))
        sink.mux(stream.encode(None))


# --------------------------------------------------------------------------- RTP relay


@dataclass
class TapSession:
    """One client connection through the relay: when each frame left the server."""

    rtptime: int | None = None  # RTP timestamp of frame 0, from the PLAY answer
    first_ts: int | None = None
    arrivals: dict[int, float] = field(default_factory=dict)  # RTP timestamp -> monotonic s

    def frame_arrival(self, index: int) -> float | None:
        base = self.rtptime if self.rtptime is not None else self.first_ts
        if base is None:
            return None
        return self.arrivals.get((base + index * RTP_TICKS_PER_FRAME) & 0xFFFFFFFF)


class _ServerStream:
    """Parses the server-to-client byte stream: RTSP answers and interleaved ($) RTP packets."""

    _RTPTIME = re.compile(rb"rtptime=(\d+)", re.IGNORECASE)

    def __init__(self, session: TapSession):
        self.session = session
        self.buffer = bytearray()

    def feed(self, data: bytes, now: float) -> None:
        buffer = self.buffer
        buffer += data
        position = 0
        while position < len(buffer):
            if buffer[position] == 0x24:  # '$', channel, 16-bit length, packet
                if len(buffer) - position < 4:
                    break
                channel = buffer[position + 1]
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                end = position + 4 + length
                if end > len(buffer):
                    break
                if channel % 2 == 0 and length >= 12:  # even channels carry RTP, odd RTCP
                    timestamp = int.from_bytes(buffer[position + 8 : position + 12], "big")
                    if self.session.first_ts is None:
                        self.session.first_ts = timestamp
                    self.session.arrivals[timestamp] = now  # the frame's last packet wins
                position = end
            else:
                head_end = buffer.find(b"\r\n\r\n", position)
                if head_end < 0:
                    break
                head = bytes(buffer[position:head_end])
                match = re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE)
                end = head_end + 4 + (int(match.group(1)) if match else 0)
                if end > len(buffer):
                    break
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"rtp-info:"):
                        found = self._RTPTIME.search(line)
                        if found and self.session.rtptime is None:
                            self.session.rtptime = int(found.group(1))
                position = end
        del buffer[:position]


class RtpTap:
    """A TCP relay on 127.0.0.1 in front of the RTSP server, one per client under test.

    Server bytes are read as soon as they come and queued to the client without waiting
    for it: a slow client then shows as latency here, not as a server held back.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, upstream_port: int):
        self.loop = loop
        self.upstream_port = upstream_port
        self.sessions: list[TapSession] = []
        listening = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, "127.0.0.1", 0), loop)
        self.server = listening.result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/test"

    @property
    def session(self) -> TapSession | None:
        return self.sessions[-1] if self.sessions else None

    async def _serve(self, client_reader, client_writer) -> None:
        session = TapSession()
        self.sessions.append(session)
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return
        parser = _ServerStream(session)

        async def upstream() -> None:
            while data := await client_reader.read(65536):
                server_writer.write(data)
            server_writer.close()

        async def downstream() -> None:
            while data := await server_reader.read(65536):
                parser.feed(data, time.monotonic())
                client_writer.write(data)
            client_writer.close()

        try:
            await asyncio.gather(upstream(), downstream())
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (client_writer, server_writer):
                writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)


class TapLoop:
    """The asyncio loop of every relay, in a daemon thread."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rtp-tap", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# --------------------------------------------------------------------------- processes


def stop_process(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM (both ffmpeg and our child then finish their playlist), SIGKILL after ``grace``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RtspServer:
    """The repository's GStreamer test server serving the clip, stopped by pid.

    It runs under coreutils' ``timeout``, which passes our SIGTERM on to it, so that even a
    bench killed with SIGKILL leaves no server behind for longer than ``budget_s``.
    """

    def __init__(self, clip: Path, budget_s: float):
        self.clip = clip
        self.budget_s = budget_s
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []

    def __enter__(self) -> RtspServer:
        server = [SYSTEM_PYTHON, "-P", str(SERVER_SCRIPT), str(self.port), str(self.clip)]
        process = self.process = subprocess.Popen(
            ["timeout", "--kill-after=10", str(int(self.budget_s)), *server],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = process.stdout
        assert output is not None  # stdout=PIPE
        ready = threading.Event()

        def read() -> None:
            for line in output:
                self.lines.append(line)
                if line.strip() == "READY":
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(20):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the RTSP test server did not start: {''.join(self.lines)[-2000:]}")
        note(f"RTSP test server on 127.0.0.1:{self.port} (pid {process.pid}), clip {self.clip.name}")
        return self

    def cpu_seconds(self) -> float:
        """The server's CPU time so far (the child of ``timeout``), 0 where /proc cannot tell."""
        if self.process is None:
            return 0.0
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0.0
        return sum(cpu_seconds(int(child)) or 0.0 for child in children)

    def __exit__(self, *exc_info) -> None:
        if self.process is not None:
            stop_process(self.process, grace=10)
