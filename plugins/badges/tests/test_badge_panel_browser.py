"""The badge panel in a real browser, as the dashboard renders it (artifacts/badge-panel.png).

Headless Chromium against a real web server process, like dashboard/tests/test_browser.py;
skipped without Chromium or Playwright except in CI.
"""

import pytest

from accounts.models import Role
from accounts.services import user_create
from attendance.services import attendance_event_record
from attendance_site.testing.browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    browser_requirements,
    expect,
    log_in,
    page,
    server_env,
    static_root,
)
from attendance_site.testing.web_server import web_serving

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME, PASSWORD = "badge-browser-admin", "pw-badge-browser-1"


@pytest.fixture
def server(server_env, tmp_path, request):  # noqa: F811 (the fixture imported above)
    with web_serving(env=server_env, log_path=tmp_path / "web.log", request=request) as web:
        yield web


@pytest.fixture
def badge_check_in(badge_a, badge_b, device_a) -> None:
    """Site A: two badges (one in B), one checked in today; created before the browser starts."""
    user_create(username=USERNAME, password=PASSWORD, role=Role.ADMIN, all_sites=True)
    attendance_event_record(
        employee=badge_a.employee, device=device_a.device, direction="in", method="badge", client_event_id="b-1"
    )


def test_badge_panel_shows_the_sites_badge_figures_in_the_browser(server, site_a, badge_check_in, page):  # noqa: F811
    log_in(page, server, USERNAME, PASSWORD)
    panel = page.locator("#panel-badges")

    expect(panel.locator("tr[data-site]")).to_have_count(2)
    expect(panel.locator(f'tr[data-site="{site_a.pk}"]')).to_have_text("Site A11")
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "badge-panel.png"))
