"""Request-level guards that must run before any parser sees the body."""

from django.conf import settings
from django.http import JsonResponse


class RequestBodyLimitMiddleware:
    """Refuse oversized bodies with 413 from the declared length, before reading them.

    DRF's parsers stream the body without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so
    without this a huge JSON document would be read and parsed in full.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error_response(400, "invalid_content_length", "Content-Length is not a number.")
        is_upload = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        limit = settings.MAX_UPLOAD_BODY_BYTES if is_upload else settings.MAX_REQUEST_BODY_BYTES
        if declared_length > limit:
            return _error_response(
                413, "request_too_large", f"Request body is {declared_length} bytes; the limit is {limit}."
            )
        return self.get_response(request)


def _error_response(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]},
        status=status,
    )
