"""Writes of the streaming app: registering camera streams safely, stopping them.

A camera URL is checked before anything opens it: scheme and syntax (rtsp/rtsps only, no
shell or FFmpeg tricks), then the host against the site's allowlist. Loopback,
link-local and cloud-metadata addresses pass only when an admin listed that exact host.
"""

import ipaddress
import re
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services import audited_create, audited_delete
from biometrics import crypto
from streaming.models import CameraHostAllowance, CameraStream
from streaming.pipeline import validate_stream_url

METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


@dataclass(frozen=True)
class CameraUrl:
    url_without_credentials: str
    credentials: str | None  # "user:password"
    host: str


def camera_url_parse(url: str) -> CameraUrl:
    try:
        validate_stream_url(url)
    except ValueError as error:
        raise ValidationError({"url": str(error)})
    parts = urlsplit(url)
    credentials = None
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"  # an IPv6 literal keeps its brackets in a URL
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username is not None:
        credentials = f"{parts.username}:{parts.password or ''}"
    return CameraUrl(
        url_without_credentials=urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")),
        credentials=credentials,
        host=parts.hostname or "",
    )


def _addresses_of(host: str) -> set:
    try:
        return {ipaddress.ip_address(host)}
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        raise ValidationError({"url": f"The camera host {host!r} does not resolve."})
    return {ipaddress.ip_address(info[4][0]) for info in infos}


def _dangerous(address) -> bool:
    return address.is_loopback or address.is_link_local or address in METADATA_ADDRESSES or address.is_unspecified


def camera_host_check(*, site, host: str) -> None:
    """Refuse a host the site's allowlist does not cover (ValidationError on "url")."""
    allowances = [entry.host for entry in CameraHostAllowance.objects.filter(site=site)]
    addresses = _addresses_of(host)
    networks = []
    for entry in allowances:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a hostname entry
    for address in addresses:
        exact = host in allowances or any(network.num_addresses == 1 and address in network for network in networks)
        if _dangerous(address):
            if not exact:
                raise ValidationError(
                    {"url": f"{address} is a loopback, link-local or metadata address; an admin must list it exactly."}
                )
        elif not (exact or any(address in network for network in networks)):
            raise ValidationError({"url": f"The camera host {host} is not on this site's camera allowlist."})


@transaction.atomic
def camera_stream_create(*, actor, site, name: str, url: str, options: dict) -> CameraStream:
    """Register a camera and start its pipeline in the `streams` worker after commit."""
    camera_url = camera_url_parse(url)
    camera_host_check(site=site, host=camera_url.host)
    stream = audited_create(
        actor=actor,
        model=CameraStream,
        fields={
            "site": site,
            "name": name,
            "url_without_credentials": camera_url.url_without_credentials,
            "credentials_encrypted": (
                crypto.encrypt(camera_url.credentials.encode()) if camera_url.credentials else None
            ),
            "created_by": actor,
            **options,
        },
    )
    transaction.on_commit(lambda: _stream_start(stream.pk), robust=True)
    return stream


def _stream_start(stream_id: int) -> None:
    from streaming.tasks import camera_stream_run_task

    camera_stream_run_task.delay(stream_id)


def camera_stream_delete(*, actor, stream: CameraStream) -> None:
    """Stop the stream (its pipeline sees the row gone within a second) and drop its files."""
    output_dir = stream_output_dir(stream.pk)
    audited_delete(actor=actor, instance=stream)
    transaction.on_commit(lambda: shutil.rmtree(output_dir, ignore_errors=True), robust=True)


HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def camera_host_allow(*, actor, site, host: str, note: str = "") -> CameraHostAllowance:
    host = host.strip()
    try:
        ipaddress.ip_network(host, strict=False)
    except ValueError:
        if not HOSTNAME.match(host):
            raise ValidationError({"host": "Give an IP address, a network in CIDR form, or a hostname."})
    return audited_create(actor=actor, model=CameraHostAllowance, fields={"site": site, "host": host, "note": note})


def camera_host_remove(*, actor, host: CameraHostAllowance) -> None:
    audited_delete(actor=actor, instance=host)


# --- Running a stream (in the `streams` worker) -------------------------------------------


def stream_output_dir(stream_id: int) -> Path:
    return Path(settings.STREAMS_ROOT) / str(stream_id)


def _camera_url_with_credentials(stream: CameraStream) -> str:
    if stream.credentials_encrypted is None:
        return stream.url_without_credentials
    parts = urlsplit(stream.url_without_credentials)
    credentials = crypto.decrypt(stream.credentials_encrypted).decode()
    user, _, password = credentials.partition(":")
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def camera_stream_run(*, stream_id: int) -> None:
    """Turn one registered camera into annotated HLS until the stream is deleted.

    Status goes to the row (the heartbeat the supervisor watches) and to the site's live
    channel; the credentials are decrypted here only, never logged.
    """
    from dashboard.publisher import site_message_publish
    from streaming.pipeline import PipelineOptions, run_stream

    stream = CameraStream.objects.filter(pk=stream_id).first()
    if stream is None:
        return
    last_check = {"at": 0.0, "stop": False}

    def should_stop() -> bool:
        # One indexed lookup a second at most: deleting the row is the stop signal.
        now = time.monotonic()
        if now - last_check["at"] >= 1.0:
            last_check["at"] = now
            last_check["stop"] = not CameraStream.objects.filter(pk=stream_id).exists()
        return last_check["stop"]

    def on_status(status) -> None:
        CameraStream.objects.filter(pk=stream_id).update(
            state=status.state,
            input_fps=round(status.input_fps, 2),
            output_fps=round(status.output_fps, 2),
            latency_ms=round(status.latency_ms, 1),
            last_error=status.last_error[:500],
            heartbeat_at=timezone.now(),
        )
        site_message_publish(
            site_id=stream.site_id,
            message_type="stream.status",
            data={"stream": stream_id, **status.as_dict()},
        )

    run_stream(
        url=_camera_url_with_credentials(stream),
        output_dir=stream_output_dir(stream_id),
        options=PipelineOptions(max_width=stream.max_width, max_height=stream.max_height, max_fps=stream.max_fps),
        should_stop=should_stop,
        on_status=on_status,
    )
