"""Live annotated video (issue #5): our RTSP-to-HLS pipeline against the ``ffmpeg`` CLI.

One 1280x720 25 fps H.264 stream of a face clip, from the GStreamer RTSP test server on
127.0.0.1 (see ``bench/stream_source.py``: the clip, the server, the per-frame relay), is turned
into HLS by:

* **ours**: ``streaming.pipeline.run_stream`` with the default ``PipelineOptions`` (face
  detection with its adaptive cadence, 720p / 25 fps caps, libx264 veryfast, 1 s segments), in
  a child process (``python -m bench.stream_pipeline --child``) so that its CPU time, every
  thread included, can be read from ``/proc``. The detector's ~1.3 s import is done before
  connecting, as in a streams worker that already runs a camera;
* the same without detection (``detector=lambda rgb: []``), to show what detection costs;
* **baseline**: Debian's ``ffmpeg`` reading the same URL over TCP and writing HLS with the same
  settings (libx264 veryfast, zerolatency, keyint 25, scene-cut off, crf 23, ``hls_time 1``,
  list size 6, ``delete_segments``). Without ffmpeg it is skipped, said so, and so are the ratios.

The three run one after the other, alone on the machine. Each gets a warm-up of ``WARMUP_S``
after its first segment, then the measured window. The output playlist is polled every 10 ms;
each new segment is noted (when it appeared, the writer's CPU time then) and copied aside, and
after the run its frames are counted and its first frame's code read (the source frame index).

* Output fps = frames of the window's segments / time between the first and last appearance.
* CPU s per s of video = the process's user + system CPU over the window / (frames / 25).
* Latency of a segment = when the playlist listed it - when its first source frame left the
  server (the relay's clock, same process). It includes the segment's own 1 s: a segment is
  listed once its last frame is encoded. Measured the same way for ours and for ffmpeg,
  with neither instrumented.
* Real time = output >= 24 fps and latency not growing (least-squares slope <= 0.02 s per s).

Concurrency: 1, 2, 3 ... pipelines (detection on) at once, each with its own relay and RTSP
session, ``CONCURRENCY_S`` after warm-up; the largest N at which every stream keeps real time.

Everything listens and connects on 127.0.0.1 and stops by itself: children are stopped by pid
when the bench ends, fails or is interrupted, and also stop on their own (ours when the bench
process goes away or at a deadline, ffmpeg with ``-t``, the server under ``timeout``). Durations:
``BENCH_STREAM_SECONDS`` (default 60), ``BENCH_STREAM_CONCURRENCY_SECONDS`` (20),
``BENCH_STREAM_MAX_STREAMS`` (8), or ``python -m bench.stream_pipeline --seconds 15``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.report import emit, note, percentile
from bench.stream_source import (
    FPS,
    HEIGHT,
    REPO_ROOT,
    SYSTEM_PYTHON,
    WIDTH,
    RtpTap,
    RtspServer,
    TapLoop,
    clip_cached,
    code_read,
    cpu_seconds,
    stop_process,
)

NAME = "stream_pipeline"
DURATION_S = float(os.environ.get("BENCH_STREAM_SECONDS", "60"))
CONCURRENCY_S = float(os.environ.get("BENCH_STREAM_CONCURRENCY_SECONDS", "20"))
MAX_STREAMS = int(os.environ.get("BENCH_STREAM_MAX_STREAMS", "8"))
WARMUP_S = 5.0
START_TIMEOUT_S = 30.0  # connect, and the first segment
POLL_S = 0.01
REALTIME_FPS = 24.0
MAX_LATENCY_SLOPE = 0.02  # latency gained per second: 2 % behind real time
CPU_RATIO_TARGET = 1.5
LATENCY_MARGIN_MS = 500.0  # over ffmpeg's, or over the 1 s segment when there is no ffmpeg


# --------------------------------------------------------------------------- processes


@dataclass
class Segment:
    name: str
    appeared: float  # monotonic s, when the playlist first listed it
    cpu: float | None  # the writer's CPU seconds at that moment
    copy: Path | None
    frames: int = 0
    first_index: int | None = None  # source frame index of its first frame


class Runner:
    """One process turning the stream into HLS, and what it produced, segment by segment."""

    def __init__(self, *, label: str, kind: str, url: str, workdir: Path, tap: RtpTap, deadline_s: float):
        self.label, self.kind, self.url, self.tap = label, kind, url, tap
        self.output_dir = workdir / "hls"
        self.stash = workdir / "segments"
        self.output_dir.mkdir(parents=True)
        self.stash.mkdir()
        self.log_path = workdir / "process.log"
        self.deadline_s = deadline_s
        self.segments: list[Segment] = []
        self.statuses: list[dict] = []
        self.process: subprocess.Popen | None = None
        self._log: IO[str] | None = None
        self.lock = threading.Lock()

    def command(self) -> list[str]:
        playlist = self.output_dir / "index.m3u8"
        if self.kind == "ffmpeg":
            return [
                "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
                "-rtsp_transport", "tcp", "-i", self.url,
                "-an", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-crf", "23",
                "-g", str(FPS), "-x264-params", f"keyint={FPS}:min-keyint={FPS}:scenecut=0",
                "-pix_fmt", "yuv420p", "-t", str(int(self.deadline_s)),
                "-f", "hls", "-hls_time", "1", "-hls_list_size", "6",
                "-hls_flags", "delete_segments+independent_segments+temp_file",
                "-hls_segment_filename", str(self.output_dir / "segment_%06d.ts"),
                str(playlist),
            ]  # fmt: skip
        command = [sys.executable, "-m", "bench.stream_pipeline", "--child", self.url, str(self.output_dir)]
        command += ["--deadline", str(int(self.deadline_s))]
        return command + (["--no-detection"] if self.kind == "ours_no_detection" else [])

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "attendance_site.settings"),
        }
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command(), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        threading.Thread(target=self._read_status, daemon=True).start()

    @property
    def started(self) -> subprocess.Popen:
        """The runner's process; start() must have been called."""
        if self.process is None:
            raise RuntimeError(f"{self.label} has not been started")
        return self.process

    def _read_status(self) -> None:
        output = self.started.stdout
        assert output is not None  # stdout=PIPE
        for line in output:
            if line.startswith("{"):
                try:
                    status = json.loads(line)
                except ValueError:
                    continue
                with self.lock:
                    self.statuses.append({**status, "at": time.monotonic()})

    def poll(self) -> None:
        """Note new segments in the playlist: when, the writer's CPU then, and a copy to decode later."""
        try:
            text = (self.output_dir / "index.m3u8").read_text()
        except OSError:
            return
        now = time.monotonic()
        known = {segment.name for segment in self.segments}
        for name in re.findall(r"^([^#\s]\S*\.ts)$", text, re.MULTILINE):
            if name in known:
                continue
            copy: Path | None = self.stash / name
            try:
                shutil.copyfile(self.output_dir / name, self.stash / name)
            except OSError:
                copy = None
            with self.lock:
                self.segments.append(Segment(name, now, cpu_seconds(self.started.pid), copy))

    def window_cpu(self, start: float, end: float) -> float:
        """CPU seconds between the first and the last segment that appeared in [start, end]."""
        with self.lock:
            samples = [s.cpu for s in self.segments if start <= s.appeared <= end and s.cpu is not None]
        return samples[-1] - samples[0] if len(samples) >= 2 else 0.0

    def first_segment_at(self) -> float | None:
        with self.lock:
            return self.segments[0].appeared if self.segments else None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        if self._log is not None and not self._log.closed:
            self._log.close()

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Watcher:
    """Polls every runner's playlist from one thread."""

    def __init__(self, runners: list[Runner]):
        self.runners = runners
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="playlist-watcher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            for runner in self.runners:
                runner.poll()
            time.sleep(POLL_S)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)


