"""Browser tests' shared plumbing: headless Chromium through Playwright, against a real web server.

The fixtures and steps every browser test uses (the dashboard's, the player's, the
pages'), kept here so that no app's tests borrow another app's test module. Without
Chromium or Playwright the tests that use them skip, except in CI (the CI variable
set), where they fail: there they must run.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from attendance_site.testing.processes import child_process_env
from attendance_site.testing.web_server import WebServer

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser_requirements` fixture
    # Left unset on purpose: the fixture skips (or in CI fails) before either is used.
    expect = sync_playwright = None  # type: ignore[assignment]

__all__ = [
    "ARTIFACTS",
    "browser_requirements",
    "csp_violations",
    "expect",
    "log_in",
    "page",
    "screenshot",
    "server_env",
    "static_root",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"

PAGE_TIMEOUT_MS = 10_000  # default for every page action and expectation


def _browser_missing_reason() -> str | None:
    if sync_playwright is None:
        return "the Python package playwright is not installed (requirements-dev.txt)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (Debian packages chromium and chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser_requirements():
    """Skip without Chromium or Playwright; in CI, fail instead: there these tests must run."""
    reason = _browser_missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def static_root(tmp_path_factory, browser_requirements) -> Path:
    """The static files, collected once: with DEBUG off, WhiteNoise serves only STATIC_ROOT."""
    root = tmp_path_factory.mktemp("static-root")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "STATIC_ROOT": str(root), "DJANGO_SETTINGS_MODULE": "attendance_site.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"collectstatic failed:\n{result.stdout}\n{result.stderr}")
    assert (root / "dashboard" / "live.js").is_file()
    return root


@pytest.fixture(scope="module")
def server_env(browser_requirements, django_db_setup, static_root) -> dict[str, str]:
    """The web server's environment: this run's test database and Redis; check-ins publish in-process (eager tasks)."""
    return child_process_env(STATIC_ROOT=str(static_root))


# Every page records what its Content-Security-Policy refused, and says so on the console.
CSP_VIOLATIONS_RECORDER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const refused = event.blockedURI || "inline code";
  const text = `Content Security Policy violation: ${event.violatedDirective} refused ${refused}`;
  window.cspViolations.push(text);
  console.error(text);
});
"""


def csp_violations(page) -> list[str]:
    """What the Content-Security-Policy refused on the page since it was loaded."""
    return page.evaluate("() => window.cspViolations")


@pytest.fixture
def page(browser_requirements, request):
    """A fresh headless Chromium page. Request it last: the test data must exist before it starts.

    If the test fails, the page's console and a screenshot (artifacts/<test>-failure.png)
    are kept for the report. Any test whose pages break the Content-Security-Policy fails.
    """
    failure_screenshot = f"{request.node.name}-failure"
    (ARTIFACTS / f"{failure_screenshot}.png").unlink(missing_ok=True)  # from an earlier run
    failures_before = request.session.testsfailed
    console: list[str] = []
    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(CSP_VIOLATIONS_RECORDER)
            browser_page = context.new_page()
            browser_page.set_default_timeout(PAGE_TIMEOUT_MS)
            browser_page.on("console", lambda message: console.append(f"console.{message.type}: {message.text}"))
            browser_page.on("pageerror", lambda error: console.append(f"page error: {error}"))
            yield browser_page
            if request.session.testsfailed > failures_before:
                screenshot(browser_page, failure_screenshot)
                print("--- browser console ---\n" + "\n".join(console))
            refused = [message for message in console if "Content Security Policy" in message]
            assert refused == [], "the Content-Security-Policy refused:\n" + "\n".join(refused)
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, server: WebServer, username: str, password: str) -> None:
    """Through the login form, as a person would; ends on the dashboard with its socket open and state loaded."""
    page.goto(f"{server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/dashboard/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    # The server's hello triggers the first resync from the REST API.
    page.wait_for_function("() => document.body.dataset.synced !== undefined")
