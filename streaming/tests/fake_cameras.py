"""Tiny hostile RTSP servers, recording listeners and certificates for the camera gateway tests.

A :class:`FakeCamera` plays a script (bytes to answer each request with) on 127.0.0.1,
optionally behind TLS and Basic authentication, and records what FFmpeg sent it. A
:class:`RecordingListener` is a listening socket nobody serves: every connection made to
it waits in its accept queue, so a check after the pipeline has finished sees every
connection that was ever made, with no thread that could miss one.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Request:
    method: str
    uri: str
    headers: dict[str, str]

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")


# A script answers one request: bytes to send, a list of chunks sent one by one (a reply
# split across TCP segments), or None to send nothing.
Script = Callable[[Request], bytes | list[bytes] | None]


def ok(request: Request, headers: str = "") -> bytes:
    return f"RTSP/1.0 200 OK\r\nCSeq: {request.cseq}\r\n{headers}\r\n".encode()


def options_then(describe: Callable[[Request], bytes | list[bytes]]) -> Script:
    """OPTIONS answered 200 (FFmpeg goes on to DESCRIBE), DESCRIBE answered by `describe`."""

    def script(request: Request) -> bytes | list[bytes] | None:
        if request.method == "OPTIONS":
            return ok(request, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n")
        if request.method == "DESCRIBE":
            return describe(request)
        return None

    return script


def redirect(status: int, location: str) -> Callable[[Request], bytes]:
    def answer(request: Request) -> bytes:
        return f"RTSP/1.0 {status} Moved\r\nCSeq: {request.cseq}\r\nLocation: {location}\r\n\r\n".encode()

    return answer


class FakeCamera:
    """An RTSP server on 127.0.0.1 that answers with a script and records every request."""

    def __init__(self, script: Script, *, basic_auth: bool = False, tls: ssl.SSLContext | None = None):
        self.script, self.basic_auth, self.tls = script, basic_auth, tls
        self.requests: list[Request] = []
        self.authorizations: list[str] = []  # decoded "user:password" of each Basic header
        self.connections = 0
        self.lock = threading.Lock()
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"fake-camera-{self.port}", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        try:
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_side=True)
            buffer = b""
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = connection.recv(4096)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                request = _parse_request(head.decode("latin-1"))
                length = int(request.headers.get("content-length", "0"))
                while len(buffer) < length:
                    buffer += connection.recv(4096)
                buffer = buffer[length:]
                self._answer(connection, request)
        except (OSError, ValueError):
            return  # the client (the gateway) went away, or TLS failed: nothing to record
        finally:
            connection.close()

    def _answer(self, connection: socket.socket, request: Request) -> None:
        with self.lock:
            self.requests.append(request)
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            with self.lock:
                self.authorizations.append(base64.b64decode(authorization[6:]).decode("latin-1"))
        elif self.basic_auth:
            challenge = 'WWW-Authenticate: Basic realm="cam"\r\n'
            connection.sendall(f"RTSP/1.0 401 Unauthorized\r\nCSeq: {request.cseq}\r\n{challenge}\r\n".encode())
            return
        answer = self.script(request)
        for chunk in answer if isinstance(answer, list) else [answer] if answer else []:
            connection.sendall(chunk)


def _parse_request(head: str) -> Request:
    lines = head.split("\r\n")
    method, uri, *_ = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method=method, uri=uri, headers=headers)


@dataclass
class Connection:
    peer: tuple
    data: bytes


@dataclass
class RecordingListener:
    """A listening socket on `host` that nobody serves: connections wait in its queue."""

    host: str
    socket: socket.socket = field(init=False)
    port: int = field(init=False)

    def __post_init__(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.bind((self.host, 0))
        self.socket.listen(64)
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]

    def take(self) -> list[Connection]:
        """Every connection made since the last call, with whatever it had sent."""
        taken: list[Connection] = []
        while True:
            try:
                connection, peer = self.socket.accept()
            except BlockingIOError:
                return taken
            with connection:
                connection.settimeout(0.5)
                try:
                    data = connection.recv(65536)
                except OSError:
                    data = b""
            taken.append(Connection(peer=peer, data=data))

    def close(self) -> None:
        self.socket.close()


class TlsTerminator:
    """rtsps:// in front of a plain RTSP server: TLS on 127.0.0.1, bytes relayed to `upstream_port`."""

    def __init__(self, context: ssl.SSLContext, upstream_port: int):
        self.context, self.upstream_port = context, upstream_port
        self.loop = asyncio.new_event_loop()
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.port = self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self._run, name=f"tls-terminator-{self.port}", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def __enter__(self) -> TlsTerminator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._relay, sock=self.socket, ssl=self.context))
        try:
            self.loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()

        try:
            await asyncio.wait(
                {
                    asyncio.ensure_future(pipe(reader, upstream_writer)),
                    asyncio.ensure_future(pipe(upstream_reader, writer)),
                },
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            writer.transport.abort()
            upstream_writer.transport.abort()


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Certificate:
    cert_pem: bytes
    key_pem: bytes
    der: bytes

    def server_context(self, folder: Path) -> ssl.SSLContext:
        cert, key = folder / f"cert-{id(self)}.pem", folder / f"key-{id(self)}.pem"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context


def certificate(
    *, common_name: str, ip: str | None = None, dns: str | None = None, issuer: Certificate | None = None
) -> Certificate:
    """A certificate for `ip`/`dns`, self-signed or signed by `issuer` (a CA from ca_certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    alternative: list[x509.GeneralName] = []
    if ip:
        alternative.append(x509.IPAddress(ipaddress.ip_address(ip)))
    if dns:
        alternative.append(x509.DNSName(dns))
    if issuer is None:
        issuer_name, signing_key = name, key
    else:
        issuer_cert = x509.load_pem_x509_certificate(issuer.cert_pem)
        issuer_name = issuer_cert.subject
        issuer_key = serialization.load_pem_private_key(issuer.key_pem, password=None)
        assert isinstance(issuer_key, ec.EllipticCurvePrivateKey)  # ca_certificate makes EC keys
        signing_key = issuer_key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    if alternative:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternative), critical=False)
    if issuer is not None:
        # What strict verifiers (Python 3.13's default VERIFY_X509_STRICT) want of a leaf.
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    cert = builder.sign(signing_key, hashes.SHA256())
    return _bundle(cert, key)


def ca_certificate(common_name: str = "Test camera CA") -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _bundle(cert, key)


def _bundle(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Certificate:
    return Certificate(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        der=cert.public_bytes(serialization.Encoding.DER),
    )
