"""One allowlist rule for registration and every connection, IPv6 forms of IPv4 included."""

import ipaddress

import pytest

from streaming.camera_addresses import Allowlist, address_refusal, effective_address, host_addresses
from streaming.camera_gateway import CameraAccess, CameraTarget


def refusal(host: str, entries: tuple[str, ...], address: str | None = None) -> str | None:
    return address_refusal(host=host, address=ipaddress.ip_address(address or host), allowlist=Allowlist.parse(entries))


@pytest.mark.parametrize(
    ("ipv6", "ipv4"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
        ("::ffff:a9fe:a9fe", "169.254.169.254"),
        ("::10.1.2.3", "10.1.2.3"),  # IPv4-compatible (deprecated)
        ("64:ff9b::a00:1", "10.0.0.1"),  # NAT64 well-known prefix
        ("2002:a00:1::5", "10.0.0.1"),  # 6to4
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1"),  # Teredo: the client, deobfuscated
    ],
)
def test_ipv6_forms_that_carry_an_ipv4_address_are_judged_as_it(ipv6: str, ipv4: str) -> None:
    assert effective_address(ipaddress.ip_address(ipv6)) == ipaddress.ip_address(ipv4)


@pytest.mark.parametrize(
    "address",
    ["::ffff:127.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "::1", "::"],
)
def test_a_wide_ipv6_range_never_admits_loopback_or_metadata_in_any_form(address: str) -> None:
    assert refusal(address, ("::/0", "0.0.0.0/0")) is not None


def test_a_wide_ipv6_range_does_not_cover_an_ipv4_address_carried_in_ipv6() -> None:
    assert refusal("::ffff:10.1.2.3", ("::/0",)) is not None
    assert refusal("::ffff:10.1.2.3", ("10.0.0.0/8",)) is None
    assert refusal("2001:db8::5", ("2001:db8::/32",)) is None  # plain IPv6 is judged as itself


def test_an_exact_listing_admits_that_address_in_its_mapped_form_too() -> None:
    assert refusal("127.0.0.1", ("127.0.0.1",)) is None
    assert refusal("::ffff:127.0.0.1", ("127.0.0.1",)) is None
    assert refusal("127.0.0.2", ("127.0.0.1",)) is not None
    assert refusal("169.254.169.254", ("169.254.169.254/32",)) is None


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "169.254.169.254", "100.100.100.200", "fd00:ec2::254", "0.1.2.3", "224.0.0.1", "fe80::1"]
)
def test_special_addresses_pass_only_when_listed_exactly(address: str) -> None:
    wide = ("0.0.0.0/0", "::/0", "169.254.0.0/16", "100.64.0.0/10", "fd00::/8")

    assert "exact address" in (refusal(address, wide) or "")
    assert refusal(address, (address,)) is None


def test_a_listed_host_name_admits_its_private_answers_but_not_special_ones() -> None:
    assert refusal("cam.lobby", ("cam.lobby",), "10.0.4.17") is None
    assert refusal("CAM.lobby", ("cam.lobby",), "10.0.4.17") is None
    assert "resolves to 127.0.0.1" in (refusal("cam.lobby", ("cam.lobby",), "127.0.0.1") or "")
    assert refusal("cam.lobby", ("cam.lobby",), "::ffff:169.254.169.254") is not None


def test_an_unlisted_address_is_refused_with_the_allowlist_named() -> None:
    assert "not on this site's camera allowlist" in (refusal("192.168.1.50", ("10.0.0.0/8",)) or "")


def test_ip_literals_are_never_sent_to_the_resolver() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError(f"resolved {host}")

    assert host_addresses("10.0.0.5", 554, resolver) == [ipaddress.ip_address("10.0.0.5")]
    assert host_addresses("cam.test", 554, lambda host, port: ["10.0.0.6"]) == [ipaddress.ip_address("10.0.0.6")]


def test_ffmpeg_is_given_the_camera_path_and_credentials_with_the_gateway_as_host() -> None:
    target = CameraTarget.from_url("rtsps://us%40er:p%3Ass@[fd00::5]:8322/Streaming/101?transport=tcp")

    assert (target.scheme, target.host, target.port) == ("rtsps", "fd00::5", 8322)
    assert target.credentials == "us%40er:p%3Ass"
    assert target.path == "/Streaming/101?transport=tcp"
    assert CameraTarget.from_url("rtsp://cam.test/x").port == 554
    assert CameraTarget.from_url("rtsps://cam.test/x").port == 322


def test_tls_verification_is_off_only_with_a_pinned_fingerprint() -> None:
    with pytest.raises(ValueError):
        CameraAccess(allowances=(), tls_verify=False)
    with pytest.raises(ValueError):
        CameraAccess(allowances=(), tls_fingerprint_sha256=b"short")
    assert CameraAccess(allowances=(), tls_verify=False, tls_fingerprint_sha256=bytes(32)).tls_verify is False
