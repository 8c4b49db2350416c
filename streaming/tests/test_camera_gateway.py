"""Hostile camera URLs and hostile cameras never make FFmpeg open a forbidden address.

The permanent guard of security issue #10 (camera connections). Each case runs the
pipeline's real open path (run_stream: URL checks, the camera gateway, FFmpeg through
PyAV) against tiny fake RTSP servers on 127.0.0.1 and with recording listeners on
127.0.0.2, 127.0.0.3, ::1 and on a port of 127.0.0.1 that is not the camera's. Whatever
the URL (schemes, encodings, IPv6 forms), the camera's replies (3xx redirects, REDIRECT
requests, framing tricks that would hide a redirect from a naive parser), the DNS answer
at connect time or the certificate an rtsps:// camera shows, each case asserts:

- the stream fails with a reason that says why (so the refusal is the one expected);
- no recording listener ever saw a connection (nor so the camera's credentials);
- where the registered camera asks for credentials, it got them, and only it did;
- no gateway thread outlives the pipeline.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streaming.camera_gateway import CameraAccess, CameraGateway, CameraTarget
from streaming.pipeline import PipelineOptions, run_stream
from streaming.tests.fake_cameras import (
    Certificate,
    FakeCamera,
    RecordingListener,
    Request,
    Script,
    TlsTerminator,
    ca_certificate,
    certificate,
    ok,
    options_then,
    redirect,
)
from streaming.tests.test_pipeline import (  # noqa: F401 (fixtures)
    Recorder,
    RtspServer,
    looped_clip,
    needs_av,
    needs_rtsp_server,
    server,
)

SECRET = "s3cret-pw"
# Short timeouts: a hostile case ends in well under a second; none waits on a stall.
FAST = PipelineOptions(
    open_timeout_s=4, stall_timeout_s=4, max_reconnects=0, backoff_initial_s=0.1, detector=lambda luma: []
)
WIDE_IPV6 = ("127.0.0.1", "::/0")
Ports = dict[str, int]


@dataclass(frozen=True)
class Hostile:
    name: str
    url: str  # {camera}: the fake camera's 127.0.0.1:port; {l1} {l2} {l3} {l6}: listener ports
    expect: str  # a fragment of the stream's last_error
    allowances: tuple[str, ...] = ("127.0.0.1",)
    camera: Callable[[Ports], Script] | None = None
    basic_auth: bool = False
    dns: tuple[str, ...] | None = None  # the simulated DNS answer for every name
    tls: str | None = None  # the camera's certificate: "self-signed", "ca-signed", "ca-signed-other-name"
    tls_verify: bool = True
    pin: str | None = None  # "right" or "wrong"
    credentials: str | None = None  # what the registered camera must receive (decoded Basic)


def to(status: int, location: str) -> Callable[[Ports], Script]:
    """A camera whose DESCRIBE answer is a `status` redirect to `location` (ports filled in)."""
    return lambda ports: options_then(redirect(status, location.format(**ports)))


def raw(reply: str, *, on: str = "DESCRIBE") -> Callable[[Ports], Script]:
    """A camera answering `on` with exactly `reply` (ports and {cseq} filled in), OPTIONS with 200."""

    def factory(ports: Ports) -> Script:
        def script(request: Request) -> bytes | list[bytes] | None:
            if request.method == on:
                return reply.format(cseq=request.cseq, **ports).encode("latin-1")
            if request.method == "OPTIONS":
                return ok(request, "Public: OPTIONS, DESCRIBE, SETUP, PLAY\r\n")
            return None

        return script

    return factory


def byte_by_byte(status: int, location: str) -> Callable[[Ports], Script]:
    """A redirect sent one byte per TCP write: the guard must judge a reply split anywhere."""

    def factory(ports: Ports) -> Script:
        answer = redirect(status, location.format(**ports))
        return options_then(lambda request: [bytes([byte]) for byte in answer(request)])

    return factory


REDIRECT_302 = "RTSP/1.0 302 Moved\r\nCSeq: {cseq}\r\nLocation: rtsp://127.0.0.2:{l2}/x\r\n\r\n"

CASES = [
    # Schemes and syntax: refused before anything is opened.
    Hostile("file-scheme", "file:///etc/passwd", "only rtsp://"),
    Hostile("http-scheme", "http://127.0.0.2:{l2}/live.m3u8", "only rtsp://"),
    Hostile("tcp-scheme", "tcp://127.0.0.2:{l2}", "only rtsp://"),
    Hostile("tls-scheme", "tls://127.0.0.2:{l2}", "only rtsp://"),
    Hostile("rtmp-scheme", "rtmp://127.0.0.2:{l2}/live", "only rtsp://"),
    Hostile("concat-protocol", "concat:rtsp://127.0.0.2:{l2}/a|rtsp://127.0.0.3:{l3}/b", "not allowed"),
    Hostile("subfile-protocol", "subfile,,start,0,end,0,,:rtsp://127.0.0.2:{l2}/", "only rtsp://"),
    Hostile("uppercase-scheme", "RTSP://127.0.0.2:{l2}/x", "127.0.0.2 is a loopback"),
    Hostile("rtsps-to-loopback", "rtsps://127.0.0.2:{l2}/x", "127.0.0.2 is a loopback"),
    # One forbidden address in many spellings (the allowlist holds 127.0.0.1 only).
    Hostile("plain-loopback", "rtsp://user:" + SECRET + "@127.0.0.2:{l2}/", "127.0.0.2 is a loopback"),
    Hostile("short-dotted", "rtsp://127.2:{l2}/", "resolves to 127.0.0.2"),
    Hostile("decimal", "rtsp://2130706434:{l2}/", "resolves to 127.0.0.2"),
    Hostile("hexadecimal", "rtsp://0x7f000002:{l2}/", "resolves to 127.0.0.2"),
    Hostile("octal", "rtsp://0177.0.0.2:{l2}/", "resolves to 127.0.0.2"),
    Hostile("trailing-dot", "rtsp://127.0.0.2.:{l2}/", "needs a host"),
    Hostile("percent-encoded-host", "rtsp://127%2e0%2e0%2e2:{l2}/", "needs a host"),
    Hostile("allowed-host-as-userinfo", "rtsp://127.0.0.1:{l1}@127.0.0.2:{l2}/", "127.0.0.2 is a loopback"),
    Hostile("encoded-at-in-user", "rtsp://user%40127.0.0.3:" + SECRET + "@127.0.0.2:{l2}/", "127.0.0.2 is a loop"),
    Hostile("at-in-fragment", "rtsp://127.0.0.1:{l1}#@127.0.0.2:{l2}/", "'@' is only allowed"),
    Hostile("at-in-query", "rtsp://127.0.0.1:{l1}/x?@127.0.0.2:{l2}", "'@' is only allowed"),
    Hostile("backslash", "rtsp://127.0.0.1:{l1}\\@127.0.0.2:{l2}/", "not allowed"),
    Hostile("bracketed-ipv4", "rtsp://[127.0.0.2]:{l2}/", "malformed"),
    Hostile("unspecified-via-wide-range", "rtsp://0.0.0.0:{l1}/", "0.0.0.0 is a loopback", ("0.0.0.0/0",)),
    Hostile("zero-shorthand", "rtsp://0:{l1}/", "resolves to 0.0.0.0", ("0.0.0.0/0",)),
    Hostile("loopback-not-listed", "rtsp://127.0.0.1:{l1}/", "is a loopback", ("10.0.0.0/8",)),
    # IPv6 forms that carry an IPv4 address, with a wide IPv6 range allowlisted.
    Hostile("ipv4-mapped", "rtsp://[::ffff:127.0.0.2]:{l2}/", "that is 127.0.0.2", WIDE_IPV6),
    Hostile("ipv4-mapped-hex", "rtsp://[::ffff:7f00:2]:{l2}/", "that is 127.0.0.2", WIDE_IPV6),
    Hostile("ipv4-mapped-long", "rtsp://[0:0:0:0:0:ffff:127.0.0.2]:{l2}/", "that is 127.0.0.2", WIDE_IPV6),
    Hostile("ipv4-mapped-upper", "rtsp://[::FFFF:127.0.0.3]:{l3}/", "that is 127.0.0.3", WIDE_IPV6),
    Hostile("ipv4-mapped-metadata", "rtsp://[::ffff:169.254.169.254]:{l2}/", "that is 169.254.169.254", WIDE_IPV6),
    Hostile("ipv4-mapped-unspecified", "rtsp://[::ffff:0.0.0.0]:{l1}/", "that is 0.0.0.0", WIDE_IPV6),
    Hostile("ipv4-compatible", "rtsp://[::127.0.0.2]:{l2}/", "that is 127.0.0.2", WIDE_IPV6),
    Hostile("nat64", "rtsp://[64:ff9b::7f00:2]:{l2}/", "that is 127.0.0.2", WIDE_IPV6),
    Hostile("nat64-local-use", "rtsp://[64:ff9b:1::7f00:2]:{l2}/", "special address", WIDE_IPV6),
    Hostile("6to4", "rtsp://[2002:7f00:2::1]:{l2}/", "that is 127.0.0.2", WIDE_IPV6),
    Hostile("teredo", "rtsp://[2001:0:4136:e378:8000:63bf:80ff:fffd]:{l2}/", "that is 127.0.0.2", WIDE_IPV6),
    Hostile("ipv6-loopback", "rtsp://[::1]:{l6}/", "::1 is a loopback", WIDE_IPV6),
    Hostile("ipv6-unspecified", "rtsp://[::]:{l6}/", ":: is a loopback", WIDE_IPV6),
    Hostile("ipv6-link-local", "rtsp://[fe80::1]:{l6}/", "fe80::1 is a loopback", WIDE_IPV6),
    # The camera, at its allowed address, redirects elsewhere: FFmpeg would follow with the
    # credentials; the gateway ends the connection before FFmpeg reads the reply.
    Hostile("describe-302", "rtsp://{camera}/x", "redirect (rtsp 302)", camera=to(302, "rtsp://127.0.0.2:{l2}/x")),
    Hostile("describe-301-same-host", "rtsp://{camera}/x", "rtsp 301", camera=to(301, "rtsp://127.0.0.1:{l1}/x")),
    Hostile("describe-303-ipv6", "rtsp://{camera}/x", "rtsp 303", camera=to(303, "rtsp://[::1]:{l6}/x")),
    Hostile("describe-305-proxy", "rtsp://{camera}/", "rtsp 305", camera=to(305, "rtsp://u:p@127.0.0.3:{l3}/")),
    Hostile("describe-307-rtsps", "rtsp://{camera}/", "rtsp 307", camera=to(307, "rtsps://127.0.0.2:{l2}/")),
    Hostile(
        "options-302",
        "rtsp://{camera}/x",
        "rtsp 302",
        camera=raw(REDIRECT_302.replace("{l2}", "{l3}").replace("127.0.0.2", "127.0.0.3"), on="OPTIONS"),
    ),
    Hostile(
        "redirect-request",
        "rtsp://{camera}/x",
        "redirect request",
        camera=raw("REDIRECT rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\nLocation: rtsp://127.0.0.2:{l2}/x\r\n\r\n"),
    ),
    Hostile("302-byte-by-byte", "rtsp://{camera}/x", "rtsp 302", camera=byte_by_byte(302, "rtsp://127.0.0.2:{l2}/")),
    Hostile(
        "302-bare-newlines",
        "rtsp://{camera}/x",
        "rtsp 302",
        camera=raw("RTSP/1.0 302 Moved\nCSeq: {cseq}\nLocation: rtsp://127.0.0.2:{l2}/x\n\n"),
    ),
    # Framing tricks: a reply FFmpeg reads as a 302 but a naive parser would not.
    Hostile(
        "carriage-return-in-status",
        "rtsp://{camera}/x",
        "carriage return",
        camera=raw(REDIRECT_302[:10] + "\r" + REDIRECT_302[10:]),
    ),
    Hostile("leading-space-status", "rtsp://{camera}/x", "neither a status line", camera=raw(" " + REDIRECT_302)),
    Hostile(
        "short-interleaved-frame",
        "rtsp://{camera}/x",
        "interleaved frame of 4 bytes",
        camera=raw("$\x00\x00\x04" + REDIRECT_302),
    ),
    Hostile(
        "content-length-overflow",
        "rtsp://{camera}/x",
        "content-length",
        # strtol then int: FFmpeg reads a 1-byte body, then the 302 as the next reply.
        camera=raw("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length: 4294967297\r\n\r\nX" + REDIRECT_302),
    ),
    Hostile(
        "content-length-with-space",
        "rtsp://{camera}/x",
        "malformed header",
        # "Content-Length :" is no length to FFmpeg: the "body" is the next reply to it.
        camera=raw("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Length : 73\r\n\r\n" + REDIRECT_302),
    ),
    Hostile(
        "dollar-line-in-headers",
        "rtsp://{camera}/x",
        "malformed header",
        camera=raw("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n$\x00\x00\x08abcdefgh\r\n\r\n" + REDIRECT_302),
    ),
    # Credentials with odd characters go to the registered camera (which asks for them)
    # and nowhere else, even when it then redirects.
    Hostile(
        "encoded-at-in-password",
        "rtsp://user:p%40ss@{camera}/x",
        "rtsp 302",
        camera=to(302, "rtsp://127.0.0.2:{l2}/x"),
        basic_auth=True,
        credentials="user:p@ss",
    ),
    Hostile(
        "encoded-colon-in-user",
        "rtsp://us%3Aer:pa%3Ass@{camera}/",
        "rtsp 302",
        camera=to(302, "rtsp://127.0.0.3:{l3}/"),
        basic_auth=True,
        credentials="us:er:pa:ss",
    ),
    Hostile(
        "address-in-password",
        "rtsp://user:pa:ss:127.0.0.2@{camera}/",
        "rtsp 301",
        camera=to(301, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        credentials="user:pa:ss:127.0.0.2",
    ),
    Hostile(
        "encoded-newline-in-password",
        "rtsp://user:x%0d%0aLocation:%20rtsp:%2f%2f127.0.0.2@{camera}/",
        "rtsp 302",
        camera=to(302, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        credentials="user:x\r\nLocation: rtsp://127.0.0.2",
    ),
    Hostile(
        "empty-password",
        "rtsp://admin:@{camera}/",
        "rtsp 302",
        camera=to(302, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        credentials="admin:",
    ),
    Hostile(
        "punctuation-in-password",
        "rtsp://user:" + SECRET + "!*+=,~@{camera}/",
        "rtsp 302",
        camera=to(302, "rtsp://[::1]:{l6}/"),
        basic_auth=True,
        credentials="user:" + SECRET + "!*+=,~",
    ),
    Hostile(
        "credentials-to-mapped", "rtsp://user:" + SECRET + "@[::ffff:127.0.0.2]:{l2}/", "that is 127.0.0.2", WIDE_IPV6
    ),
    # DNS answers at connect time (simulated at the gateway's resolver).
    Hostile("name-to-loopback", "rtsp://cam.test:{l2}/", "resolves to 127.0.0.2", ("cam.test",), dns=("127.0.0.2",)),
    Hostile(
        "name-to-mixed-answer",
        "rtsp://cam.test:{l2}/",
        "resolves to 127.0.0.2",
        ("10.0.0.0/8",),
        dns=("10.1.2.3", "127.0.0.2"),
    ),
    Hostile("name-to-mapped", "rtsp://cam.test:{l3}/", "that is 127.0.0.3", ("::/0",), dns=("::ffff:127.0.0.3",)),
    Hostile(
        "name-to-metadata",
        "rtsp://cam.test/",
        "resolves to 169.254.169.254",
        ("169.254.0.0/16",),
        dns=("169.254.169.254",),
    ),
    Hostile("name-to-ipv6-loopback", "rtsp://cam.test:{l6}/", "resolves to ::1", ("cam.test", "::/0"), dns=("::1",)),
    Hostile("name-to-unspecified", "rtsp://cam.test:{l1}/", "to 0.0.0.0", ("0.0.0.0/0",), dns=("0.0.0.0",)),  # noqa: S104
    Hostile(
        "listed-name-to-loopback",
        "rtsp://cam.test:{l1}/",
        "resolves to 127.0.0.1",
        ("10.0.0.0/8", "cam.test"),
        dns=("127.0.0.1",),
    ),
    Hostile("localhost-listed-by-name", "rtsp://localhost:{l1}/", "resolves to 127.0.0.1", ("localhost",)),
    Hostile("name-not-resolving", "rtsp://cam.test:{l2}/", "does not resolve", ("cam.test",), dns=()),
    # rtsps://: the certificate decides before FFmpeg's first byte is sent.
    Hostile(
        "self-signed-refused",
        "rtsps://user:" + SECRET + "@{camera}/",
        "failed verification",
        camera=to(302, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        tls="self-signed",
    ),
    Hostile(
        "wrong-pin-refused",
        "rtsps://user:" + SECRET + "@{camera}/",
        "does not match the pinned",
        camera=to(302, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        tls="self-signed",
        tls_verify=False,
        pin="wrong",
    ),
    Hostile(
        "pin-does-not-skip-verification",
        "rtsps://user:" + SECRET + "@{camera}/",
        "failed verification",
        camera=to(302, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        tls="self-signed",
        pin="right",
    ),
    Hostile(
        "ca-signed-other-name",
        "rtsps://user:" + SECRET + "@{camera}/",
        "failed verification",
        camera=to(302, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        tls="ca-signed-other-name",
    ),
    Hostile(
        "right-pin-then-redirect",
        "rtsps://user:" + SECRET + "@{camera}/",
        "rtsp 302",
        camera=to(302, "rtsp://127.0.0.2:{l2}/"),
        basic_auth=True,
        tls="self-signed",
        tls_verify=False,
        pin="right",
        credentials="user:" + SECRET,
    ),
    Hostile(
        "ca-verified-then-redirect",
        "rtsps://user:" + SECRET + "@{camera}/",
        "rtsp 302",
        camera=to(302, "rtsps://127.0.0.3:{l3}/"),
        basic_auth=True,
        tls="ca-signed",
        credentials="user:" + SECRET,
    ),
]


@dataclass
class Listeners:
    by_name: dict[str, RecordingListener]

    @property
    def ports(self) -> Ports:
        return {name: listener.port for name, listener in self.by_name.items()}

    def take(self) -> dict[str, list]:
        return {name: listener.take() for name, listener in self.by_name.items()}


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def listeners() -> Iterator[Listeners]:
    hosts = {"l1": "127.0.0.1", "l2": "127.0.0.2", "l3": "127.0.0.3"}
    # Without IPv6 on the machine nothing can reach ::1 either; 127.0.0.3 stands in.
    hosts["l6"] = "::1" if _ipv6_loopback() else "127.0.0.3"
    made = Listeners({name: RecordingListener(host) for name, host in hosts.items()})
    try:
        yield made
    finally:
        for listener in made.by_name.values():
            listener.close()


@pytest.fixture(scope="module")
def certificates() -> dict[str, Certificate]:
    authority = ca_certificate()
    return {
        "ca": authority,
        "self-signed": certificate(common_name="127.0.0.1", ip="127.0.0.1"),
        "ca-signed": certificate(common_name="127.0.0.1", ip="127.0.0.1", issuer=authority),
        "ca-signed-other-name": certificate(common_name="camera.example", dns="camera.example", issuer=authority),
        "unrelated": certificate(common_name="other", ip="127.0.0.1"),
    }


def _gateway_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("camera-gateway")]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_camera_never_makes_ffmpeg_open_a_forbidden_address(
    case: Hostile,
    needs_av: None,  # noqa: F811 (the fixture imported above)
    listeners: Listeners,
    certificates: dict[str, Certificate],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listeners.take()  # start from empty queues
    ports = listeners.ports
    camera = None
    if case.camera is not None:
        tls = certificates[case.tls].server_context(tmp_path) if case.tls else None
        camera = FakeCamera(case.camera(ports), basic_auth=case.basic_auth, tls=tls)
    if case.tls == "ca-signed" or case.tls == "ca-signed-other-name":
        ca_file = tmp_path / "ca.pem"
        ca_file.write_bytes(certificates["ca"].cert_pem)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the gateway's default context trusts it
    pinned = {"right": case.tls, "wrong": "unrelated"}.get(case.pin or "")
    access = CameraAccess(
        allowances=case.allowances,
        tls_verify=case.tls_verify,
        tls_fingerprint_sha256=hashlib.sha256(certificates[pinned].der).digest() if pinned else None,
        resolve=(lambda host, port: list(case.dns or ())) if case.dns is not None else None,
    )
    url = case.url.format(camera=camera.address if camera else "127.0.0.1:1", **ports)
    recorder = Recorder()
    try:
        run_stream(
            url=url,
            access=access,
            output_dir=tmp_path / "hls",
            options=FAST,
            should_stop=lambda: False,
            on_status=recorder,
        )
    finally:
        if camera is not None:
            camera.close()

    seen = listeners.take()
    assert all(not connections for connections in seen.values()), f"forbidden connections: {seen}"
    final = recorder.statuses[-1]
    assert final.state == "failed", recorder.states()
    assert case.expect.lower() in final.last_error.lower(), final.last_error
    assert SECRET not in final.last_error
    if case.credentials is not None:
        assert camera is not None and camera.authorizations, "the registered camera never got the credentials"
        assert set(camera.authorizations) == {case.credentials}
    if case.tls is not None and case.credentials is None:
        assert camera is not None and not camera.requests, "FFmpeg's request reached a camera that failed TLS"
    assert not (tmp_path / "hls" / "index.m3u8").exists()
    assert not _gateway_threads(), "a gateway thread outlived its pipeline"


def test_there_are_at_least_forty_hostile_cases() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


def test_recording_listeners_do_see_a_camera_that_is_allowed(
    needs_av: None,  # noqa: F811 (the fixture imported above)
    listeners: Listeners,
    tmp_path: Path,
) -> None:
    """The other side of every case above: the listeners would have noticed a connection."""
    listeners.take()
    recorder = Recorder()
    options = PipelineOptions(open_timeout_s=1, stall_timeout_s=1, max_reconnects=0, detector=lambda luma: [])

    run_stream(
        url=f"rtsp://user:{SECRET}@127.0.0.2:{listeners.ports['l2']}/x",
        access=CameraAccess(allowances=("127.0.0.2",)),
        output_dir=tmp_path / "hls",
        options=options,
        should_stop=lambda: False,
        on_status=recorder,
    )

    seen = listeners.take()
    assert len(seen["l2"]) == 1, seen
    assert seen["l2"][0].data.startswith(b"OPTIONS rtsp://127.0.0.1:")  # FFmpeg's first request, relayed
    assert not seen["l1"] and not seen["l3"] and not seen["l6"]
    assert recorder.statuses[-1].state == "failed"  # it never answers


@pytest.mark.parametrize("trust", ["pinned-self-signed", "ca-verified"])
def test_an_rtsps_camera_streams_through_the_gateway_when_its_certificate_is_trusted(
    trust: str,
    server: RtspServer,  # noqa: F811 (the fixture imported above)
    certificates: dict[str, Certificate],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real camera (GStreamer) behind TLS: the stream goes live, and stops cleanly."""
    if trust == "pinned-self-signed":
        shown = certificates["self-signed"]
        access = CameraAccess(
            allowances=("127.0.0.1",), tls_verify=False, tls_fingerprint_sha256=hashlib.sha256(shown.der).digest()
        )
    else:
        shown = certificates["ca-signed"]
        (tmp_path / "ca.pem").write_bytes(certificates["ca"].cert_pem)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        access = CameraAccess(allowances=("127.0.0.1",))
    recorder, stop = Recorder(), threading.Event()
    options = PipelineOptions(max_width=320, max_height=180, detector=lambda luma: [])
    with TlsTerminator(shown.server_context(tmp_path), server.port) as tls:
        runner = threading.Thread(
            target=run_stream,
            kwargs={
                "url": f"rtsps://viewer:{SECRET}@127.0.0.1:{tls.port}/test",
                "access": access,
                "output_dir": tmp_path / "hls",
                "options": options,
                "should_stop": stop.is_set,
                "on_status": recorder,
            },
            daemon=True,
        )
        runner.start()
        try:
            deadline = time.monotonic() + 30
            while "live" not in recorder.states() and time.monotonic() < deadline and runner.is_alive():
                time.sleep(0.1)
        finally:
            stop.set()
            runner.join(timeout=20)

    assert "live" in recorder.states(), recorder.statuses[-1].last_error
    assert not runner.is_alive()
    assert recorder.states()[-1] == "stopped"
    assert not _gateway_threads(), "the gateway thread outlived its pipeline"


def test_the_gateway_relays_one_connection_only(tmp_path: Path) -> None:
    """FFmpeg makes one connection; a second one (another local process) is closed unserved."""
    camera = FakeCamera(options_then(lambda request: ok(request)))
    target = CameraTarget.from_url(f"rtsp://127.0.0.1:{camera.port}/x")
    try:
        with CameraGateway(target=target, access=CameraAccess(allowances=("127.0.0.1",))) as gateway:
            with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as first:
                first.sendall(b"OPTIONS rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\n\r\n")
                answer = first.recv(4096)
                with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as second:
                    second.sendall(b"OPTIONS rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\n\r\n")
                    try:
                        unserved = second.recv(4096)
                    except ConnectionResetError:
                        unserved = b""
    finally:
        camera.close()

    assert answer.startswith(b"RTSP/1.0 200 OK")
    assert unserved == b""
    assert camera.connections == 1
    assert not _gateway_threads()
