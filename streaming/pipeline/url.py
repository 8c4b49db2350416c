"""The camera URL: a syntactic check before anything connects, and credentials masked in messages."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

_ALLOWED_SCHEMES = {"rtsp", "rtsps"}
# RFC 3986 characters only, minus the ones shells and FFmpeg give meaning to: no spaces,
# quotes, ; | & $ ` ( ) < > \ { } ^ or control characters.
_SAFE_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!%+=,*]+")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
MAX_URL_LENGTH = 2048


def validate_stream_url(url: str) -> str:
    """The URL unchanged if it is a plain rtsp:// or rtsps:// URL with a host, else ValueError.

    Purely syntactic: no DNS, no connection. Which hosts are allowed (private ranges,
    metadata addresses) is an allowlist question answered elsewhere.
    """
    _characters_check(url)
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme.lower() not in _ALLOWED_SCHEMES:
        raise ValueError("Only rtsp:// and rtsps:// stream URLs are accepted.")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        # urllib's message quotes the port, which is the password when the host was left
        # out (rtsp://user:password/path): neither the error nor its context repeats the URL.
        raise ValueError("The stream URL is malformed: its host or port cannot be read.") from None
    _authority_check(parts, port)
    if "@" in parts.path or "@" in parts.query or "@" in parts.fragment:
        # rtsp://camera/x@evil: FFmpeg's own URL split can disagree with urllib's.
        raise ValueError("'@' is only allowed in the user:password@ part of the stream URL.")
    if "%" in parts.netloc.rpartition("@")[2]:
        raise ValueError("The stream URL host may not be percent-encoded.")
    return url


def _characters_check(url: object) -> None:
    if not isinstance(url, str) or not url:
        raise ValueError("The stream URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"The stream URL is longer than {MAX_URL_LENGTH} characters.")
    if url != url.strip() or not _SAFE_URL.fullmatch(url):
        raise ValueError(
            "The stream URL contains characters that are not allowed (spaces, quotes, ; | & $ ` ( ) < > \\ ...)."
        )


def _authority_check(parts: SplitResult, port: int | None) -> None:
    """One user:password@ at most, then a plain host name or IP address, and a port other than 0."""
    netloc = parts.netloc
    if netloc.count("@") > 1:
        raise ValueError("The stream URL may hold one user:password@ part at most.")
    hostport = netloc.rpartition("@")[2]
    host = parts.hostname or ""
    if not host or not (_HOST.fullmatch(hostport.rsplit(":", 1)[0] if port is not None else hostport)):
        raise ValueError("The stream URL needs a host name or IP address.")
    if port == 0:
        raise ValueError("The stream URL has port 0.")


_URL_CREDENTIALS = re.compile(r"(rtsps?://)[^/@\s'\"]*@", re.IGNORECASE)


def redact(message: str) -> str:
    """The message with any user:password@ of a camera URL masked: FFmpeg's errors quote
    the URL they failed on, and these messages reach logs and the API's last_error."""
    return _URL_CREDENTIALS.sub(r"\1***@", message)
