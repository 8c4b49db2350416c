"""Writes of the streaming app: registering camera streams safely, stopping them.

A camera URL is checked before anything opens it: scheme and syntax (rtsp/rtsps only, no
shell or FFmpeg tricks), then the host against the site's allowlist. Loopback,
link-local and cloud-metadata addresses (IPv4-mapped and other IPv6 forms included) pass
only when an admin listed that exact address. The same rule
(``camera_addresses.address_refusal``) runs again for every connection the pipeline
makes, in the camera gateway, on the addresses the host resolves to then.
"""

import ipaddress
import logging
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import Actor
from accounts.services import audit_record, audited_create, audited_delete
from attendance_site.events.services import domain_event_emit
from attendance_site.events.types import STREAM_STATUS_CHANGED, StreamStatusChangedPayload
from biometrics import crypto
from employees.models import Site
from streaming.camera_addresses import Allowlist, address_refusal, host_addresses
from streaming.camera_gateway import DEFAULT_PORTS
from streaming.models import CameraHostAllowance, CameraStream
from streaming.pipeline import validate_stream_url
from streaming.selectors import camera_allowances

if TYPE_CHECKING:
    from streaming.pipeline import StreamStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraUrl:
    url_without_credentials: str
    credentials: str | None  # "user:password"
    host: str
    scheme: str
    port: int


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
        scheme=parts.scheme.lower(),
        port=parts.port or DEFAULT_PORTS[parts.scheme.lower()],
    )


def camera_host_check(*, site: Site, host: str, port: int = DEFAULT_PORTS["rtsp"]) -> None:
    """Refuse a host the site's allowlist does not cover (ValidationError on "url").

    Every address the host resolves to must pass: one that does not refuses the camera.
    """
    allowlist = Allowlist.parse(camera_allowances(site=site))
    try:
        addresses = host_addresses(host, port)
    except (OSError, ValueError):
        raise ValidationError({"url": f"The camera host {host!r} does not resolve."})
    for address in addresses:
        refusal = address_refusal(host=host, address=address, allowlist=allowlist)
        if refusal is not None:
            raise ValidationError({"url": refusal})


FINGERPRINT = re.compile(r"(?:[0-9a-f]{2}:){31}[0-9a-f]{2}|[0-9a-f]{64}", re.IGNORECASE)


def tls_fingerprint_parse(text: str) -> str:
    """A SHA-256 fingerprint as "AB:CD:..." (95 characters) from 64 hex digits, with or without
    the colons openssl prints; ValueError otherwise."""
    text = text.strip()
    if not FINGERPRINT.fullmatch(text):
        raise ValueError(text)
    digits = text.replace(":", "").upper()
    return ":".join(digits[index : index + 2] for index in range(0, 64, 2))


def _tls_options_check(*, scheme: str, options: dict[str, Any]) -> None:
    """Normalise the fingerprint in options; refuse TLS settings that make no sense."""
    verify = options.get("tls_verify", True)
    fingerprint = (options.get("tls_fingerprint_sha256") or "").strip()
    if scheme != "rtsps":
        if fingerprint or not verify:
            raise ValidationError(
                {"tls_verify": "TLS settings apply to rtsps:// cameras only; this one is plain rtsp://."}
            )
        return
    if fingerprint:
        try:
            options["tls_fingerprint_sha256"] = tls_fingerprint_parse(fingerprint)
        except ValueError:
            raise ValidationError(
                {"tls_fingerprint_sha256": "Give the certificate's SHA-256 fingerprint: 64 hex digits, colons allowed."}
            )
    elif not verify:
        raise ValidationError(
            {
                "tls_fingerprint_sha256": "A camera whose certificate is not verified needs its certificate's "
                "SHA-256 fingerprint pinned here; without either, anyone on the path could pose as it."
            }
        )


# Any fixed number: the key of the PostgreSQL advisory lock that stream starts queue on.
STREAM_START_LOCK = 0x5354524D


