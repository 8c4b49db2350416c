"""Production settings: one switch (DJANGO_ENV=production) gives a deployment Django's own
deploy check passes, and a production process does not start without its secrets."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

# Settings a developer's shell or CI may carry that would change what is checked here.
SECURITY_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)


def manage(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in SECURITY_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "attendance_site.settings", **environment})
    return subprocess.run(  # noqa: S603 (this interpreter, our manage.py)
        [sys.executable, "manage.py", *arguments],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(**overrides: str) -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "attendance.example.com",
        **overrides,
    }


def test_production_settings_pass_the_deploy_check_with_warnings_as_failures():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_each_https_setting_can_be_set_from_the_environment():
    printed = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_PROXY_SSL_HEADER,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
        **production(
            SECURE_SSL_REDIRECT="false",
            SECURE_HSTS_SECONDS="600",
            SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
            SECURE_HSTS_PRELOAD="false",
            SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
        ),
    )

    assert printed.returncode == 0, printed.stderr
    values = printed.stdout.strip().splitlines()[-1]
    assert values == "False 600 False False ('HTTP_X_FORWARDED_PROTO', 'https') False False"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short-but-secret"}, "SECRET_KEY is too weak"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is not set"),
        ({"DEBUG": "true"}, "DEBUG must be false"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, "SECURE_PROXY_SSL_HEADER must be HEADER,value"),
    ],
    ids=["no-secret-key", "weak-secret-key", "no-allowed-hosts", "debug", "half-a-proxy-header"],
)
def test_a_production_process_does_not_start_without_what_it_needs(overrides, message):
    result = manage("check", **production(**overrides))

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr, result.stderr


def test_development_without_a_secret_key_still_starts_with_its_own_local_key():
    result = manage("check", SECRET_KEY="")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_health_probes_answer_plain_http_when_https_is_enforced(client, db, settings, probe):
    settings.SECURE_SSL_REDIRECT = True

    answer = client.get(probe)
    page = client.get("/accounts/login/")

    assert answer.status_code == 200
    assert page.status_code == 301
    assert page["Location"] == "https://testserver/accounts/login/"
