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

Modules: ``runner`` (run_stream: connections and reconnects), ``session`` (one connection
and its frame loop), ``detection`` (face boxes, their cadence and names), ``drawing``,
``hls`` (the output and its folder), ``timing`` (the stream clock), ``url`` (the URL
check and redaction), ``options`` and ``status``. This package imports no Django: the
streaming service and the benchmark drive it the same way.
"""

from streaming.pipeline.options import PipelineOptions
from streaming.pipeline.runner import run_stream
from streaming.pipeline.status import StreamState, StreamStatus, TimedBox
from streaming.pipeline.url import redact, validate_stream_url

__all__ = [
    "PipelineOptions",
    "StreamState",
    "StreamStatus",
    "TimedBox",
    "redact",
    "run_stream",
    "validate_stream_url",
]