def _capacity_check(*, starting: CameraStream | None = None) -> None:
    """Refuse one more running stream beyond STREAMS_MAX_CONCURRENT, or on a full disk.

    Call inside the transaction that starts the stream: starts are serialised until it
    ends, so two at once cannot both pass the count. Row locks would not do, as a new
    row is not there to lock; SQLite's IMMEDIATE transactions serialise writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STREAM_START_LOCK])
    running = CameraStream.objects.exclude(run_token="")
    if starting is not None:
        running = running.exclude(pk=starting.pk)
    if len(running) >= settings.STREAMS_MAX_CONCURRENT:
        raise ValidationError(
            f"{settings.STREAMS_MAX_CONCURRENT} streams are running, the most this server runs at once "
            "(STREAMS_MAX_CONCURRENT); stop or delete one first.",
            code="stream_limit",
        )
    root = Path(settings.STREAMS_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(root).free < settings.STREAMS_MIN_FREE_DISK_MB * 2**20:
        raise ValidationError(
            f"Less than {settings.STREAMS_MIN_FREE_DISK_MB} MB is free on the streams disk.", code="disk_full"
        )


def _liveness_check(*, site: Site, record_attendance: bool) -> None:
    from biometrics.selectors import site_policy

    if record_attendance and site_policy(site_id=site.pk).liveness_required:
        raise ValidationError(
            {
                "record_attendance": "This site requires a liveness check for face check-ins, "
                "which a camera stream cannot give."
            }
        )


@transaction.atomic
def camera_stream_create(*, actor: Actor, site: Site, name: str, url: str, options: dict[str, Any]) -> CameraStream:
    """Register a camera and start its pipeline in the `streams` worker after commit."""
    camera_url = camera_url_parse(url)
    _tls_options_check(scheme=camera_url.scheme, options=options)
    camera_host_check(site=site, host=camera_url.host, port=camera_url.port)
    _liveness_check(site=site, record_attendance=options.get("record_attendance", False))
    _capacity_check()
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
    _run_queue(stream)
    return stream


def _run_queue(stream: CameraStream) -> None:
    """Give the stream a new lease and queue its pipeline after commit.

    The heartbeat is set at queue time, so the supervisor waits a full stale period for
    a worker to pick the run up before it queues another one.
    """
    from streaming.tasks import camera_stream_run_task

    run_token, now = uuid.uuid4().hex, timezone.now()
    CameraStream.objects.filter(pk=stream.pk).update(
        run_token=run_token, state=CameraStream.State.STARTING, heartbeat_at=now, last_error=""
    )
    _stream_status_changed_emit(stream=stream, state=CameraStream.State.STARTING, last_error="")
    stream.run_token, stream.state, stream.heartbeat_at, stream.last_error = run_token, "starting", now, ""
    transaction.on_commit(lambda: camera_stream_run_task.delay(stream.pk, run_token), robust=True)


@transaction.atomic
def camera_stream_start(*, actor: Actor, stream: CameraStream) -> CameraStream:
    """(Re)start a stopped or failed stream."""
    stream = CameraStream.objects.select_for_update().get(pk=stream.pk)
    if stream.run_token:
        return stream  # already running: starting twice is not an error
    _liveness_check(site=stream.site, record_attendance=stream.record_attendance)
    _capacity_check(starting=stream)
    audit_record(actor=actor, action="start", instance=stream)
    _run_queue(stream)
    return stream


@transaction.atomic
def camera_stream_stop(*, actor: Actor, stream: CameraStream) -> CameraStream:
    """Stop the pipeline (it sees its lease gone within a second) and keep the stream's files."""
    stream = CameraStream.objects.select_for_update().get(pk=stream.pk)
    if not stream.run_token:
        return stream
    audit_record(actor=actor, action="stop", instance=stream)
    _stream_status_changed_emit(stream=stream, state=CameraStream.State.STOPPED, last_error=stream.last_error)
    stream.run_token, stream.state = "", CameraStream.State.STOPPED
    stream.input_fps = stream.output_fps = None
    stream.save(update_fields=["run_token", "state", "input_fps", "output_fps"])
    return stream


