"""Which addresses a camera may be reached at: one rule for registration and for every connection.

Pure logic (no Django): the streaming service calls :func:`address_refusal` when a camera
is registered, and the camera gateway calls the same function for every address a camera
host resolves to when FFmpeg connects, so a DNS answer that changed since registration is
judged by the same rule.

- Private ranges pass when an allowlist entry covers them (cameras live there).
- Special addresses (loopback, link-local, unspecified, multicast, ``0.0.0.0/8``, cloud
  metadata) pass only when an admin listed that exact address: a wide network such as
  ``0.0.0.0/0`` or ``::/0`` never lets them through, and neither does a hostname entry,
  whose DNS answer can change after the admin looked at it.
- An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
  IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo) is
  judged as that IPv4 address: ``[::ffff:127.0.0.1]`` is loopback, and an allowlisted
  IPv6 range does not cover it. Python 3.11's ``is_loopback`` says False for it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the IP addresses (as strings) a connection may use; injected in tests.
Resolver = Callable[[str, int], Sequence[str]]

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
# RFC 8215 local-use NAT64: where the IPv4 address sits depends on the operator's prefix
# length, so it cannot be normalised; treated as special.
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (empty for plain IPv6 and for IPv4)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.teredo is not None:
        server, client = address.teredo
        return [client, server]  # the client is where the packets end up
    if address.sixtofour is not None:
        return [address.sixtofour]
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64_WELL_KNOWN:
        return [low32]
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1, judged as IPv6
        return [low32]
    return []


def effective_address(address: IPAddress) -> IPAddress:
    """The address an allowlist judges: the carried IPv4 address if any, else itself."""
    embedded = embedded_ipv4(address)
    return embedded[0] if embedded else address


def _special_alone(address: IPAddress) -> bool:
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address in METADATA_ADDRESSES
        or (isinstance(address, ipaddress.IPv4Address) and (address in _THIS_NETWORK or address.is_reserved))
        or (isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL_USE)
    )


def is_special(address: IPAddress) -> bool:
    """Loopback, link-local, unspecified, multicast, this-network, reserved or metadata,
    directly or through the IPv4 address it carries."""
    return _special_alone(address) or any(_special_alone(inner) for inner in embedded_ipv4(address))


@dataclass(frozen=True)
class Allowlist:
    """A site's camera allowlist entries, parsed once: exact addresses, networks, host names."""

    exact: frozenset[IPAddress]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    names: frozenset[str]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        exact: set[IPAddress] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        names: set[str] = set()
        for entry in entries:
            entry = entry.strip()
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                names.add(entry.lower())
                continue
            if network.num_addresses == 1:
                exact.add(effective_address(network.network_address))
            else:
                networks.append(network)
        return cls(exact=frozenset(exact), networks=tuple(networks), names=frozenset(names))


def address_refusal(*, host: str, address: IPAddress, allowlist: Allowlist) -> str | None:
    """Why the camera `host` may not be reached at `address`; None when it may."""
    effective = effective_address(address)
    shown = str(address) if effective == address else f"{address} (that is {effective})"
    where = shown if _is_literal_of(host, address) else f"{host} resolves to {shown}, which"
    if is_special(address):
        if effective in allowlist.exact:
            return None
        return (
            f"{where} is a loopback, link-local, metadata or other special address; "
            "an admin must list that exact address on the camera allowlist."
        )
    if (
        effective in allowlist.exact
        or host.lower() in allowlist.names
        or any(effective in network for network in allowlist.networks)
    ):
        return None
    return f"{where} is not on this site's camera allowlist."


def _is_literal_of(host: str, address: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host) == address
    except ValueError:
        return False


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for host (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def host_addresses(host: str, port: int, resolve: Resolver | None = None) -> list[IPAddress]:
    """An IP literal as itself; a name through the resolver (OSError when it does not resolve).

    ``system_resolve`` is looked up when called, not bound at import: tests replace it to
    simulate a DNS answer (there is no DNS server here to lie to them).
    """
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    answers = (resolve or system_resolve)(host, port)
    addresses = [ipaddress.ip_address(answer) for answer in answers]
    if not addresses:
        raise OSError("the answer holds no address")
    return addresses
