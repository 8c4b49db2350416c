"""The camera gateway: FFmpeg's only way out to a camera.

FFmpeg, given a camera URL, resolves the host itself, follows any RTSP redirect to any
host with the camera's credentials (libavformat/rtsp.c has no option against it) and,
for ``rtsps://``, accepts any certificate. So FFmpeg is never given the camera's address:
it gets ``rtsp://user:password@127.0.0.1:<port>/<path>`` where this gateway listens,
with ``protocol_whitelist=rtsp,tcp`` and TCP interleaved transport, so every request and
every video packet travels over that one connection. For each connection FFmpeg opens,
the gateway

1. resolves the registered host (never a host from the camera's replies) and checks every
   address against the site's allowlist with :func:`camera_addresses.address_refusal`,
   the rule registration uses; one refused address refuses the connection;
2. connects to a checked address itself (no second DNS query, so no rebinding window);
3. for ``rtsps://`` speaks TLS to the camera: the system's CA store and the host name,
   and/or a pinned SHA-256 fingerprint of the camera's certificate (a self-signed camera
   opts out of CA verification only with a pin);
4. relays bytes both ways, feeding the camera's through :class:`RtspReplyGuard`, which
   refuses redirects and anything that does not frame as FFmpeg frames it.

A refusal closes both sides and is kept in :attr:`CameraGateway.refusal` for the pipeline
to report. FFmpeg never sends the credentials anywhere but here, and from here they go
only to the registered host's checked address.

One gateway per connection attempt of the pipeline; its thread runs an asyncio loop
(TLS without a thread per direction) and ends with :meth:`CameraGateway.close`.
No Django imports: the pipeline and the tests use it directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import hmac
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from streaming.camera_addresses import Allowlist, IPAddress, Resolver, address_refusal, host_addresses
from streaming.rtsp_framing import RtspRefused, RtspReplyGuard

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322}
CHUNK = 64 * 1024


class CameraRefused(Exception):
    """A camera connection refused for safety (address, redirect, certificate): not a
    network hiccup that reconnecting would fix."""


class _Unresolved(OSError):
    """The camera's host name has no address (now): a network problem, retried."""


@dataclass(frozen=True)
class CameraAccess:
    """What the gateway may do for one camera: where it may connect, how it trusts TLS."""

    allowances: tuple[str, ...]  # the site's camera allowlist entries
    tls_verify: bool = True  # rtsps: check the chain against the system CAs and the host name
    tls_fingerprint_sha256: bytes | None = None  # rtsps: the certificate's SHA-256 must be this
    resolve: Resolver | None = None  # None: the system resolver, looked up at connect time

    def __post_init__(self) -> None:
        if self.tls_fingerprint_sha256 is not None and len(self.tls_fingerprint_sha256) != 32:
            raise ValueError("a SHA-256 fingerprint is 32 bytes")
        if not self.tls_verify and self.tls_fingerprint_sha256 is None:
            raise ValueError("TLS verification may be turned off only with a pinned fingerprint")


