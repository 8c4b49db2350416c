"""One camera from start to stop: connections one after another, with backoff between them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from streaming.camera_gateway import CameraAccess, CameraRefused, CameraTarget
from streaming.pipeline.hls import playlist_endlist_append
from streaming.pipeline.options import PipelineOptions
from streaming.pipeline.session import Session
from streaming.pipeline.status import InputLost, OutputFailed, StreamStatus, logger, status_report
from streaming.pipeline.url import redact, validate_stream_url


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
        status_report(on_status, status)
        return
    status_report(on_status, status)

    def session_new() -> Session:
        return Session(
            url=url,
            access=access,
            output_dir=output_dir,
            options=options,
            should_stop=should_stop,
            on_status=on_status,
            status=status,
        )

    if not _sessions_run(session_new, options=options, should_stop=should_stop, on_status=on_status, status=status):
        return  # failed for good, and reported why
    playlist_endlist_append(output_dir)
    status.state = "stopped"
    status.input_fps = status.output_fps = 0.0
    status_report(on_status, status)


def _sessions_run(
    session_new: Callable[[], Session],
    *,
    options: PipelineOptions,
    should_stop: Callable[[], bool],
    on_status: Callable[[StreamStatus], None],
    status: StreamStatus,
) -> bool:
    """Connect, and reconnect after each loss, until asked to stop (True) or failed for good (False)."""
    backoff = _Backoff(options)
    while not should_stop():
        session = session_new()
        try:
            message = _session_run(session)
        except CameraRefused as error:
            logger.warning("stream refused: %s", error)
            status.state, status.last_error = "failed", str(error)
            status.input_fps = status.output_fps = 0.0
            status.boxes = []
            status_report(on_status, status)
            return False
        except OutputFailed as error:
            logger.exception("stream output failed")
            status.state, status.last_error = "failed", str(error)
            status_report(on_status, status)
            return False
        if message is None:
            return True  # returned: asked to stop
        if not backoff.failure_count(was_live=session.got_frames):
            status.state, status.last_error = "failed", message
            status_report(on_status, status)
            return False
        logger.warning("stream input lost (%s); reconnecting in %.0f s", message, backoff.delay)
        status.state, status.last_error = "reconnecting", message
        status.input_fps = status.output_fps = 0.0
        status.boxes = []
        status_report(on_status, status)
        if _sleep_unless_stopped(backoff.delay, should_stop):
            return True
        backoff.grow()
    return True


def _session_run(session: Session) -> str | None:
    """None once the session was asked to stop, else why its connection was lost.

    A refusal (CameraRefused) and an output failure (OutputFailed) propagate: reconnecting
    would not help.
    """
    try:
        session.run()
        return None
    except InputLost as error:
        return str(error)
    except (CameraRefused, OutputFailed):
        raise
    except Exception as error:  # an unexpected bug: keep the camera going, but say why
        message = redact(f"{type(error).__name__}: {error}")
        # The traceback only at debug level: its messages may quote the camera URL.
        logger.error("stream pipeline error: %s", message)
        logger.debug("stream pipeline error", exc_info=True)
        return message


@dataclass
class _Backoff:
    """Exponential backoff between reconnections: 1, 2, 4... 30 s, back to 1 s after a live one."""

    options: PipelineOptions
    delay: float = 0.0
    failures: int = 0

    def __post_init__(self) -> None:
        self.delay = self.options.backoff_initial_s

    def failure_count(self, *, was_live: bool) -> bool:
        """Count one lost connection; False once max_reconnects are exhausted."""
        if was_live:
            self.delay, self.failures = self.options.backoff_initial_s, 0  # it was live: start over at 1 s
        self.failures += 1
        return self.options.max_reconnects is None or self.failures <= self.options.max_reconnects

    def grow(self) -> None:
        self.delay = min(self.options.backoff_max_s, self.delay * 2)


def _sleep_unless_stopped(seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Sleep in short steps; True if asked to stop meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if should_stop():
            return True
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    return should_stop()