# --------------------------------------------------------------------------- analysis


def _segments_decode(segments: list[Segment]) -> None:
    """Frame count and the first frame's source index of each copied segment."""
    import av

    for segment in segments:
        if segment.copy is None:
            continue
        try:
            with av.open(str(segment.copy)) as container:
                stream = container.streams.video[0]
                decoded = False
                for packet in container.demux(stream):
                    segment.frames += packet.size > 0
                    if not decoded:  # the first frame only: its code says where the segment starts
                        for frame in packet.decode():
                            segment.first_index = code_read(frame.to_ndarray(format="gray"))
                            decoded = True
                            break
        except av.FFmpegError as error:
            note(f"  {segment.name}: unreadable ({error})")


def _slope(points: list[tuple[float, float]]) -> float:
    if len(points) < 3:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


@dataclass
class RunResult:
    label: str
    kind: str
    fps: float = 0.0
    cpu_per_video_s: float | None = None
    latencies_ms: list[float] = field(default_factory=list)
    latency_slope: float = 0.0
    segments: int = 0
    skipped_frames: int = 0
    unread: int = 0
    reconnects: int = 0
    detect_every: list[int] = field(default_factory=list)
    with_faces: float = 0.0  # share of the status reports that carried a face box
    problem: str = ""

    @property
    def realtime(self) -> bool:
        return not self.problem and self.fps >= REALTIME_FPS and self.latency_slope <= MAX_LATENCY_SLOPE

    def summary(self) -> str:
        if self.problem:
            return f"{self.label}: {self.problem}"
        latency = (
            f"latency p50 {percentile(self.latencies_ms, 50):.0f} ms, p95 {percentile(self.latencies_ms, 95):.0f} ms, "
            f"slope {self.latency_slope * 1000:+.1f} ms/s"
            if self.latencies_ms
            else "no latency sample"
        )
        cpu = f"{self.cpu_per_video_s:.3f}" if self.cpu_per_video_s is not None else "?"
        cadence = ""
        if self.detect_every and self.kind == "ours":
            cadence = (
                f", detection every {min(self.detect_every)}-{max(self.detect_every)} frames,"
                f" a face in {self.with_faces:.0%} of the status reports"
            )
        return (
            f"{self.label}: {self.fps:.2f} fps over {self.segments} segments, {cpu} CPU s per video s, {latency}"
            f"{cadence}; source frames skipped {self.skipped_frames}, segments without a readable code "
            f"{self.unread}, reconnects {self.reconnects}{'' if self.realtime else ' -> NOT real time'}"
        )