@dataclass(frozen=True)
class CameraTarget:
    """The registered camera, split from its URL once: nothing later re-reads a host."""

    scheme: str
    host: str  # an IPv6 literal without brackets
    port: int
    credentials: str | None  # "user:password" as the URL has them (percent-encoding kept)
    path: str  # path and ?query

    @classmethod
    def from_url(cls, url: str) -> CameraTarget:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("only rtsp:// and rtsps:// URLs with a host")
        netloc = parts.netloc
        credentials = netloc.rpartition("@")[0] if "@" in netloc else None
        if credentials is not None and any(char in credentials for char in "@/?#[] \t\r\n"):
            raise ValueError("the credentials hold characters that would move the host FFmpeg sees")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return cls(scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme], credentials, path)

    @property
    def address_text(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class CameraGateway:
    """A listener on 127.0.0.1 that relays FFmpeg's connections to the registered camera."""

    def __init__(self, *, target: CameraTarget, access: CameraAccess, connect_timeout_s: float = 10.0):
        self.target = target
        self.access = access
        self.connect_timeout_s = connect_timeout_s
        self.refusal: str | None = None  # why a connection was refused for safety
        self.failure: str | None = None  # why the camera could not be reached (network)
        self._served = False
        self._allowlist = Allowlist.parse(access.allowances)
        self._loop = asyncio.new_event_loop()
        # DNS in a thread of its own, left behind rather than waited for when closing:
        # a resolver stuck for a minute must not hold the pipeline's stop.
        self._resolver = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="camera-dns")
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=f"camera-gateway-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """What FFmpeg opens: the camera's path and credentials, the gateway's address."""
        credentials = f"{self.target.credentials}@" if self.target.credentials is not None else ""
        return f"rtsp://{credentials}127.0.0.1:{self.port}{self.target.path}"

    def close(self) -> None:
        """Stop relaying, close every socket and end the thread."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop already stopped on its own
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> CameraGateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ in the loop thread

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(asyncio.start_server(self._serve, sock=self._listener))
        try:
            loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._resolver.shutdown(wait=False, cancel_futures=True)
            loop.close()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._served:
            # FFmpeg makes one connection (TCP interleaved, no redirects); any other is a
            # local process trying to use the gateway as a way to the camera.
            client_writer.transport.abort()
            return
        self._served = True
        camera_writer: asyncio.StreamWriter | None = None
        try:
            try:
                camera_reader, camera_writer = await self._camera_open()
            except CameraRefused as error:
                self._refuse(str(error))
                return
            except (TimeoutError, OSError) as error:
                self.failure = _network_reason(error, self.target)
                return
            await self._relay(client_reader, client_writer, camera_reader, camera_writer)
        finally:
            # abort: no lingering close handshake with a peer that may never answer.
            client_writer.transport.abort()
            if camera_writer is not None:
                camera_writer.transport.abort()

    def _refuse(self, reason: str) -> None:
        if self.refusal is None:  # the first reason is the cause; later ones are its echoes
            self.refusal = reason

    async def _camera_open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        target, loop = self.target, asyncio.get_running_loop()
        try:
            addresses = await asyncio.wait_for(
                loop.run_in_executor(self._resolver, host_addresses, target.host, target.port, self.access.resolve),
                self.connect_timeout_s,
            )
        except TimeoutError:
            raise _Unresolved(f"{target.host} does not resolve (no answer in {self.connect_timeout_s:g} s)")
        except (OSError, ValueError) as error:
            detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise _Unresolved(f"{target.host} does not resolve ({detail})")
        self._addresses_check(addresses)
        context = _tls_context(self.access) if target.scheme == "rtsps" else None
        last_error: Exception | None = None
        for address in addresses:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(
                        str(address),
                        target.port,
                        ssl=context,
                        server_hostname=target.host if context is not None else None,
                    ),
                    self.connect_timeout_s,
                )
            except ssl.SSLCertVerificationError as error:
                raise CameraRefused(f"the camera's TLS certificate failed verification: {error.verify_message}")
            except (TimeoutError, OSError) as error:
                last_error = error
                continue
            if context is not None:
                self._pin_check(writer)
            return reader, writer
        assert last_error is not None  # host_addresses never returns an empty list
        raise last_error

    def _addresses_check(self, addresses: list[IPAddress]) -> None:
        for address in addresses:
            refusal = address_refusal(host=self.target.host, address=address, allowlist=self._allowlist)
            if refusal is not None:
                raise CameraRefused(refusal)

    def _pin_check(self, writer: asyncio.StreamWriter) -> None:
        pin = self.access.tls_fingerprint_sha256
        if pin is None:
            return
        tls = writer.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        if not der or not hmac.compare_digest(hashlib.sha256(der).digest(), pin):
            writer.transport.abort()
            raise CameraRefused("the camera's TLS certificate does not match the pinned SHA-256 fingerprint")

    async def _relay(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        camera_reader: asyncio.StreamReader,
        camera_writer: asyncio.StreamWriter,
    ) -> None:
        upstream = asyncio.ensure_future(_pipe(client_reader, camera_writer))
        downstream = asyncio.ensure_future(_pipe(camera_reader, client_writer, RtspReplyGuard()))
        try:
            done, _ = await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (upstream, downstream):
                task.cancel()
            await asyncio.gather(upstream, downstream, return_exceptions=True)
        for task in done:
            error = task.exception() if not task.cancelled() else None
            if isinstance(error, RtspRefused):
                self._refuse(f"{error} (sent by {self.target.address_text})")
            elif error is not None and not isinstance(error, OSError):
                raise error


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, guard: RtspReplyGuard | None = None
) -> None:
    while True:
        data = await reader.read(CHUNK)
        if not data:
            return
        if guard is not None:
            guard.feed(data)  # raises before a refused byte is written
        writer.write(data)
        await writer.drain()


def _tls_context(access: CameraAccess) -> ssl.SSLContext:
    if access.tls_verify:
        context = ssl.create_default_context()
    else:
        # Self-signed camera: no CA to check against, so the pin (checked after the
        # handshake, before any byte of FFmpeg's is sent) is the whole trust.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _network_reason(error: BaseException, target: CameraTarget) -> str:
    if isinstance(error, _Unresolved):
        return str(error)
    if isinstance(error, TimeoutError):
        return f"no answer from {target.address_text}"
    if isinstance(error, ssl.SSLError):
        return f"TLS with {target.address_text} failed: {error.reason or error}"
    detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return f"cannot connect to {target.address_text}: {detail}"
