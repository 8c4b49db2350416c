"""What a pipeline can be told: output caps, detection cadence, encoder, timeouts, callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from biometrics.face import FaceBox


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


def output_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Largest size within the caps with the input's aspect ratio; even, as yuv420p needs."""
    scale = min(1.0, max_width / width, max_height / height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def max_bitrate_kbps(width: int, height: int, options: PipelineOptions) -> int:
    if options.max_bitrate_kbps is not None:
        return options.max_bitrate_kbps
    return max(300, round(3000 * width * height / (1280 * 720)))
