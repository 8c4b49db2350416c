"""Writes of the streaming app: registering camera streams safely, stopping them.

A camera URL is checked before anything opens it: scheme and syntax (rtsp/rtsps only, no
shell or FFmpeg tricks), then the host against the site's allowlist. Loopback,
link-local and cloud-metadata addresses pass only when an admin listed that exact host.
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.db import transaction

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
    camera_url = camera_url_parse(url)
    camera_host_check(site=site, host=camera_url.host)
    return audited_create(
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


def camera_stream_delete(*, actor, stream: CameraStream) -> None:
    audited_delete(actor=actor, instance=stream)


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
