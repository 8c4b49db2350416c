"""The live dashboard in a real browser, against a real web server (uvicorn, as `make run` starts it).

Headless Chromium (driven by Playwright) logs in through the login form of a web server
process that serves this run's test database and the Channels layer over Redis. A
device check-in posted to that server reaches the open page through the WebSocket; a
viewer gets no edit controls and nothing of other sites; a restarted server is
reconnected to and resynced from without a reload. Each test leaves a screenshot in
artifacts/ at the repository root.

Without Chromium or Playwright these tests skip, except in CI (the CI variable set),
where they fail: there they must run.

Playwright's sync API keeps an asyncio loop running in the test's thread while a
browser is open, where Django refuses ORM calls and async_to_sync refuses to run: the
test data is created by fixtures before the browser starts, and any later database
work goes through `outside_the_browser_loop`.
"""

import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from accounts.models import Role
from accounts.services import user_create
from attendance.models import Device
from attendance.services import attendance_event_record
from attendance_site.testing.browser import (  # noqa: F401 (fixtures, and names other browser tests import)
    ARTIFACTS,
    browser_requirements,
    csp_violations,
    expect,
    log_in,
    page,
    screenshot,
    server_env,
    static_root,
)
from attendance_site.testing.web_server import WebServer, web_serving
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHECK_IN = "/api/attendance/device/check-in/"

LIVE_WITHIN_SECONDS = 1.0  # the bound: a check-in is on the open page within 1 s
OTHER_SITE_QUIET_SECONDS = 1.5
RECONNECT_TIMEOUT_MS = 30_000  # the page retries with a backoff of 1, 2, 4, 8, 10 s

ADMIN_USERNAME, ADMIN_PASSWORD = "browser-admin", "pw-browser-admin-1"
VIEWER_USERNAME, VIEWER_PASSWORD = "browser-viewer", "pw-browser-viewer-1"

# No proxy from the environment may stand between the tests and 127.0.0.1.
_local_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def server(server_env, tmp_path, request):  # noqa: F811 (the fixture imported above)
    """A web server process of this test's own.

    Not one per module: each transactional test ends with a flush, after which content
    types and permissions come back under new ids, and a server process that cached the
    old ones (Django's ContentType cache) finds nobody's site permissions.
    """
    with web_serving(env=server_env, log_path=tmp_path / "web.log", request=request) as web:
        yield web


def outside_the_browser_loop(function, /, *args, **kwargs):
    """Run database work in a thread of its own, where no asyncio loop is running."""

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result(timeout=60)


# --- Data, created before the browser starts ------------------------------------------


@pytest.fixture
def browser_admin(db):
    return user_create(username=ADMIN_USERNAME, password=ADMIN_PASSWORD, role=Role.ADMIN, all_sites=True)


@pytest.fixture
def browser_viewer(site_a):
    return user_create(username=VIEWER_USERNAME, password=VIEWER_PASSWORD, role=Role.VIEWER, sites=[site_a])


@pytest.fixture
def colleague_a(site_a):
    """A second person at site A, for a check-in after the first."""
    return EmployeeFactory(site=site_a)


# --- Steps ------------------------------------------------------------------------------