def analyse(runner: Runner, window_start: float, window_end: float) -> RunResult:
    result = RunResult(runner.label, runner.kind)
    with runner.lock:
        segments = [s for s in runner.segments if window_start <= s.appeared <= window_end]
        statuses = [s for s in runner.statuses if window_start <= s["at"] <= window_end]
    result.reconnects = max(0, len(runner.tap.sessions) - 1)
    live = [status for status in statuses if status.get("state") == "live"]
    result.detect_every = [int(status["detect_every"]) for status in live]
    result.with_faces = sum(status.get("faces", 0) > 0 for status in live) / len(live) if live else 0.0
    if len(segments) < 3:
        result.problem = f"only {len(segments)} segments in the measured window"
        return result
    _segments_decode(segments)
    # Segment j is counted from the moment segment j-1 appeared: rate = frames / elapsed.
    counted = segments[1:]
    frames = sum(segment.frames for segment in counted)
    elapsed = segments[-1].appeared - segments[0].appeared
    result.segments = len(counted)
    result.fps = frames / elapsed if elapsed > 0 else 0.0
    if segments[0].cpu is not None and segments[-1].cpu is not None and frames:
        result.cpu_per_video_s = (segments[-1].cpu - segments[0].cpu) / (frames / FPS)
    session = runner.tap.session
    points = []
    for previous, segment in itertools.pairwise(segments):
        if previous.first_index is not None and segment.first_index is not None:
            result.skipped_frames += max(0, segment.first_index - previous.first_index - previous.frames)
    for segment in segments:
        if segment.first_index is None:
            result.unread += 1
            continue
        sent = session.frame_arrival(segment.first_index) if session else None
        if sent is None:
            result.unread += 1
            continue
        points.append((segment.appeared, segment.appeared - sent))
    result.latencies_ms = [latency * 1000 for _, latency in points]
    result.latency_slope = _slope(points)
    if result.reconnects:
        result.problem = f"the client reconnected {result.reconnects} times"
    elif not points:
        result.problem = "no segment could be matched to a source frame"
    return result


# --------------------------------------------------------------------------- runs


