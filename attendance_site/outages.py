"""While Redis or the database is down, requests get a 503 with Retry-After, never a 500.

An outage shows up as one of a few exception types from deep inside a request: the Redis
client (cache, Channels layer, Celery's result backend), kombu (Celery publishing a task)
or the database driver, wrapped by Django. Wherever it surfaces, it is answered here: in
the API's exception handler (:mod:`attendance_site.api`) for DRF views, and in
:func:`server_error` (Django's ``handler500``) for everything else: pages, the admin,
HLS files, middleware.

Writes that do not need Redis keep working during a Redis outage: the check-in path reads
shared cache versions through :func:`shared_version`, which falls back to the database.
"""

import logging
import sys
import time
import uuid

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # includes BusyLoadingError
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,  # Celery could not reach its broker
    OperationalError,  # the database refused or dropped the connection, or is locked
    InterfaceError,
)


def is_outage(error: BaseException | None) -> bool:
    """True if the error, or one it was raised from, says a dependency is unavailable."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OUTAGE_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unavailable for the moment; retry later."
    default_code = "service_unavailable"

    def __init__(self) -> None:
        super().__init__()
        # drf-standardized-errors turns `wait` into the Retry-After header.
        self.wait = settings.OUTAGE_RETRY_AFTER_SECONDS


def outage_log(error: BaseException) -> None:
    logger.warning("dependency unavailable: %s: %s", type(error).__name__, error)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500: a 503 for an outage, else a 500; JSON under /api/, HTML elsewhere."""
    error = sys.exc_info()[1]
    if is_outage(error):
        assert error is not None
        outage_log(error)
        code, status_code, detail = "service_unavailable", 503, ServiceUnavailable.default_detail
    else:
        code, status_code, detail = "error", 500, "Server Error (500)"
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"type": "server_error", "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status_code
        )
    else:
        # No context processors, no database: the page must render when nothing else does.
        body = loader.get_template("error.html").render({"status": status_code, "detail": detail})
        response = HttpResponse(body, status=status_code)
    if status_code == 503:
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    return response


class RedisBreaker:
    """Remembers, per process, that Redis just failed, so optional uses skip it for a while.

    A paused Redis costs every call the full socket timeout; a check-in that asks Redis
    twice (a cache version, the delivery task) would wait twice that. After one failure,
    calls that have a fallback (read the database, leave the event to the sweeper) take
    it at once until ``REDIS_BREAKER_SECONDS`` have passed; then one call tries again.
    """

    def __init__(self) -> None:
        self._open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, error: BaseException) -> None:
        outage_log(error)
        self._open_until = time.monotonic() + settings.REDIS_BREAKER_SECONDS


redis_breaker = RedisBreaker()


def shared_version(key: str) -> str | None:
    """The current value of a shared cache version key (created when missing), or None when Redis is down.

    Per-process caches (galleries, rule sets) compare it with the version they were built
    at; None means "cannot tell", and the caller reads the database instead of trusting
    its copy, so a Redis outage costs speed, not correctness.
    """
    if redis_breaker.is_open():
        return None
    try:
        version = cache.get(key)
        if version is None:
            cache.add(key, uuid.uuid4().hex, None)
            version = cache.get(key)
        return version
    except OUTAGE_ERRORS as error:
        redis_breaker.trip(error)
        return None


def shared_version_bump(key: str) -> None:
    """Tell every process its copy is stale; during an outage they re-read anyway (see shared_version)."""
    try:
        cache.set(key, uuid.uuid4().hex, None)
    except OUTAGE_ERRORS as error:
        redis_breaker.trip(error)