def device_check_in(server: WebServer, created_device, employee) -> dict:
    """A check-in as a device sends it, over HTTP to the server; returns the stored event."""
    body = {"employee": employee.pk, "client_event_id": f"browser-{uuid.uuid4().hex}", "method": "pin"}
    request = urllib.request.Request(  # noqa: S310 (our own server on 127.0.0.1)
        f"{server.url}{CHECK_IN}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Device {created_device.credential}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with _local_http.open(request, timeout=10) as response:
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        pytest.fail(f"check-in refused with {error.code}: {error.read().decode(errors='replace')}")
    assert status == 201, answer
    return answer["event"]


def feed_item(page, event_id: int):  # noqa: F811 (the fixture imported above)
    return page.locator(f'#feed li[data-event="{event_id}"]')


def record_websocket_frames(page) -> list[dict]:  # noqa: F811 (the fixture imported above)
    """Every message the page's WebSockets receive, as sent by the server (before the page filters)."""
    frames: list[dict] = []

    def on_socket(socket_):
        socket_.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


# --- Tests --------------------------------------------------------------------------------


def test_admin_logs_in_and_sees_a_device_check_in_appear_live_within_a_second(
    server,
    browser_admin,
    site_a,
    device_a,
    employee_a,
    page,  # noqa: F811 (the fixture imported above)
):
    log_in(page, server, ADMIN_USERNAME, ADMIN_PASSWORD)
    checked_in = page.locator("#count-checked_in")
    expect(checked_in).to_have_text("0")
    # An admin has edit controls (what the viewer test shows to be absent).
    expect(page.locator("#devices button.revoke")).to_have_count(1)
    expect(page.locator('header nav a[href="/admin/"]')).to_have_text("Admin")

    event = device_check_in(server, device_a, employee_a)
    answered_at = time.monotonic()
    page.locator(f'#feed li.fresh[data-event="{event["id"]}"]').wait_for(state="visible", timeout=5_000)
    delay = time.monotonic() - answered_at

    assert delay <= LIVE_WITHIN_SECONDS, f"the check-in took {delay:.3f} s to appear on the page"
    expect(feed_item(page, event["id"])).to_contain_text(f"({employee_a.employee_code}) checked in by pin")
    expect(checked_in).to_have_text("1")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    screenshot(page, "dashboard-admin")


def test_viewer_has_no_edit_controls_and_a_forged_revoke_from_their_session_is_refused(
    server,
    browser_viewer,
    site_a,
    device_a,
    page,  # noqa: F811 (the fixture imported above)
):
    log_in(page, server, VIEWER_USERNAME, VIEWER_PASSWORD)
    expect(page.locator("#devices tr")).to_have_count(1)  # the devices panel has loaded the site's device
    expect(page.locator("#devices")).to_contain_text("Kiosk A")
    expect(page.locator("button.revoke")).to_have_count(0)
    expect(page.locator('a[href="/admin/"]')).to_have_count(0)
    expect(page.locator("header nav")).not_to_contain_text("Admin")
    csrf_token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")

    answer = page.evaluate(
        """async ([id, token]) => {
            const response = await fetch(`/api/attendance/devices/${id}/revoke/`, {
                method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin",
            });
            return { status: response.status, body: await response.text() };
        }""",
        [device_a.device.pk, csrf_token],
    )

    assert answer["status"] == 403, answer
    assert "CSRF" not in answer["body"], "refused for a bad CSRF token, not for the viewer's role"
    device = outside_the_browser_loop(Device.objects.get, pk=device_a.device.pk)
    assert device.is_revoked is False
    assert device.revoked_at is None
    screenshot(page, "dashboard-viewer")


def test_viewer_sees_nothing_of_another_site_on_the_page_or_the_socket(
    server,
    browser_viewer,
    site_a,
    site_b,
    device_a,
    device_b,
    employee_a,
    employee_b,
    page,  # noqa: F811 (the fixture imported above)
):
    frames = record_websocket_frames(page)
    log_in(page, server, VIEWER_USERNAME, VIEWER_PASSWORD)
    assert site_a.name in page.content()
    assert site_b.name not in page.content()

    # Site B's check-in goes out first: if it were delivered, it would arrive first.
    event_b = device_check_in(server, device_b, employee_b)
    sent_b_at = time.monotonic()
    event_a = device_check_in(server, device_a, employee_a)
    feed_item(page, event_a["id"]).wait_for(state="visible", timeout=5_000)
    page.wait_for_timeout(max(0.0, OTHER_SITE_QUIET_SECONDS - (time.monotonic() - sent_b_at)) * 1000)

    expect(feed_item(page, event_b["id"])).to_have_count(0)
    html = page.content()
    assert site_b.name not in html
    assert employee_b.employee_code not in html
    received_sites = {frame.get("site") for frame in frames if frame.get("type") != "hello"}
    assert received_sites == {site_a.pk}, frames
    assert [frame["sites"] for frame in frames if frame["type"] == "hello"] == [[site_a.pk]]
    screenshot(page, "dashboard-viewer-site-a-only")


def test_page_reconnects_after_a_server_restart_and_resyncs_the_missed_check_in_without_a_reload(
    server,
    browser_admin,
    site_a,
    device_a,
    employee_a,
    colleague_a,
    page,  # noqa: F811 (the fixture imported above)
):
    log_in(page, server, ADMIN_USERNAME, ADMIN_PASSWORD)
    badge = page.locator("#connection")
    page.evaluate("() => { window.notReloaded = true; }")
    synced_before = page.evaluate("() => document.body.dataset.synced")

    server.stop()
    expect(badge).not_to_have_attribute("data-state", "live")
    # Recorded while the server is down: announced to a Channels group nobody listens to.
    missed = outside_the_browser_loop(
        attendance_event_record,
        employee=employee_a,
        direction="in",
        method="pin",
        device=device_a.device,
        client_event_id=f"missed-{uuid.uuid4().hex}",
    ).event
    server.start()

    expect(badge).to_have_attribute("data-state", "live", timeout=RECONNECT_TIMEOUT_MS)
    page.wait_for_function("(before) => document.body.dataset.synced !== before", arg=synced_before)
    missed_item = feed_item(page, missed.pk)
    expect(missed_item).to_be_visible()
    expect(missed_item).not_to_have_class("fresh")  # from the REST resync, not the socket
    expect(page.locator("#count-checked_in")).to_have_text("1")
    assert page.evaluate("() => window.notReloaded === true"), "the page was reloaded"

    # And the stream goes on over the new connection.
    later = device_check_in(server, device_a, colleague_a)
    expect(page.locator(f'#feed li.fresh[data-event="{later["id"]}"]')).to_be_visible(timeout=5_000)
    expect(page.locator("#count-checked_in")).to_have_text("2")
    screenshot(page, "dashboard-reconnected")


def test_websocket_without_a_session_is_refused_in_the_browser(server, page):  # noqa: F811 (the fixture imported above)
    page.goto(f"{server.url}/accounts/login/")

    outcome = page.evaluate(
        """() => new Promise((resolve) => {
            const socket = new WebSocket(`ws://${location.host}/ws/live/`);
            let opened = false;
            socket.addEventListener("open", () => { opened = true; });
            socket.addEventListener("close", (event) => resolve({ opened, closed: true, code: event.code }));
            setTimeout(() => resolve({ opened, closed: false, code: null }), 5000);
        })"""
    )

    assert outcome["closed"] is True, outcome
    assert outcome["opened"] is False, outcome
    screenshot(page, "websocket-anonymous-refused")
