"""The player page and the dashboard's camera tiles: site scope, and hls.js from our own static files."""

import base64
import hashlib
import importlib.util
import io
import re
import tarfile
from pathlib import Path

import pytest
from django.conf import settings

from streaming.models import CameraStream

REPO = Path(settings.BASE_DIR)
VENDORED_HLS = "/static/vendor/hls.js/hls.min.js"


@pytest.fixture
def lobby_a(site_a):
    return CameraStream.objects.create(site=site_a, name="Lobby A", url_without_credentials="rtsp://10.20.1.7/s")


@pytest.fixture
def gate_b(site_b):
    return CameraStream.objects.create(site=site_b, name="Gate B", url_without_credentials="rtsp://10.30.1.7/s")


def script_sources(html: str) -> list[str]:
    return re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)


def test_viewer_of_the_site_gets_the_player_with_the_vendored_hls_js(client, viewer_a, lobby_a):
    client.force_login(viewer_a)

    response = client.get(f"/streams/{lobby_a.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Lobby A" in html
    assert f'data-playlist="/streams/{lobby_a.pk}/hls/index.m3u8"' in html
    assert 'data-state="starting"' in html
    assert script_sources(html) == [VENDORED_HLS, "/static/live-socket.js", "/static/streaming/player.js"]
    assert "cdn" not in html.lower() and "unpkg" not in html and "https://" not in html


def test_player_of_another_sites_stream_is_not_found(client, viewer_a, gate_b):
    client.force_login(viewer_a)

    assert client.get(f"/streams/{gate_b.pk}/").status_code == 404
    assert client.get("/streams/987654/").status_code == 404


def test_anonymous_player_request_goes_to_the_login_page(client, lobby_a):
    response = client.get(f"/streams/{lobby_a.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_person_without_a_role_sees_no_stream(client, django_user_model, lobby_a):
    client.force_login(django_user_model.objects.create_user(username="nobody", password="pw"))

    assert client.get(f"/streams/{lobby_a.pk}/").status_code == 404


def test_dashboard_has_a_tile_for_each_visible_camera_and_none_of_another_site(client, viewer_a, lobby_a, gate_b):
    client.force_login(viewer_a)

    html = client.get("/dashboard/").content.decode()

    assert 'id="panel-cameras"' in html
    assert f'id="camera-tile-{lobby_a.pk}"' in html
    assert f'href="/streams/{lobby_a.pk}/"' in html
    assert f'data-playlist="/streams/{lobby_a.pk}/hls/index.m3u8"' in html
    assert "Gate B" not in html and f"/streams/{gate_b.pk}/" not in html
    assert VENDORED_HLS in script_sources(html)


def test_admin_of_every_site_gets_tiles_tagged_with_their_site(client, admin_user, lobby_a, gate_b):
    client.force_login(admin_user)

    html = client.get("/dashboard/").content.decode()

    assert re.search(rf'id="camera-tile-{lobby_a.pk}"[^>]*data-site="{lobby_a.site_id}"', html)
    assert re.search(rf'id="camera-tile-{gate_b.pk}"[^>]*data-site="{gate_b.site_id}"', html)


def test_no_camera_panel_for_people_without_a_camera(client, viewer_a, gate_b):
    client.force_login(viewer_a)

    html = client.get("/dashboard/").content.decode()

    assert 'id="panel-cameras"' not in html
    assert VENDORED_HLS not in html


# --- scripts/vendor_static.py: hls.js from the npm registry, pinned by package-lock.json --------


def load_vendor_script():
    spec = importlib.util.spec_from_file_location("vendor_static", REPO / "scripts" / "vendor_static.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def npm_tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def lock_for(tarball: bytes, version: str = "9.9.9") -> dict:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    resolved = f"https://registry.npmjs.org/hls.js/-/hls.js-{version}.tgz"
    entry = {"version": version, "resolved": resolved, "integrity": integrity}
    return {"packages": {"node_modules/hls.js": entry}}


@pytest.fixture
def vendor(tmp_path, monkeypatch):
    module = load_vendor_script()
    monkeypatch.setattr(module, "VENDOR_ROOT", tmp_path / "vendor")
    return module


def test_package_lock_pins_an_exact_hls_js_from_the_npm_registry():
    import json

    lock = json.loads((REPO / "package-lock.json").read_text())
    package = json.loads((REPO / "package.json").read_text())

    version, resolved, integrity = load_vendor_script().locked_package(lock, "hls.js")
    assert package["dependencies"]["hls.js"] == version  # exact, no ^ or ~
    assert resolved == f"https://registry.npmjs.org/hls.js/-/hls.js-{version}.tgz"
    assert integrity.startswith("sha512-")


def test_vendoring_writes_the_files_once_and_skips_the_download_when_current(vendor, monkeypatch):
    tarball = npm_tarball({"dist/hls.min.js": b"var Hls;", "LICENSE": b"Apache-2.0", "README.md": b"x"})
    downloads: list[str] = []

    def download(url: str) -> bytes:
        downloads.append(url)
        return tarball

    monkeypatch.setattr(vendor, "download", download)
    lock = lock_for(tarball)

    first = vendor.vendor_package("hls.js", ("dist/hls.min.js", "LICENSE"), lock)
    second = vendor.vendor_package("hls.js", ("dist/hls.min.js", "LICENSE"), lock)

    target = vendor.VENDOR_ROOT / "hls.js"
    assert (first, second) == (True, False)
    assert downloads == ["https://registry.npmjs.org/hls.js/-/hls.js-9.9.9.tgz"]
    assert (target / "hls.min.js").read_bytes() == b"var Hls;"
    assert (target / "LICENSE").read_bytes() == b"Apache-2.0"
    assert not (target / "README.md").exists()
    assert (target / ".vendored").read_text().startswith("9.9.9 sha512-")


def test_a_tarball_that_does_not_match_the_lock_is_refused_and_nothing_written(vendor, monkeypatch):
    genuine = npm_tarball({"dist/hls.min.js": b"var Hls;", "LICENSE": b"Apache-2.0"})
    tampered = npm_tarball({"dist/hls.min.js": b"steal(document.cookie)", "LICENSE": b"Apache-2.0"})
    monkeypatch.setattr(vendor, "download", lambda url: tampered)

    with pytest.raises(vendor.VendorError, match="integrity"):
        vendor.vendor_package("hls.js", ("dist/hls.min.js", "LICENSE"), lock_for(genuine))

    assert not (vendor.VENDOR_ROOT / "hls.js").exists()


def test_a_failed_download_says_what_to_do(vendor, monkeypatch):
    def offline(url, timeout):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(vendor.urllib.request, "urlopen", offline)
    tarball = npm_tarball({"dist/hls.min.js": b"var Hls;", "LICENSE": b"Apache-2.0"})

    with pytest.raises(vendor.VendorError, match=r"could not download .*Network is unreachable.*HTTPS_PROXY"):
        vendor.vendor_package("hls.js", ("dist/hls.min.js", "LICENSE"), lock_for(tarball))