def _stream_status_changed_emit(*, stream: CameraStream, state: str, last_error: str) -> None:
    """An event when the stream's state changes; call before ``stream.state`` is updated."""
    if state == stream.state:
        return
    payload: StreamStatusChangedPayload = {
        "stream_id": stream.pk,
        "site_id": stream.site_id,
        "state": state,
        "previous_state": stream.state,
        "last_error": last_error,
    }
    domain_event_emit(event_type=STREAM_STATUS_CHANGED, payload=payload, site_id=stream.site_id)


def camera_streams_supervise(*, now: datetime | None = None) -> list[int]:
    """Restart running streams whose heartbeat stopped; remove files of deleted streams.

    A pipeline beats once a second, so a heartbeat older than
    STREAMS_HEARTBEAT_STALE_SECONDS means its worker died (killed, out of memory, the
    machine rebooted) or never picked the run up. Returns the restarted streams' ids.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.STREAMS_HEARTBEAT_STALE_SECONDS)
    restarted: list[int] = []
    with transaction.atomic():
        stale = CameraStream.objects.select_for_update(skip_locked=True).exclude(run_token="")
        for stream in stale.filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)):
            logger.warning("stream %s: no heartbeat since %s, restarting it", stream.pk, stream.heartbeat_at)
            _run_queue(stream)
            restarted.append(stream.pk)
    _orphan_outputs_remove()
    return restarted


def _orphan_outputs_remove() -> None:
    """Delete output folders of streams that no longer exist (deleted while no worker ran)."""
    root = Path(settings.STREAMS_ROOT)
    if not root.is_dir():
        return
    folders = {entry.name: entry for entry in root.iterdir() if entry.is_dir() and entry.name.isdigit()}
    known = {
        str(pk)
        for pk in CameraStream.objects.filter(pk__in=[int(name) for name in folders]).values_list("pk", flat=True)
    }
    for name, folder in folders.items():
        if name not in known:
            shutil.rmtree(folder, ignore_errors=True)


def camera_stream_delete(*, actor: Actor, stream: CameraStream) -> None:
    """Stop the stream (its pipeline sees the row gone within a second) and drop its files."""
    output_dir = stream_output_dir(stream.pk)
    audited_delete(actor=actor, instance=stream)
    transaction.on_commit(lambda: shutil.rmtree(output_dir, ignore_errors=True), robust=True)


HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def camera_host_allow(*, actor: Actor, site: Site, host: str, note: str = "") -> CameraHostAllowance:
    host = host.strip()
    try:
        ipaddress.ip_network(host, strict=False)
    except ValueError:
        if not HOSTNAME.match(host):
            raise ValidationError({"host": "Give an IP address, a network in CIDR form, or a hostname."})
    return audited_create(actor=actor, model=CameraHostAllowance, fields={"site": site, "host": host, "note": note})


def camera_host_remove(*, actor: Actor, host: CameraHostAllowance) -> None:
    audited_delete(actor=actor, instance=host)


# --- Running a stream (in the `streams` worker) -------------------------------------------


def _stream_gauges_publish(*, stream: CameraStream, status: "StreamStatus") -> None:
    """A running stream's once-a-second figures, straight to the live channel.

    They are gauges, not events: keeping one in the event log every second for every
    camera would flood it, and a lost one is replaced a second later. Changes of state
    are events (``stream.status_changed``), published by the live handler.
    """
    from attendance_site.live.messages import StreamStatusPayload
    from attendance_site.live.publisher import site_message_publish

    data = cast(StreamStatusPayload, {"stream": stream.pk, **status.as_dict()})
    site_message_publish(site_id=stream.site_id, message_type="stream.status", data=data)


def stream_output_dir(stream_id: int) -> Path:
    return Path(settings.STREAMS_ROOT) / str(stream_id)


def _camera_url_with_credentials(stream: CameraStream) -> str:
    if stream.credentials_encrypted is None:
        return stream.url_without_credentials
    parts = urlsplit(stream.url_without_credentials)
    # Stored as the URL gave them, percent-encoding included (urlsplit does not decode):
    # put back as they were, not encoded a second time.
    credentials = crypto.decrypt(stream.credentials_encrypted).decode()
    return urlunsplit((parts.scheme, f"{credentials}@{parts.netloc}", parts.path, parts.query, ""))


def camera_stream_run(*, stream_id: int, run_token: str) -> None:
    """Turn one registered camera into annotated HLS while this run holds the stream's lease.

    Once a second the pipeline renews the heartbeat with an update conditioned on its
    lease: no row updated means the stream was deleted, stopped or handed to a newer run,
    and the pipeline stops. Status goes to the row and to the site's live channel; the
    credentials are decrypted here only, never logged.
    """
    from streaming.camera_gateway import CameraAccess
    from streaming.pipeline import PipelineOptions, StreamStatus, run_stream

    stream = CameraStream.objects.filter(pk=stream_id, run_token=run_token).select_related("site").first()
    if stream is None:
        return  # stopped, deleted or restarted since this run was queued
    mine = CameraStream.objects.filter(pk=stream_id, run_token=run_token)
    started = time.monotonic()
    last_beat = {"tried": 0.0, "done": started}
    stop = False
    # A run that cannot prove it still holds its lease stops well before the supervisor
    # would hand the stream to a new run: two pipelines never write one folder for long.
    lease_doubt_s = settings.STREAMS_HEARTBEAT_STALE_SECONDS / 2

    def should_stop() -> bool:
        nonlocal stop
        now = time.monotonic()
        if now - last_beat["tried"] >= 1.0:
            last_beat["tried"] = now
            try:
                stop = mine.update(heartbeat_at=timezone.now()) == 0
                last_beat["done"] = now
            except DatabaseError:
                logger.warning("stream %s: heartbeat failed; reconnecting to the database", stream_id)
                connection.close()  # a long task never gets Django's per-request reconnect
                if now - last_beat["done"] > lease_doubt_s:
                    logger.error("stream %s: no heartbeat for %.0f s, stopping", stream_id, now - last_beat["done"])
                    stop = True
        return stop

    def on_status(status: StreamStatus) -> None:
        fields = {
            "state": status.state,
            "input_fps": round(status.input_fps, 2),
            "output_fps": round(status.output_fps, 2),
            "latency_ms": round(status.latency_ms, 1),
            "last_error": status.last_error[:500],
            "heartbeat_at": timezone.now(),
            # A failed run gives its lease back: the supervisor leaves it alone, and an
            # admin's start runs it again.
            **({"run_token": ""} if status.state in ("failed", "stopped") else {}),
        }
        if status.state != stream.state:
            with transaction.atomic():
                if mine.update(**fields):
                    _stream_status_changed_emit(stream=stream, state=status.state, last_error=status.last_error[:500])
            stream.state = status.state
        elif mine.update(**fields):
            _stream_gauges_publish(stream=stream, status=status)

    identify = None
    try:
        url = _camera_url_with_credentials(stream)
        # The allowlist as it is when this run starts: every connection of the run is
        # checked against it (a removed entry takes effect at the next start).
        access = CameraAccess(
            allowances=camera_allowances(site=stream.site),
            tls_verify=stream.tls_verify,
            tls_fingerprint_sha256=(
                bytes.fromhex(stream.tls_fingerprint_sha256.replace(":", "")) if stream.tls_fingerprint_sha256 else None
            ),
        )
        if stream.label_faces or stream.record_attendance:
            from streaming.recognition import StreamRecognizer

            identify = StreamRecognizer(stream)
    except Exception as error:
        # Retrying would fail the same way (keys rotated away, a broken install): fail
        # and give the lease back rather than have the supervisor requeue it for ever.
        logger.exception("stream %s cannot start", stream_id)
        on_status(StreamStatus(state="failed", last_error=f"cannot start: {type(error).__name__}"))
        return
    run_stream(
        url=url,
        access=access,
        output_dir=stream_output_dir(stream_id),
        options=PipelineOptions(
            max_width=stream.max_width,
            max_height=stream.max_height,
            max_fps=stream.max_fps,
            min_free_disk_bytes=settings.STREAMS_MIN_FREE_DISK_MB * 2**20 // 2,
            identify=identify,
        ),
        should_stop=should_stop,
        on_status=on_status,
    )