def run_round(
    *, server: RtspServer, taps: TapLoop, workdir: Path, kinds: list[str], window_s: float
) -> list[RunResult]:
    """Start one process per kind at once, measure ``window_s`` after warm-up, stop them all."""
    runners: list[Runner] = []
    watcher: Watcher | None = None
    budget = START_TIMEOUT_S + WARMUP_S + window_s + 30
    try:
        for number, kind in enumerate(kinds):
            tap = RtpTap(taps.loop, server.port)
            label = kind if len(kinds) == 1 else f"{kind}#{number + 1}"
            runners.append(
                Runner(label=label, kind=kind, url=tap.url(), workdir=workdir / label, tap=tap, deadline_s=budget)
            )
        for runner in runners:
            runner.start()
        watcher = Watcher(runners)
        deadline = time.monotonic() + START_TIMEOUT_S
        while any(runner.first_segment_at() is None for runner in runners):
            failed = [runner for runner in runners if runner.started.poll() is not None]
            if failed or time.monotonic() > deadline:
                broken = failed or [runner for runner in runners if runner.first_segment_at() is None]
                details = "; ".join(f"{runner.label}: {runner.log_tail()}" for runner in broken)
                raise RuntimeError(f"no HLS segment within {START_TIMEOUT_S:.0f} s: {details}")
            time.sleep(0.1)
        window_start = max(at for runner in runners if (at := runner.first_segment_at()) is not None) + WARMUP_S
        window_end = window_start + window_s
        time.sleep(max(0.0, window_start - time.monotonic()))
        harness = _harness_cpu(server)
        time.sleep(max(0.0, window_end - time.monotonic()) + 0.05)
        watcher.close()
        own, served, busy = (after - before for after, before in zip(_harness_cpu(server), harness, strict=True))
        measured = sum(runner.window_cpu(window_start, window_end) for runner in runners)
        note(
            f"  CPU s per s in the window: measured processes {measured / window_s:.3f}, this process (relays,"
            f" polling) {own / window_s:.3f}, the RTSP server {served / window_s:.3f}, anything else on the"
            f" machine {max(0.0, busy - measured - own - served) / window_s:.3f}"
        )
        for runner in runners:
            if runner.started.poll() is not None:
                note(f"{runner.label} exited early (code {runner.started.returncode}): {runner.log_tail()}")
    finally:
        if watcher is not None:
            watcher.close()
        for runner in runners:
            runner.stop()
            runner.tap.close()
    return [analyse(runner, window_start, window_end) for runner in runners]


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _harness_cpu(server: RtspServer) -> tuple[float, float, float]:
    """CPU seconds so far: this process, the RTSP server, and the whole machine (busy, all cores)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/stat") as stat:
        jiffies = [int(value) for value in stat.readline().split()[1:]]
    busy = (sum(jiffies[:8]) - jiffies[3] - jiffies[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait
    return usage.ru_utime + usage.ru_stime, server.cpu_seconds(), busy


def _ffmpeg_missing() -> str | None:
    if shutil.which("ffmpeg") is None:
        return "no ffmpeg on PATH (apt-get install -y ffmpeg)"
    probe = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30)
    if "libx264" not in probe.stdout:
        return "this ffmpeg has no libx264 encoder"
    return None


def _server_missing() -> str | None:
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} is missing (the RTSP test server needs Debian's Python with PyGObject)"
    probe = "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')"
    result = subprocess.run([SYSTEM_PYTHON, "-P", "-c", probe], capture_output=True, timeout=30, check=False)
    if result.returncode != 0:
        return (
            "no GStreamer RTSP server (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0"
            " gstreamer1.0-rtsp gstreamer1.0-plugins-{base,good,bad,ugly})"
        )
    return None


def run(env: object = None, *, seconds: float | None = None) -> list[dict]:
    """Every figure as a JSON line on stdout; [] when the RTSP server cannot run here."""
    seconds = seconds or DURATION_S
    missing = _server_missing()
    if missing:
        print(f"bench: {NAME} SKIPPED, {missing}", file=sys.stderr)
        return []
    no_ffmpeg = _ffmpeg_missing()
    if no_ffmpeg:
        print(f"bench: {NAME}: ffmpeg baseline SKIPPED, {no_ffmpeg}; the ratios are left out", file=sys.stderr)
    load = os.getloadavg()
    note(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    clip = clip_cached(max(seconds, CONCURRENCY_S) + WARMUP_S + START_TIMEOUT_S + 30)
    lines: list[dict] = []
    with ExitStack() as stack:
        if threading.current_thread() is threading.main_thread():
            # SIGTERM unwinds like Ctrl-C, so that the children are stopped and the files removed.
            previous = signal.signal(signal.SIGTERM, _interrupt)
            stack.callback(signal.signal, signal.SIGTERM, previous)
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-stream-")))
        budget = 3 * (seconds + 90) + MAX_STREAMS * (CONCURRENCY_S + 120) + 300
        server = stack.enter_context(RtspServer(clip, budget_s=budget))
        taps = TapLoop()
        stack.callback(taps.close)
        results: dict[str, RunResult] = {}
        for kind in ([] if no_ffmpeg else ["ffmpeg"]) + ["ours", "ours_no_detection"]:
            note(f"{kind}: {WARMUP_S:.0f} s warm-up, then {seconds:.0f} s measured")
            (results[kind],) = run_round(
                server=server, taps=taps, workdir=workdir / "single", kinds=[kind], window_s=seconds
            )
            note(results[kind].summary())

        ours, bare, ffmpeg = results["ours"], results["ours_no_detection"], results.get("ffmpeg")
        lines.append(
            emit(
                bench=NAME,
                metric="output_fps",
                value=ours.fps,
                unit="fps",
                baseline=FPS,
                target=f">= {REALTIME_FPS:.0f} (source {FPS} fps) and latency not growing",
                met=ours.realtime,
            )
        )
        if ffmpeg is not None and ffmpeg.cpu_per_video_s:
            for metric, result in (("cpu_s_per_video_s", ours), ("cpu_s_per_video_s_no_detection", bare)):
                value = result.cpu_per_video_s or 0.0
                lines.append(
                    emit(
                        bench=NAME,
                        metric=metric,
                        value=value,
                        unit="CPU s per s of video",
                        baseline=ffmpeg.cpu_per_video_s,
                        target=f"ratio <= {CPU_RATIO_TARGET} (ffmpeg CLI, same stream, same settings)",
                        met=bool(result.cpu_per_video_s) and value / ffmpeg.cpu_per_video_s <= CPU_RATIO_TARGET,
                    )
                )
        if ours.latencies_ms:
            for pct in (50, 95):
                value = percentile(ours.latencies_ms, pct)
                if ffmpeg is not None and ffmpeg.latencies_ms:
                    baseline = percentile(ffmpeg.latencies_ms, pct)
                    limit, target = baseline + LATENCY_MARGIN_MS, f"<= ffmpeg + {LATENCY_MARGIN_MS:.0f} ms"
                else:
                    baseline, limit = 0.0, 1000 + LATENCY_MARGIN_MS
                    target = f"<= {limit:.0f} ms (1 s segment + {LATENCY_MARGIN_MS:.0f} ms)"
                lines.append(
                    emit(
                        bench=NAME,
                        metric=f"latency_to_playlist_p{pct}",
                        value=value,
                        unit="ms",
                        baseline=baseline,
                        target=target,
                        met=value <= limit,
                    )
                )

        best = 0
        for count in range(1, MAX_STREAMS + 1):
            note(f"concurrency: {count} pipeline(s), {WARMUP_S:.0f} s warm-up, then {CONCURRENCY_S:.0f} s measured")
            try:
                round_results = run_round(
                    server=server,
                    taps=taps,
                    workdir=workdir / f"concurrent-{count}",
                    kinds=["ours"] * count,
                    window_s=CONCURRENCY_S,
                )
            except RuntimeError as error:  # e.g. not every stream started in time: not real time either
                note(f"  {error}")
                break
            for result in round_results:
                note("  " + result.summary())
            if not all(result.realtime for result in round_results):
                break
            best = count
        else:
            note(f"all {MAX_STREAMS} streams kept real time: the figure is a lower bound")
        cores = os.cpu_count() or 1
        estimate = int(cores / ffmpeg.cpu_per_video_s) if ffmpeg is not None and ffmpeg.cpu_per_video_s else 0
        lines.append(
            emit(
                bench=NAME,
                metric="concurrent_720p_streams_realtime",
                value=best,
                unit="streams",
                baseline=estimate,
                target=(
                    f">= 1, reported (baseline: {cores} cores / ffmpeg's CPU per stream, an estimate)"
                    if estimate
                    else ">= 1, reported (no ffmpeg: no baseline)"
                ),
                met=best >= 1,
            )
        )
    return lines


# --------------------------------------------------------------------------- child


def child(url: str, output_dir: Path, *, detection: bool, deadline_s: float) -> int:
    """Run one pipeline until SIGTERM/SIGINT, the deadline, or the bench going away."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_site.settings")
    django.setup()
    import numpy as np

    from streaming.camera_gateway import CameraAccess
    from streaming.pipeline import PipelineOptions, run_stream

    options = PipelineOptions()
    if detection:
        from biometrics.face import faces_detect

        faces_detect(np.zeros((HEIGHT, WIDTH, 3), np.uint8))  # the ~1.3 s dlib import, before the camera
    else:
        options = PipelineOptions(detector=lambda rgb: [])
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    parent, deadline = os.getppid(), time.monotonic() + deadline_s

    def should_stop() -> bool:
        return stop.is_set() or time.monotonic() > deadline or os.getppid() != parent

    def on_status(status) -> None:
        fields = ("state", "input_fps", "output_fps", "latency_ms", "detect_every", "last_error")
        report = {name: getattr(status, name) for name in fields}
        print(json.dumps({**report, "faces": len(status.boxes)}), flush=True)

    # The bench's camera is on 127.0.0.1, which an admin would list exactly.
    access = CameraAccess(allowances=("127.0.0.1",))
    run_stream(
        url=url, access=access, output_dir=output_dir, options=options, should_stop=should_stop, on_status=on_status
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=None, help=f"measured seconds per run (default {DURATION_S:g})"
    )
    parser.add_argument("--child", nargs=2, metavar=("URL", "OUTPUT_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--no-detection", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        url, output_dir = args.child
        return child(url, Path(output_dir), detection=not args.no_detection, deadline_s=args.deadline)
    run(seconds=args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
