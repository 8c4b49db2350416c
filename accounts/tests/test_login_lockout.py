"""Login lockout per (username, address) on the three login paths: API token, site, admin."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from axes.models import AccessAttempt
from django.conf import settings
from django.test import AsyncClient, Client

from accounts.models import AuditLogEntry, LoginLockout
from attendance_site.events.models import DomainEvent

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.4"
ADMIN = ("hr-admin", "pw-admin-123")
VIEWER = ("viewer-a", "pw-viewer-a")
PATHS = ["api", "site", "admin"]


def _login(path: str, username: str, password: str, address: str):
    """One login attempt from a fresh browser or script at ``address``."""
    client = Client(REMOTE_ADDR=address)
    if path == "api":
        body = {"username": username, "password": password}
        return client.post("/api/auth/token/", body, content_type="application/json")
    if path == "site":
        return client.post("/accounts/login/", {"username": username, "password": password})
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


def _logged_in(path: str, response) -> bool:
    if path == "api":
        return response.status_code == 200 and "token" in response.json()
    return response.status_code == 302


def _refused_as_wrong_password(path: str, response) -> bool:
    if path == "api":
        return response.status_code == 400 and response.json()["errors"][0]["code"] == "authorization"
    message = b"Wrong username or password" if path == "site" else b"correct username and password"
    return response.status_code == 200 and message in response.content


def _assert_locked_out(path: str, response) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if path == "api":
        body = response.json()
        assert body["type"] == "client_error"
        assert [(e["code"], e["attr"]) for e in body["errors"]] == [("locked_out", None)]
    else:
        assert b"Login paused" in response.content
        assert b"Too many wrong passwords" in response.content


def _guess(path: str, username: str, times: int, address: str = ATTACKER) -> list:
    return [_login(path, username, "not-the-password", address) for _ in range(times)]


@pytest.mark.parametrize("path", PATHS)
def test_thirty_wrong_passwords_lock_out_the_username_at_that_address(path, admin_user):
    guesses = _guess(path, ADMIN[0], 30)
    right_password = _login(path, *ADMIN, ATTACKER)

    limit = settings.AXES_FAILURE_LIMIT
    assert all(_refused_as_wrong_password(path, response) for response in guesses[: limit - 1])
    for response in [*guesses[limit - 1 :], right_password]:
        _assert_locked_out(path, response)


@pytest.mark.parametrize("path", PATHS)
def test_the_locked_out_username_still_logs_in_from_another_address(path, admin_user):
    _guess(path, ADMIN[0], 30)

    assert _logged_in(path, _login(path, *ADMIN, ELSEWHERE))


@pytest.mark.parametrize("path", PATHS)
def test_another_person_still_logs_in_from_the_attackers_address(path, admin_user, viewer_a):
    # An office behind one address: someone guessing one colleague's password does not
    # lock out the others.
    _guess(path, ADMIN[0], 30)

    assert _logged_in(path, _login(path, *VIEWER, ATTACKER))


@pytest.mark.parametrize("path", PATHS)
def test_the_lockout_ends_after_the_cool_off_and_each_attempt_restarts_it(path, admin_user):
    cool_off = settings.AXES_COOLOFF_TIME
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        _guess(path, ADMIN[0], 30)

        traveller.shift(cool_off - timedelta(minutes=1))
        _assert_locked_out(path, _login(path, *ADMIN, ATTACKER))

        traveller.shift(cool_off - timedelta(seconds=1))
        _assert_locked_out(path, _login(path, *ADMIN, ATTACKER))

        traveller.shift(cool_off + timedelta(seconds=1))
        assert _logged_in(path, _login(path, *ADMIN, ATTACKER))


def test_failures_below_the_limit_lock_nothing_and_a_login_forgets_them(admin_user):
    below = settings.AXES_FAILURE_LIMIT - 1

    _guess("api", ADMIN[0], below)
    assert _logged_in("api", _login("api", *ADMIN, ATTACKER))
    _guess("api", ADMIN[0], below)
    assert _logged_in("api", _login("api", *ADMIN, ATTACKER))


def test_failures_count_across_login_paths(admin_user):
    _guess("site", ADMIN[0], settings.AXES_FAILURE_LIMIT - 1)
    _guess("admin", ADMIN[0], 1)

    _assert_locked_out("api", _login("api", *ADMIN, ATTACKER))


def test_a_lockout_is_recorded_once_with_an_audit_entry_a_domain_event_and_a_log_line(admin_user, admin_client, caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.services"):
        _guess("api", ADMIN[0], 30)

    lockout = LoginLockout.objects.get()
    assert (lockout.username, lockout.user, lockout.ip_address) == (ADMIN[0], admin_user, ATTACKER)
    assert (lockout.path, lockout.failures) == ("/api/auth/token/", settings.AXES_FAILURE_LIMIT)
    entry = AuditLogEntry.objects.get(action=AuditLogEntry.Action.LOCKOUT)
    assert entry.object_id == str(lockout.pk)
    assert entry.after is not None
    assert entry.after["ip_address"] == ATTACKER
    event = DomainEvent.objects.get(type="account.login_locked_out")
    assert event.payload == {
        "lockout_id": lockout.pk,
        "username": ADMIN[0],
        "ip_address": ATTACKER,
        "failures": settings.AXES_FAILURE_LIMIT,
        "path": "/api/auth/token/",
    }
    lines = [r.getMessage() for r in caplog.records if r.name == "accounts.services"]
    assert lines == [f"Login lockout: username 'hr-admin' from {ATTACKER} after 5 failed logins (/api/auth/token/)"]
    # Admins find it in the audit log; tokens issued before the lockout keep working.
    listed = admin_client.get("/api/accounts/audit-log/", {"action": "lockout"})
    assert [item["object_repr"] for item in listed.json()["results"]] == [f"hr-admin from {ATTACKER}"]


def test_a_username_that_names_nobody_is_locked_out_and_recorded_too(db):
    _guess("site", "no-such-person", settings.AXES_FAILURE_LIMIT)

    lockout = LoginLockout.objects.get()
    assert (lockout.username, lockout.user) == ("no-such-person", None)
    assert AuditLogEntry.objects.filter(action="lockout", object_id=str(lockout.pk)).exists()


def test_the_typed_passwords_are_not_kept_with_the_failed_attempts(admin_user):
    _login("site", ADMIN[0], "a-guess-of-mine", ATTACKER)
    _login("api", ADMIN[0], "another-guess", ATTACKER)

    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == 2
    assert "a-guess-of-mine" not in attempt.post_data
    assert "another-guess" not in attempt.post_data


@pytest.mark.parametrize("path", ["api", "site"])
def test_the_lockout_answer_is_the_same_through_the_asgi_stack(path, admin_user):
    # The web server runs Django's middleware asynchronously, where axes 8.3.1 passes
    # its lockout callable the wrong arguments; the answer must not depend on them.
    client = AsyncClient(REMOTE_ADDR=ATTACKER)
    url = "/api/auth/token/" if path == "api" else "/accounts/login/"
    guess = {"username": ADMIN[0], "password": "not-the-password"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        if path == "api":
            async_to_sync(client.post)(url, guess, content_type="application/json")
        else:
            async_to_sync(client.post)(url, guess)

    _assert_locked_out(path, async_to_sync(client.post)(url, {"username": ADMIN[0], "password": ADMIN[1]}))
