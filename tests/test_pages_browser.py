"""Every page still works in a real browser under the Content-Security-Policy, and it refuses nothing.

Headless Chromium (the dashboard tests' fixtures) opens the login page, the dashboard,
the admin (guardian's permission page included), Swagger UI, the stream player and an
employee's QR page of a real web server, and checks each one did its work: the
dashboard's socket is live, Swagger UI lists the API's operations, hls.js is loaded, the
QR code rotates. The page fixture fails any test whose pages break the policy; each
page is also checked on its own here. The live stream playing (MediaSource, hls.js's
blob: worker) is streaming/tests/test_player_browser.py, under the same fixture.
"""

import pytest

from attendance_site.testing.browser import (  # noqa: F401 (fixtures)
    browser_requirements,
    csp_violations,
    log_in,
    page,
    screenshot,
    server_env,
    static_root,
)
from attendance_site.testing.web_server import web_serving
from biometrics.services.qr import qr_page_link_issue
from dashboard.tests.test_browser import ADMIN_PASSWORD, ADMIN_USERNAME, browser_admin  # noqa: F401 (fixtures)
from streaming.models import CameraStream

try:
    from playwright.sync_api import expect
except ImportError:  # reported by the `browser_requirements` fixture
    # Left unset on purpose: the fixture skips (or in CI fails) before it is used.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.django_db(transaction=True)

QR_WINDOW_SECONDS = 2
SCHEMA_TIMEOUT_MS = 60_000  # the server builds the whole API's schema on the first request


@pytest.fixture
def server(server_env, tmp_path, request):  # noqa: F811 (replaces the dashboard tests' server)
    """A web server whose QR codes rotate every two seconds, so the page's refresh shows within a test."""
    with web_serving(
        env={**server_env, "QR_TOKEN_WINDOW_SECONDS": str(QR_WINDOW_SECONDS)},
        log_path=tmp_path / "web.log",
        request=request,
    ) as web:
        yield web


@pytest.fixture
def lobby_camera(site_a):
    """A registered camera with no pipeline running: its player page loads and waits."""
    return CameraStream.objects.create(site=site_a, name="Lobby camera", url_without_credentials="rtsp://10.9.9.9/s")


@pytest.fixture
def qr_link(employee_a) -> str:
    return f"/qr/{qr_page_link_issue(employee=employee_a)}/"


def log_in_by_form(browser_page, server, username: str, password: str) -> None:
    """The login form only; the dashboard's socket is the first test's business."""
    open_page(browser_page, f"{server.url}/accounts/login/")
    browser_page.fill("input[name=username]", username)
    browser_page.fill("input[name=password]", password)
    browser_page.get_by_role("button", name="Log in").click()
    browser_page.wait_for_url(f"{server.url}/dashboard/")


def open_page(browser_page, url: str) -> None:
    response = browser_page.goto(url)
    assert response.status == 200, f"{url}: {response.status}"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_login_dashboard_and_admin_work_under_the_policy(
    server,
    browser_admin,  # noqa: F811
    site_a,
    employee_a,
    page,  # noqa: F811
):
    log_in(page, server, ADMIN_USERNAME, ADMIN_PASSWORD)  # ends on the dashboard with its socket live
    assert csp_violations(page) == []

    for path in (
        "/admin/",
        "/admin/employees/employee/",
        f"/admin/employees/employee/{employee_a.pk}/change/",
        f"/admin/employees/site/{site_a.pk}/permissions/",
    ):
        open_page(page, f"{server.url}{path}")
        page.wait_for_load_state("load")
        expect(page.locator("#site-name")).to_be_visible()
        assert csp_violations(page) == [], path
    screenshot(page, "admin-under-csp")


def test_swagger_ui_lists_the_api_under_the_policy(
    server,
    browser_admin,  # noqa: F811
    page,  # noqa: F811
):
    log_in_by_form(page, server, ADMIN_USERNAME, ADMIN_PASSWORD)

    open_page(page, f"{server.url}/api/docs/")

    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=SCHEMA_TIMEOUT_MS)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/attendance/device/check-in/")
    assert csp_violations(page) == []
    screenshot(page, "swagger-ui-under-csp")


def test_stream_player_loads_hls_js_under_the_policy(
    server,
    browser_admin,  # noqa: F811
    lobby_camera,
    page,  # noqa: F811
):
    log_in_by_form(page, server, ADMIN_USERNAME, ADMIN_PASSWORD)

    open_page(page, f"{server.url}/streams/{lobby_camera.pk}/")

    page.wait_for_function("() => typeof window.Hls === 'function'")
    expect(page.locator(".stream-player h1")).to_contain_text("Lobby camera")
    page.wait_for_timeout(1_000)  # the player asks for the (absent) playlist meanwhile
    assert csp_violations(page) == []


def test_qr_page_rotates_its_code_under_the_policy(
    server,
    qr_link,
    page,  # noqa: F811
):
    open_page(page, f"{server.url}{qr_link}")
    image = page.locator("#qr")
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    first = image.get_attribute("src")

    page.wait_for_function(
        "(first) => document.getElementById('qr').getAttribute('src') !== first",
        arg=first,
        timeout=QR_WINDOW_SECONDS * 3 * 1000,
    )

    assert "?t=" in image.get_attribute("src")
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    assert csp_violations(page) == []
    screenshot(page, "qr-page-under-csp")
