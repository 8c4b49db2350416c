"""django-axes hooks: who is calling, what a locked-out login gets, and where lockouts go.

axes counts failed logins per (username, address) on every path that calls Django's
``authenticate`` with the request: the site's login page, the admin's and the API token
endpoint. These functions are named in settings (``AXES_*_CALLABLE``) or connected in
``AccountsConfig.ready``; the recording itself is ``accounts.services.login_lockout_record``.
"""

import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

from accounts.services import login_lockout_record

API_PREFIX = "/api/"


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, read exactly as the DRF throttles read it (``NUM_PROXIES``).

    One rule for both, so that a lockout and a throttle never disagree about who is
    calling; anything that is not an address (a forged header) counts as unknown.
    """
    # get_ident reads only request.META, which a Django request has as a DRF one does.
    ident = BaseThrottle().get_ident(request) or ""  # type: ignore[arg-type]
    try:
        return str(ipaddress.ip_address(ident.strip()))
    except ValueError:
        return None


def lockout_seconds() -> int:
    """How long a locked pair waits from now.

    axes restarts the cool-off at every attempt made while locked out, the one being
    answered included, so the wait is always the whole cool-off.
    """
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the answer to any login attempt of a locked-out pair.

    The API gets its error format, people a page; both carry Retry-After. Only
    ``request`` is read: axes 8.3.1's async middleware passes the other two arguments
    in the wrong order.
    """
    seconds = lockout_seconds()
    if request.path_info.startswith(API_PREFIX):
        detail = (
            "Too many failed logins for this username from this address; "
            f"try again in {seconds} seconds or ask an admin to unlock it."
        )
        response: HttpResponse = JsonResponse(
            {"type": "client_error", "errors": [{"code": "locked_out", "detail": detail, "attr": None}]},
            status=429,
        )
    else:
        context = {"minutes": math.ceil(seconds / 60)}
        response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def on_user_locked_out(sender, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs) -> None:
    """Receiver of axes's ``user_locked_out``, which it sends for every refused attempt.

    Only the attempt that reached the limit starts a lockout; the later ones, refused
    while it lasts, are the same lockout and are not recorded again.
    """
    failures = getattr(request, "axes_failures_since_start", None)
    if failures != settings.AXES_FAILURE_LIMIT:
        return
    login_lockout_record(username=username or "", ip_address=ip_address, path=request.path_info, failures=failures)
