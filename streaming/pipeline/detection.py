"""Faces in the stream: detected every k-th frame (k adapted to the cost), named now and then,
names carried from box to box in between."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from streaming.pipeline.options import PipelineOptions
from streaming.pipeline.status import TimedBox, logger

if TYPE_CHECKING:
    from biometrics.face import FaceBox


def default_detector(rgb: np.ndarray) -> list[FaceBox]:
    from biometrics.face import faces_detect  # dlib import is heavy: only when first needed

    return faces_detect(rgb)


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


def labels_identify(
    identify: Callable[[np.ndarray, list[FaceBox]], list[str | None]],
    yuv: np.ndarray,
    boxes: list[FaceBox],
    labels: list[str | None],
) -> list[str | None]:
    """Labels from the identify callback, keeping a tracked box's name where this frame
    alone is not enough (a face turned away, motion blur); the carried ones if it fails."""
    import cv2

    rgb = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
    try:
        found = list(identify(rgb, boxes))
    except Exception:
        # Recognition trouble (a database hiccup) must not take the camera down.
        logger.exception("stream face identification failed")
        return labels
    if len(found) != len(boxes):
        return labels
    return [new or carried for new, carried in zip(found, labels, strict=True)]


@dataclass
class DetectionCadence:
    """k of "detect on every k-th frame".

    A live source never waits for us: k grows while the amortised per-frame cost nears the
    frame interval or a backlog builds behind the live stream, and shrinks again when
    there is room.
    """

    every: int
    minimum: int
    maximum: int
    cost_ema: float = 0.0
    next_adapt: int = 0

    def adapt(self, *, frame_index: int, cost: float, latency: float, interval: float) -> None:
        self.cost_ema = 0.9 * self.cost_ema + 0.1 * cost if self.cost_ema else cost
        if frame_index < self.next_adapt:
            return
        if (self.cost_ema > 0.8 * interval or latency > 1.0) and self.every < self.maximum:
            self.every += 1
            self.next_adapt = frame_index + 2 * self.every
        elif self.cost_ema < 0.4 * interval and latency < 0.5 and self.every > self.minimum:
            self.every -= 1
            self.next_adapt = frame_index + 2 * self.every


class FaceTracker:
    """The faces of one connection: the boxes of the last detection and their names."""

    def __init__(self, options: PipelineOptions):
        self.detect = options.detector or default_detector
        self.identify = options.identify
        self.identify_interval_s = options.identify_interval_s
        self.cadence = DetectionCadence(
            every=max(1, options.detect_every), minimum=options.detect_every, maximum=options.detect_every_max
        )
        self.boxes: list[FaceBox] = []
        self.labels: list[str | None] = []
        self.boxes_time = 0.0
        self.next_identify = 0.0
        self.frame_index = 0

    def frame_see(self, yuv: np.ndarray, luma: np.ndarray, frame_time: float, now: float) -> None:
        """Detect on every k-th frame (boxes reused in between), name at most every interval."""
        if self.frame_index % self.cadence.every == 0:
            found = self.detect(luma)
            self.labels = labels_carry(found, self.boxes, self.labels)
            self.boxes, self.boxes_time = found, frame_time
            if self.identify is not None and found and now >= self.next_identify:
                self.labels = labels_identify(self.identify, yuv, found, self.labels)
                self.next_identify = now + self.identify_interval_s
        self.frame_index += 1

    def labelled(self) -> list[tuple[FaceBox, str | None]]:
        return list(zip(self.boxes, self.labels, strict=True))

    def timed_boxes(self) -> list[TimedBox]:
        return [
            TimedBox(b.top, b.right, b.bottom, b.left, round(self.boxes_time, 3), label)
            for b, label in zip(self.boxes, self.labels, strict=True)
        ]
