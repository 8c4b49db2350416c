"""The stream's clock: output timestamps, and how far processing lags behind the live input."""

from __future__ import annotations


class StreamClock:
    """Output pts from the stream clock (keeps real timing with a jittery or variable-rate
    source); a jump back or far forward (RTP wrap, camera reset) re-anchors."""

    def __init__(self, *, input_fps: float, out_fps: int):
        self.input_fps = input_fps
        self.out_fps = out_fps
        self.anchor: tuple[float, int] | None = None  # (stream time, pts) to rebase timestamps
        self.last_time = 0.0
        self.wall_start = self.stream_start = 0.0

    def frame_time(self, time_s: float | None) -> float:
        """The frame's stream time; one frame interval after the last if it carries none."""
        return time_s if time_s is not None else self.last_time + 1.0 / self.input_fps

    def pts(self, frame_time: float, now: float, last_pts: int) -> int:
        if self.anchor is None or frame_time < self.last_time - 0.5 or frame_time > self.last_time + 5.0:
            self.anchor = (frame_time, last_pts + 1)
            self.stream_start, self.wall_start = frame_time, now
        self.last_time = frame_time
        return self.anchor[1] + round((frame_time - self.anchor[0]) * self.out_fps)

    def backlog(self, now: float, frame_time: float) -> float:
        """Seconds behind the live input: wall clock against stream clock since the anchor."""
        return (now - self.wall_start) - (frame_time - self.stream_start)
