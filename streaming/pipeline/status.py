"""What a running stream reports, and the two ways a connection to the camera ends badly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

logger = logging.getLogger(__package__)  # one logger for the whole pipeline, as before the split

StreamState = Literal["starting", "live", "reconnecting", "stopped", "failed"]


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class InputLost(Exception):
    """The camera stopped delivering frames; the pipeline reconnects."""


class OutputFailed(Exception):
    """The HLS side failed (disk, encoder): not something reconnecting the camera fixes."""


def status_report(on_status: Callable[[StreamStatus], None], status: StreamStatus) -> None:
    # A failing status callback (a database hiccup) must not take the camera down.
    try:
        on_status(status)
    except Exception:
        logger.exception("stream status callback failed")
