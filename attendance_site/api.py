"""API plumbing shared by every app: the error format, aware datetimes, pagination."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.defaults import page_not_found
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.pagination import CursorPagination

from attendance_site.outages import ServiceUnavailable, is_outage, outage_log


class ApiExceptionHandler(ExceptionHandler):
    """Every error, whichever layer raised it, leaves in drf-standardized-errors' format.

    Services raise Django's ValidationError (they know nothing of DRF); here it becomes
    a 400 with the same field-by-field shape a serializer error has. A Redis or database
    outage becomes a 503 with Retry-After (attendance_site.outages).
    """

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            errors = exc.error_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.error_list}
            converted = exceptions.ValidationError()
            # Assigned, not passed to the constructor, which would reset every code to
            # "invalid": clients branch on codes such as "face_not_recognised".
            converted.detail = {
                ("non_field_errors" if field == "__all__" else field): [
                    ErrorDetail(message, code=error.code or "invalid")
                    for error in error_list
                    for message in error.messages
                ]
                for field, error_list in errors.items()
            }
            return converted
        if is_outage(exc) and not isinstance(exc, exceptions.APIException):  # those already say what failed
            outage_log(exc)
            return ServiceUnavailable()
        if isinstance(exc, RecursionError):
            # Python's json parser recurses per nesting level; DRF only catches ValueError.
            return exceptions.ParseError("JSON parse error - nested too deeply.")
        return super().convert_known_exceptions(exc)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's handler404: a URL no route matches (``/api/sites/1.5/``) is a 404 in the
    API's error format under /api/, like the 404s of the views; elsewhere the page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]},
            status=404,
        )
    return page_not_found(request, exception)


class AwareDateTimeField(serializers.DateTimeField):
    """A datetime that must carry its UTC offset.

    DRF silently reads a naive datetime in the server's zone; for attendance a guess
    shifts someone's working day, so a naive value is refused.
    """

    default_error_messages = {
        "naive": "Datetime has no timezone; send an offset, e.g. 2026-01-31T08:00:00+01:00.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class NewestFirstCursorPagination(CursorPagination):
    """Stable pages over large, growing tables: no COUNT(*) and no OFFSET scan."""

    ordering = "-occurred_at"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
