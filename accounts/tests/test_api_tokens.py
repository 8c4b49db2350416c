"""API tokens: obtained with a password, stored as digests, expiring, rotated and revoked."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

TOKEN_URL = "/api/auth/token/"
ROTATE_URL = "/api/auth/token/rotate/"
REVOKE_URL = "/api/auth/token/revoke/"
ME = "/api/accounts/me/"
CREDENTIALS = {"username": "hr-admin", "password": "pw-admin-123"}


def _obtain(address: str = "127.0.0.1") -> dict:
    response = Client(REMOTE_ADDR=address).post(TOKEN_URL, CREDENTIALS, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def _with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_token_is_obtained_with_a_password_and_says_when_it_expires(admin_user):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        body = _obtain()
        me = _with_token(body["token"]).get(ME)

    assert set(body) == {"token", "expiry"}
    assert body["expiry"] == _iso(datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + settings.API_TOKEN_TTL)
    assert me.json()["username"] == "hr-admin"


def test_form_encoded_credentials_still_work(admin_user):
    response = Client().post(TOKEN_URL, CREDENTIALS)

    assert response.status_code == 200
    assert _with_token(response.json()["token"]).get(ME).status_code == 200


def test_the_database_keeps_a_digest_of_the_token_never_the_token(admin_user):
    key = _obtain()["token"]

    stored = AuthToken.objects.get()
    assert stored.digest != key
    assert stored.digest == hashlib.sha512(key.encode()).hexdigest()
    # The short lookup prefix is all that is kept of the key itself; neither it nor the
    # digest opens anything.
    assert key.startswith(stored.token_key) and len(stored.token_key) < len(key) / 4
    assert _with_token(stored.digest).get(ME).status_code == 401
    assert _with_token(stored.token_key).get(ME).status_code == 401


def test_an_expired_token_gets_401(admin_user):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        key = _obtain()["token"]
        traveller.shift(settings.API_TOKEN_TTL - timedelta(seconds=1))
        assert _with_token(key).get(ME).status_code == 200

        traveller.shift(timedelta(seconds=2))
        response = _with_token(key).get(ME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["errors"][0]["code"] == "authentication_failed"
    assert not AuthToken.objects.exists()


def test_rotation_replaces_the_presented_token_with_one_of_a_whole_lifetime(admin_user):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        old = _obtain()["token"]
        traveller.shift(timedelta(hours=5))
        response = _with_token(old).post(ROTATE_URL)

        assert response.status_code == 200
        new = response.json()
        assert new["token"] != old
        assert new["expiry"] == _iso(datetime(2026, 3, 2, 14, 0, tzinfo=UTC) + settings.API_TOKEN_TTL)
        assert _with_token(old).get(ME).status_code == 401
        assert _with_token(new["token"]).get(ME).status_code == 200
        assert _with_token(old).post(ROTATE_URL).status_code == 401
        assert AuthToken.objects.count() == 1


def test_revoking_ends_the_presented_token_only(admin_user):
    laptop, script = _obtain()["token"], _obtain()["token"]

    response = _with_token(laptop).post(REVOKE_URL)

    assert response.status_code == 204
    assert _with_token(laptop).get(ME).status_code == 401
    assert _with_token(laptop).post(REVOKE_URL).status_code == 401
    assert _with_token(script).get(ME).status_code == 200


@pytest.mark.parametrize("url", [ROTATE_URL, REVOKE_URL])
def test_rotate_and_revoke_need_a_token(url, admin_user):
    anonymous = APIClient()
    with_session = APIClient()
    with_session.force_login(admin_user)

    assert anonymous.post(url).status_code == 401
    assert with_session.post(url).status_code == 401


def test_a_wrong_password_is_a_400_in_the_error_format(admin_user):
    response = Client().post(TOKEN_URL, {**CREDENTIALS, "password": "wrong"}, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {
                "code": "authorization",
                "detail": "Unable to log in with provided credentials.",
                "attr": "non_field_errors",
            }
        ],
    }
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "error_type", "codes"),
    [
        ('{"username": "hr-admin", "password": ', "client_error", {(None, "parse_error")}),
        ('{"username": 123, "password": "pw-admin-123"}', "validation_error", {("username", "invalid")}),
        ('{"username": ["hr-admin"], "password": "pw-admin-123"}', "validation_error", {("username", "invalid")}),
        ('{"username": "hr-admin", "password": {"a": 1}}', "validation_error", {("password", "invalid")}),
        ('{"username": "hr-admin", "password": true}', "validation_error", {("password", "invalid")}),
        ('{"username": "hr-admin", "password": null}', "validation_error", {("password", "null")}),
        ('{"username": "hr-admin"}', "validation_error", {("password", "required")}),
        ("{}", "validation_error", {("username", "required"), ("password", "required")}),
        ('["hr-admin", "pw-admin-123"]', "validation_error", {("non_field_errors", "invalid")}),
        (
            '{"username": "hr-admin", "password": "pw-admin-123", "otp": "1"}',
            "validation_error",
            {("otp", "unknown_field")},
        ),
    ],
    ids=["malformed", "number", "list", "object", "boolean", "null", "missing-password", "empty", "array", "unknown"],
)
def test_bad_input_on_the_token_endpoint_is_a_400_and_writes_nothing(body, error_type, codes, admin_user):
    response = Client().post(TOKEN_URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["type"] == error_type
    assert {(error["attr"], error["code"]) for error in response.json()["errors"]} == codes
    assert not AuthToken.objects.exists()
    assert not AccessAttempt.objects.exists()


def test_the_token_endpoint_is_throttled_per_address(admin_user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"},
    }
    for _ in range(3):
        _obtain("203.0.113.7")

    throttled = Client(REMOTE_ADDR="203.0.113.7").post(TOKEN_URL, CREDENTIALS, content_type="application/json")

    assert throttled.status_code == 429
    assert [error["code"] for error in throttled.json()["errors"]] == ["throttled"]
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert AuthToken.objects.count() == 3
    _obtain("198.51.100.4")


def test_beyond_the_per_person_cap_a_new_token_ends_the_oldest(admin_user, settings):
    settings.API_TOKENS_PER_USER_MAX = 2
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as traveller:
        first = _obtain()["token"]
        traveller.shift(timedelta(minutes=1))
        second = _obtain()["token"]
        traveller.shift(timedelta(minutes=1))
        third = _obtain()["token"]

        assert _with_token(first).get(ME).status_code == 401
        assert _with_token(second).get(ME).status_code == 200
        assert _with_token(third).get(ME).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_plain_tokens_from_before_are_kept_as_digests_and_keep_working(admin_user):
    # A database from before knox: rest_framework.authtoken's table with a plain key.
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0003_login_lockout")])
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer NOT NULL)")
        cursor.execute("INSERT INTO authtoken_token (key, user_id) VALUES (%s, %s)", [old_key, admin_user.pk])

    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0004_plain_tokens_to_digests")])

    assert "authtoken_token" not in connection.introspection.table_names()
    stored = AuthToken.objects.get()
    assert stored.digest == hashlib.sha512(old_key.encode()).hexdigest()
    assert _with_token(old_key).get(ME).status_code == 200


def test_expired_tokens_are_swept_when_the_person_gets_a_new_one(admin_user):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as traveller:
        _obtain()
        traveller.shift(settings.API_TOKEN_TTL + timedelta(minutes=1))
        current = _obtain()["token"]

        assert AuthToken.objects.count() == 1
        assert _with_token(current).get(ME).status_code == 200


def test_a_token_authenticates_a_request_in_one_query(admin_user, django_assert_num_queries):
    client = _with_token(_obtain()["token"])
    client.get(ME)

    # The token row and its person in one query (knox alone takes two); then the four
    # reads of /me/ itself: role, the person's and the group's permissions, sites.
    with django_assert_num_queries(5) as captured:
        client.get(ME)
    assert sum("knox_authtoken" in query["sql"] for query in captured.captured_queries) == 1
