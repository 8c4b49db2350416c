"""Reads what a camera sends to FFmpeg the way FFmpeg does, and stops redirects.

FFmpeg follows any 3xx reply with a Location (libavformat/rtsp.c, ``ff_rtsp_connect``:
``goto redirect``) to any host, sending the camera's credentials again, and has no option
to turn that off. The camera gateway feeds every byte from the camera through
:class:`RtspReplyGuard` before FFmpeg sees it; the guard raises :class:`RtspRefused` on a
3xx response or a REDIRECT request, and on anything it cannot frame exactly as FFmpeg
would, because a framing disagreement would let a camera hide a redirect from the guard
and show it to FFmpeg.

The stream is a sequence of (FFmpeg's ``ff_rtsp_read_reply`` and ``ff_rtsp_tcp_read_packet``):

- interleaved frames: ``$``, a channel byte, a 16-bit big-endian length, that many bytes.
  FFmpeg's data path does not skip frames shorter than 8 bytes but reads their payload
  as text, so such frames are refused;
- messages: lines ending in ``\\n`` (FFmpeg drops ``\\r`` anywhere in a line), the first a
  status line (``RTSP/1.0 200 OK``) or a request line (``OPTIONS * RTSP/1.0``), then
  header lines up to an empty line, then ``Content-Length`` bytes of body. A line starting
  with ``$`` inside a header block is an interleaved frame to FFmpeg, so it is refused;
  so is a ``\\r`` anywhere but before ``\\n``, a control character, a malformed header
  name (``Content-Length :`` is no Content-Length to FFmpeg), an odd or repeated
  Content-Length, an over-long line (FFmpeg truncates at 4095 bytes).

Pure logic, no I/O: the caller feeds bytes and forwards them only when ``feed`` returned.
"""

from __future__ import annotations

import re

MAX_LINE = 4095  # FFmpeg's line buffer is 4096 bytes including the terminating NUL
MAX_HEADER_LINES = 128
MAX_BODY = 1 << 20
# FFmpeg answers OPTIONS and ignores the rest; RTSP 2.0 adds PLAY_NOTIFY. Anything else
# from a camera is unexpected enough to end the connection.
SERVER_METHODS = frozenset({"OPTIONS", "GET_PARAMETER", "SET_PARAMETER", "ANNOUNCE", "PLAY_NOTIFY", "TEARDOWN"})

_STATUS_LINE = re.compile(rb"RTSP/\d{1,3}\.\d{1,3}[ \t]+(\d{3})(?:[ \t][^\x00-\x08\x0a-\x1f\x7f]*)?")
_REQUEST_LINE = re.compile(rb"([A-Z][A-Z_]{0,31})[ \t]+[\x21-\x7e]{1,4000}[ \t]+RTSP/\d{1,3}\.\d{1,3}")
# Header names are RFC 7230 tokens without '$' (a header line starting with '$' is an
# interleaved frame to FFmpeg); values hold no control characters but tab.
_HEADER_LINE = re.compile(rb"([!#%&'*+\-.^_`|~0-9A-Za-z]+):([^\x00-\x08\x0a-\x1f\x7f]*)")
_CONTENT_LENGTH = re.compile(rb"[ \t]*(\d{1,7})[ \t]*")

_START, _HEADERS = 0, 1


class RtspRefused(Exception):
    """The camera sent something FFmpeg must not see: a redirect, or bytes that do not frame."""

    def __init__(self, reason: str, *, redirect: bool = False):
        super().__init__(reason)
        self.redirect = redirect


class RtspReplyGuard:
    """Incremental parser of the camera-to-client half of an RTSP connection."""

    def __init__(self) -> None:
        self._state = _START
        self._skip = 0  # bytes of a frame payload or message body still to pass
        self._pending = b""  # an incomplete line or frame header
        self._header_lines = 0
        self._content_length: int | None = None

    def feed(self, data: bytes) -> None:
        """Check the next bytes from the camera; RtspRefused if they must not reach FFmpeg."""
        if self._pending:
            data, self._pending = self._pending + data, b""
        position, end = 0, len(data)
        while position < end:
            if self._skip:
                taken = min(self._skip, end - position)
                self._skip -= taken
                position += taken
                continue
            if self._state == _START and data[position] == 0x24:  # '$'
                if end - position < 4:
                    self._pending = data[position:]
                    return
                length = int.from_bytes(data[position + 2 : position + 4], "big")
                if length < 8:
                    raise RtspRefused(f"an interleaved frame of {length} bytes (FFmpeg would read it as text)")
                self._skip = length
                position += 4
                continue
            newline = data.find(b"\n", position, position + MAX_LINE + 2)
            if newline < 0:
                if end - position > MAX_LINE + 1:
                    raise RtspRefused(f"a line longer than {MAX_LINE} bytes")
                self._pending = data[position:]
                return
            line = data[position:newline]
            position = newline + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            self._line(line)

    def _line(self, line: bytes) -> None:
        if b"\r" in line:
            raise RtspRefused("a carriage return inside a line")
        if self._state == _START:
            self._first_line(line)
        elif line:
            self._header_line(line)
        else:
            self._state = _START
            self._skip = self._content_length or 0

    def _first_line(self, line: bytes) -> None:
        if not line:
            return  # FFmpeg reads an empty line as an empty message: nothing to act on
        self._header_lines, self._content_length = 0, None
        status = _STATUS_LINE.fullmatch(line)
        if status is not None:
            code = int(status.group(1))
            if 300 <= code < 400:
                raise RtspRefused(
                    f"the camera answered with a redirect (RTSP {code}); redirects are not followed",
                    redirect=True,
                )
            self._state = _HEADERS
            return
        if line.startswith(b"RTSP/"):
            raise RtspRefused("a malformed status line")
        request = _REQUEST_LINE.fullmatch(line)
        if request is None:
            raise RtspRefused("a line that is neither a status line nor a request")
        method = request.group(1).decode()
        if method == "REDIRECT":
            raise RtspRefused("the camera sent a REDIRECT request; redirects are not followed", redirect=True)
        if method not in SERVER_METHODS:
            raise RtspRefused(f"an unexpected {method} request from the camera")
        self._state = _HEADERS

    def _header_line(self, line: bytes) -> None:
        self._header_lines += 1
        if self._header_lines > MAX_HEADER_LINES:
            raise RtspRefused(f"more than {MAX_HEADER_LINES} header lines")
        header = _HEADER_LINE.fullmatch(line)
        if header is None:
            raise RtspRefused("a malformed header line")
        if header.group(1).lower() != b"content-length":
            return
        value = _CONTENT_LENGTH.fullmatch(header.group(2))
        if self._content_length is not None or value is None or int(value.group(1)) > MAX_BODY:
            raise RtspRefused("a repeated, malformed or oversized Content-Length")
        self._content_length = int(value.group(1))
