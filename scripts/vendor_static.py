"""Vendor the browser libraries pinned in package-lock.json into static/vendor/.

Only Python's standard library: building the project needs Python, never Node. For each
package below, the exact version, tarball URL and sha512 integrity come from
package-lock.json (written by `npm install --package-lock-only`); the tarball is
downloaded, checked against the integrity hash and only the listed files are written to
static/vendor/<package>/, with a marker naming what is there, so a second run with the
same lock downloads nothing. static/vendor/ is a build output and not committed.

    python scripts/vendor_static.py
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK_FILE = REPO / "package-lock.json"
VENDOR_ROOT = REPO / "static" / "vendor"
MARKER_NAME = ".vendored"
DOWNLOAD_TIMEOUT_SECONDS = 60

# Package -> the files of its tarball (paths under package/) that the pages use.
VENDORED: dict[str, tuple[str, ...]] = {
    "hls.js": ("dist/hls.min.js", "LICENSE"),
}


class VendorError(Exception):
    """Something the person running the build has to fix; the message says what."""


def locked_package(lock: dict, name: str) -> tuple[str, str, str]:
    """The version, tarball URL and integrity pinned for `name` in the lock file."""
    entry = lock.get("packages", {}).get(f"node_modules/{name}")
    if entry is None:
        raise VendorError(f"{name} is not in {LOCK_FILE.name}; run `npm install --package-lock-only`.")
    version, resolved, integrity = entry.get("version"), entry.get("resolved"), entry.get("integrity", "")
    if not version or not resolved:
        raise VendorError(
            f"{LOCK_FILE.name} has no version or resolved URL for {name}; regenerate it with"
            " `npm install --package-lock-only --omit-lockfile-registry-resolved=false`."
        )
    if not integrity.startswith("sha512-"):
        raise VendorError(f"{LOCK_FILE.name} has no sha512 integrity for {name}.")
    if not resolved.startswith("https://"):
        raise VendorError(f"{name}: the resolved URL {resolved!r} is not https.")
    return version, resolved, integrity


def integrity_matches(data: bytes, integrity: str) -> bool:
    expected = base64.b64decode(integrity.removeprefix("sha512-"))
    return hashlib.sha512(data).digest() == expected


def download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310 (https only)
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        raise VendorError(
            f"could not download {url}: {error}. The pages need it (no CDN is used): check the network or"
            " set HTTPS_PROXY, then run `python scripts/vendor_static.py` again."
        )


def vendor_package(name: str, files: tuple[str, ...], lock: dict) -> bool:
    """Write the package's files unless the same pin is already there; True if it downloaded."""
    version, resolved, integrity = locked_package(lock, name)
    target = VENDOR_ROOT / name
    marker = target / MARKER_NAME
    wanted = f"{version} {integrity}\n"
    if marker.is_file() and marker.read_text() == wanted and all((target / Path(f).name).is_file() for f in files):
        return False
    data = download(resolved)
    if not integrity_matches(data, integrity):
        raise VendorError(f"{resolved} does not match the integrity hash in {LOCK_FILE.name}; nothing was written.")
    contents: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for path in files:
            try:
                member = archive.extractfile(f"package/{path}")
            except KeyError:
                member = None
            if member is None:
                raise VendorError(f"{name} {version} has no file {path}.")
            contents[Path(path).name] = member.read()
    target.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)  # until every file is written, the folder is incomplete
    for filename, content in contents.items():
        partial = target / f".{filename}.partial"
        partial.write_bytes(content)
        partial.replace(target / filename)
    marker.write_text(wanted)
    return True


def main() -> int:
    try:
        lock = json.loads(LOCK_FILE.read_text())
    except (OSError, ValueError) as error:
        print(f"vendor_static: cannot read {LOCK_FILE}: {error}", file=sys.stderr)
        return 1
    for name, files in VENDORED.items():
        try:
            downloaded = vendor_package(name, files, lock)
        except VendorError as error:
            print(f"vendor_static: {name}: {error}", file=sys.stderr)
            return 1
        if downloaded:
            version = lock["packages"][f"node_modules/{name}"]["version"]
            print(f"vendor_static: {name} {version} -> {(VENDOR_ROOT / name).relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
