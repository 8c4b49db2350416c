"""Limits on what a request may make the web process hold, enforced before any parser runs.

Two layers, one policy (:func:`body_limit`):

- :class:`RequestLimitsMiddleware` wraps the whole ASGI application. It refuses a URL over
  ``MAX_URL_BYTES`` (414) and a declared ``Content-Length`` over the limit (413) without
  reading a byte of the body, and counts the bytes of every body as they arrive, so a
  chunked body (no ``Content-Length``) is cut off at the limit too. The server (uvicorn)
  hands the body over in small pieces and stops reading the socket while the application
  does not ask for more, so nothing beyond the limit is ever read, let alone parsed.
- :class:`RequestBodyLimitMiddleware` is the same check for the WSGI entry point (and
  Django's test client), where only the declared length is known before Django reads.

What does pass is spooled to a temporary file by Django once it is larger than
``FILE_UPLOAD_MAX_MEMORY_SIZE``, so even an accepted upload does not sit in memory.
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Any ASGI application: Channels types its own with asgiref's scope TypedDicts, which
# this module's plain mappings cannot be narrowed to.
ASGIApp = Callable[..., Awaitable[None]]


def body_limit(content_type: str) -> int:
    """Largest body accepted for a content type: uploads (photos, clips, runs) may be larger."""
    if content_type.lower().startswith("multipart/form-data"):
        return settings.MAX_UPLOAD_BODY_BYTES
    return settings.MAX_REQUEST_BODY_BYTES


def error_document(code: str, detail: str) -> dict:
    """The API's error format (drf-standardized-errors), for answers given before DRF runs."""
    return {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]}


def _too_large_detail(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


class RequestLimitsMiddleware:
    """ASGI middleware: URL length and body size, checked while the request streams in."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > settings.MAX_URL_BYTES:
            await _answer(send, 414, "url_too_long", f"The URL is longer than {settings.MAX_URL_BYTES} bytes.")
            return
        headers = dict(scope.get("headers") or [])
        limit = body_limit(headers.get(b"content-type", b"").decode("latin-1"))
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, 400, "invalid_content_length", "Content-Length is not a number.")
                return
            if int(declared) > limit:
                await _answer(send, 413, "request_too_large", _too_large_detail(limit))
                return

        received = 0
        exceeded = False

        async def receive_within_limit() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # To the application the client has gone: Django's body reader stops
                    # with RequestAborted and answers nothing; the 413 is ours to send.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        response_started = False

        async def send_tracking(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, receive_within_limit, send_tracking)
        if exceeded and not response_started:
            await _answer(send, 413, "request_too_large", _too_large_detail(limit))


async def _answer(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps(error_document(code, detail)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is never read: the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimitMiddleware:
    """Django middleware: the declared length, for the WSGI entry point and the test client."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            return JsonResponse(error_document("invalid_content_length", "Content-Length is not a number."), status=400)
        limit = body_limit(request.META.get("CONTENT_TYPE", ""))
        if int(declared) > limit:
            return JsonResponse(error_document("request_too_large", _too_large_detail(limit)), status=413)
        return self.get_response(request)
