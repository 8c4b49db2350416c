"""The HLS side: libx264 and the HLS muxer, the playlist's folder kept tidy and within its disk."""

from __future__ import annotations

import shutil
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from streaming.pipeline.options import PipelineOptions, max_bitrate_kbps
from streaming.pipeline.status import OutputFailed

PLAYLIST_NAME = "index.m3u8"
SEGMENT_PATTERN = "segment_%06d.ts"


class HlsOutput:
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
        segments_orphaned_sweep(output_dir, options)
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


def disk_check(output_dir: Path, options: PipelineOptions) -> None:
    if options.min_free_disk_bytes <= 0:
        return
    free_mb, needed_mb = shutil.disk_usage(output_dir).free // 2**20, options.min_free_disk_bytes // 2**20
    if free_mb < needed_mb:
        raise OutputFailed(f"only {free_mb} MB free on the streams disk (at least {needed_mb} MB needed)")


def segments_orphaned_sweep(output_dir: Path, options: PipelineOptions) -> None:
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


def playlist_endlist_append(output_dir: Path) -> None:
    """Mark the playlist finished after a clean stop (omit_endlist kept it open until now)."""
    playlist = output_dir / PLAYLIST_NAME
    if not playlist.exists():
        return
    text = playlist.read_text()
    if "#EXT-X-ENDLIST" not in text:
        temporary = playlist.with_name(f".{playlist.name}.endlist")  # not the muxer's own .tmp name
        temporary.write_text(text.rstrip("\n") + "\n#EXT-X-ENDLIST\n")
        temporary.replace(playlist)  # atomic: players read the old or the new file
