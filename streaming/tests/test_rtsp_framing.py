"""The gateway's reading of a camera's RTSP byte stream: redirects stop, real sessions pass.

The guard must frame bytes exactly as FFmpeg does (libavformat/rtsp.c) or refuse them: a
reply that FFmpeg reads as a 3xx while a looser parser reads it as a body, a frame or a
header would carry a redirect past it.
"""

import random

import pytest

from streaming.rtsp_framing import RtspRefused, RtspReplyGuard

SDP = (
    b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=camera\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n"
    # Text that looks like a redirect inside a body is body: FFmpeg reads it as SDP.
    b"a=x-note:RTSP/1.0 302 Moved\r\n"
)


def frame(channel: int, payload: bytes) -> bytes:
    return b"$" + bytes([channel]) + len(payload).to_bytes(2, "big") + payload


def camera_session() -> bytes:
    """What a camera sends FFmpeg from OPTIONS to streaming, server requests included."""
    rtp = bytes([0x80, 0x60]) + bytes(range(10)) + b"RTSP/1.0 302 Moved\r\nLocation: rtsp://evil/\r\n\r\n" * 3
    return b"".join(
        [
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER\r\n\r\n",
            b'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="cam", nonce="abc"\r\n\r\n',
            b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Base: rtsp://10.0.0.5/live/\r\nContent-Type: application/sdp\r\n"
            + f"Content-Length: {len(SDP)}\r\n\r\n".encode()
            + SDP,
            b"RTSP/1.0 200 OK\r\nCSeq: 4\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
            b"Session: 1234;timeout=60\r\n\r\n",
            b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nRTP-Info: url=rtsp://10.0.0.5/live/trackID=1;seq=1;rtptime=0\r\n\r\n",
            frame(0, rtp),
            frame(1, bytes(28)),  # an RTCP sender report
            b"GET_PARAMETER rtsp://10.0.0.5/live RTSP/1.0\r\nCSeq: 1\r\nSession: 1234\r\n\r\n",
            b"\r\n",  # a stray empty line: an empty message to FFmpeg
            frame(0, rtp * 20),
            b"RTSP/1.0 200 OK\r\nCSeq: 6\r\nSession: 1234\r\n\r\n",
        ]
    )


def feed_in_pieces(data: bytes, sizes: list[int]) -> None:
    guard, position = RtspReplyGuard(), 0
    for size in sizes:
        guard.feed(data[position : position + size])
        position += size
    guard.feed(data[position:])


def test_a_real_session_passes_whole_byte_by_byte_and_split_anywhere() -> None:
    session = camera_session()
    generator = random.Random(10)

    RtspReplyGuard().feed(session)
    feed_in_pieces(session, [1] * len(session))
    for _ in range(50):
        feed_in_pieces(session, [generator.randint(1, 40) for _ in range(len(session) // 10)])


@pytest.mark.parametrize("status", [300, 301, 302, 303, 305, 307, 308, 350, 399])
def test_every_3xx_reply_is_refused_as_a_redirect(status: int) -> None:
    with pytest.raises(RtspRefused) as refused:
        RtspReplyGuard().feed(f"RTSP/1.0 {status} Moved\r\nLocation: rtsp://127.0.0.2/\r\n\r\n".encode())

    assert refused.value.redirect
    assert str(status) in str(refused.value)


def test_a_redirect_request_from_the_camera_is_refused() -> None:
    with pytest.raises(RtspRefused) as refused:
        RtspReplyGuard().feed(b"REDIRECT rtsp://cam/x RTSP/1.0\r\nCSeq: 1\r\nLocation: rtsp://127.0.0.2/\r\n\r\n")

    assert refused.value.redirect


def test_a_redirect_after_streaming_has_started_is_refused() -> None:
    guard = RtspReplyGuard()
    guard.feed(camera_session())

    with pytest.raises(RtspRefused):
        guard.feed(frame(0, bytes(100)) + b"RTSP/1.0 302 Moved\r\nLocation: rtsp://127.0.0.2/\r\n\r\n")


def test_the_chunk_that_completes_a_redirect_status_line_is_refused_before_it_passes() -> None:
    guard = RtspReplyGuard()
    guard.feed(b"RTSP/1.0 30")  # nothing FFmpeg can act on: a line is not a reply until its end

    with pytest.raises(RtspRefused):
        guard.feed(b"2 Moved\r\nLocation: rtsp://127.0.0.2/\r\n\r\n")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        # FFmpeg drops \r anywhere in a line: "3\r02" is 302 to it.
        (b"RTSP/1.0 3\r02 Moved\r\nLocation: rtsp://x/\r\n\r\n", "carriage return"),
        # FFmpeg skips leading blanks before the first word.
        (b" RTSP/1.0 302 Moved\r\nLocation: rtsp://x/\r\n\r\n", "neither a status line"),
        (b"RTSP/1.0  302\r\n\r\n", "redirect"),  # two blanks are one separator to FFmpeg too
        (b"RTSP/1.0 0302 Moved\r\n\r\n", "malformed status"),  # atoi reads 302
        (b"RTSP/1.0 302abc\r\n\r\n", "malformed status"),  # atoi reads 302
        # The data path does not skip frames under 8 bytes: their payload is read as text.
        (frame(0, b"RTSP") + b"/1.0 302 Moved\r\n\r\n", "interleaved frame of 4 bytes"),
        # strtol then int: 4294967297 is a 1-byte body to FFmpeg.
        (b"RTSP/1.0 200 OK\r\nContent-Length: 4294967297\r\n\r\nX", "content-length"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n", "content-length"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: 12abc\r\n\r\n", "content-length"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n", "repeated"),
        # "Content-Length :" is no length to FFmpeg, which would read the body as a reply.
        (b"RTSP/1.0 200 OK\r\nContent-Length : 5\r\n\r\n", "malformed header"),
        (b"RTSP/1.0 200 OK\r\n Content-Length: 5\r\n\r\n", "malformed header"),
        # A '$' starting a header line is an interleaved frame to FFmpeg.
        (b"RTSP/1.0 200 OK\r\n$\x00\x00\x08abcdefgh\r\n\r\n", "malformed header"),
        (b"RTSP/1.0 200 OK\r\nServer: cam\x00era\r\n\r\n", "malformed header"),
        (b"RTSP/1.0 200 OK\r\n" + b"X-Long: " + b"a" * 5000 + b"\r\n\r\n", "longer than"),
        (b"RTSP/1.0 200 OK\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n", "header lines"),
        (b"rtsp/1.0 302 Moved\r\n\r\n", "neither a status line"),
        (b"PLAY rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n", "unexpected play request"),
        (b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2/\r\n\r\n", "neither a status line"),
    ],
)
def test_bytes_that_do_not_frame_as_ffmpeg_frames_them_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(RtspRefused) as refused:
        feed_in_pieces(data, [3] * (len(data) // 3))

    assert reason in str(refused.value).lower()


def test_a_body_that_spans_many_chunks_is_skipped_whatever_it_holds() -> None:
    body = b"RTSP/1.0 302 Moved\r\nLocation: rtsp://127.0.0.2/\r\n\r\n" * 1000
    guard = RtspReplyGuard()
    guard.feed(f"RTSP/1.0 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    for start in range(0, len(body), 1000):
        guard.feed(body[start : start + 1000])

    with pytest.raises(RtspRefused):
        guard.feed(b"RTSP/1.0 302 Moved\r\n\r\n")  # the next message is judged again
