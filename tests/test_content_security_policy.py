"""Every response carries a Content-Security-Policy that forbids inline script and framing.

The pages still working under it is shown in a real browser (tests/test_pages_browser.py);
here: the header on pages, API answers and errors, and no inline code in our templates.
"""

import re

import pytest

from biometrics.services.qr import qr_page_link_issue
from streaming.models import CameraStream


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for directive in header.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


@pytest.fixture
def pages(client, admin_user, site_a, employee_a) -> dict:
    """Our own pages as a browser gets them: the login page before logging in, the others after."""
    stream = CameraStream.objects.create(site=site_a, name="Lobby", url_without_credentials="rtsp://10.20.1.7/s")
    responses = {"login": client.get("/accounts/login/")}
    client.force_login(admin_user)
    responses["dashboard"] = client.get("/dashboard/")
    responses["stream player"] = client.get(f"/streams/{stream.pk}/")
    responses["QR page"] = client.get(f"/qr/{qr_page_link_issue(employee=employee_a)}/")
    assert {name: response.status_code for name, response in responses.items()} == dict.fromkeys(responses, 200)
    return responses


def test_our_pages_allow_no_inline_script_no_framing_and_no_other_origin(pages):
    for name, response in pages.items():
        policy = directives(response)
        assert policy["default-src"] == ["'self'"], name
        assert policy["script-src"] == ["'self'"], name  # no 'unsafe-inline', and no nonce unused
        assert policy["style-src"] == ["'self'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["connect-src"] == ["'self'", "ws://testserver"], name
        assert policy["media-src"] == ["'self'", "blob:"], name  # hls.js plays MediaSource blob: URLs
        assert policy["worker-src"] == ["'self'", "blob:"], name  # and runs its worker from one


def test_our_pages_have_no_inline_script_or_style(pages):
    for name, response in pages.items():
        html = response.content.decode()
        inline_scripts = [
            tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag and "application/json" not in tag
        ]
        assert inline_scripts == [], name
        assert "<style" not in html, name
        assert not re.search(r"\son[a-z]+=", html), name  # no event handler attributes
        assert not re.search(r"\sstyle=", html), name


@pytest.mark.parametrize(
    "url, status",
    [
        ("/api/employees/sites/", 200),
        ("/api/employees/sites/999999/", 404),
        ("/api/schema/", 200),
        ("/admin/", 200),
        ("/api/docs/", 200),
        ("/healthz", 200),
        ("/no-such-page/", 404),
    ],
)
def test_api_answers_admin_and_errors_carry_the_policy_too(client, admin_user, url, status):
    client.force_login(admin_user)

    response = client.get(url)

    assert response.status_code == status
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_third_party_pages_may_use_inline_styles_but_never_inline_scripts(client, admin_user):
    client.force_login(admin_user)

    for url in ("/admin/", "/api/docs/"):
        policy = directives(client.get(url))
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"], url
        assert policy["script-src"] == ["'self'"], url


def test_swagger_ui_loads_its_start_up_script_from_a_url_not_inline(client, admin_user):
    client.force_login(admin_user)

    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    script = client.get(sources[-1].replace("&amp;", "&"))

    assert [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag] == []
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_over_https_the_websocket_source_is_wss(client, admin_user, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client.force_login(admin_user)

    response = client.get("/dashboard/", headers={"X-Forwarded-Proto": "https", "Host": "testserver"})

    assert directives(response)["connect-src"] == ["'self'", "wss://testserver"]
