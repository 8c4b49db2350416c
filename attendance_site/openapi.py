"""The OpenAPI document's error responses: every answer an operation can give, documented once.

drf-standardized-errors documents the error format per operation, but only the errors it
can infer from a view's classes. This schema class adds what the project's own layers
answer on every operation:

- 400 ``validation_error`` wherever input is checked: a body, query parameters, or a write
  (services refuse writes the state does not allow), in one generic shape, because
  services add their own codes (``face_not_recognised``) and attributes
  (``readings.3.light.value``) that a per-field enumeration would not list;
- 400 ``client_error`` for a malformed body or ``Content-Length``;
- 413 for operations that take a body (``attendance_site.request_limits``);
- 414 for an over-long URL (the web server's request limits);
- 429 with ``Retry-After`` where a view is throttled;
- 503 ``service_unavailable`` with ``Retry-After`` when Redis or the database is down.

A view whose real answer differs (another 503 code, a list instead of an object) says so
with ``@extend_schema``; what it declares wins over what is added here.
"""

from django.db import models
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum, ValidationErrorEnum
from rest_framework import serializers

RETRY_AFTER_STATUS_CODES = ("429", "503")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def error_response_serializer(
    *, name: str, error_type: type[models.TextChoices], codes: list[str]
) -> type[serializers.Serializer]:
    """A serializer documenting ``{"type": ..., "errors": [{"code", "detail", "attr": null}]}``.

    ``name`` (``ErrorResponse413``) becomes the component name, ``name`` without
    "Response" (``Error413``) that of one error.
    """
    item = type(
        f"{name.replace('Response', '')}Serializer",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=[(code, code) for code in codes]),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return type(
        f"{name}Serializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=error_type.choices),
            "errors": item(many=True),
        },
    )


class ValidationErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="E.g. required, invalid, does_not_exist, or a rule's own code.")
    detail = serializers.CharField()
    attr = serializers.CharField(
        allow_null=True,
        help_text="The field, dotted for nested ones (readings.0.recorded_at); non_field_errors for the whole body.",
    )


class ValidationErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ValidationErrorEnum.choices)
    # DRF's metaclass moves declared fields out of the class: this shadows no Serializer.errors.
    errors = ValidationErrorItemSerializer(many=True)  # type: ignore[assignment]


ClientErrorResponse400Serializer = error_response_serializer(
    name="ClientErrorResponse400", error_type=ClientErrorEnum, codes=["parse_error", "invalid_content_length"]
)
ErrorResponse413Serializer = error_response_serializer(
    name="ErrorResponse413", error_type=ClientErrorEnum, codes=["request_too_large"]
)
ErrorResponse414Serializer = error_response_serializer(
    name="ErrorResponse414", error_type=ClientErrorEnum, codes=["url_too_long"]
)
ErrorResponse503Serializer = error_response_serializer(
    name="ErrorResponse503", error_type=ServerErrorEnum, codes=["service_unavailable"]
)


def service_unavailable_response(*, name: str, codes: list[str], description: str) -> OpenApiResponse:
    """A 503 that has reasons of its own (``codes``) besides an outage's ``service_unavailable``.

    For ``@extend_schema(responses={503: ...})``; the component is ``ErrorResponse503<name>``.
    """
    serializer = error_response_serializer(
        name=f"ErrorResponse503{name}", error_type=ServerErrorEnum, codes=[*codes, "service_unavailable"]
    )
    return OpenApiResponse(serializer, description=description)


EXTRA_ERROR_RESPONSES = {
    "413": OpenApiResponse(ErrorResponse413Serializer, description="The request body is larger than the limit."),
    "414": OpenApiResponse(ErrorResponse414Serializer, description="The URL is longer than the limit."),
    "503": OpenApiResponse(
        ErrorResponse503Serializer, description="Redis or the database is unavailable; retry after Retry-After."
    ),
}


class WallClockTimeFieldExtension(OpenApiSerializerFieldExtension):
    """Times of day (shift starts) are wall-clock times at the site: ``09:00:00``, no offset.

    JSON Schema's "time" format is an RFC 3339 time, which requires an offset; with it the
    document would call every shift the API returns invalid.
    """

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$", "example": "09:00:00"}


class AutoSchema(StandardizedErrorsAutoSchema):
    def _get_allowed_error_status_codes(self) -> list[str]:
        return [*super()._get_allowed_error_status_codes(), *EXTRA_ERROR_RESPONSES]

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "413" and status_code not in responses:
            return self._has_request_body()
        return super()._should_add_error_response(responses, status_code)

    def _should_add_validation_error_response(self) -> bool:
        return (
            super()._should_add_validation_error_response()
            or self.method in UNSAFE_METHODS
            or any(parameter["in"] == "query" for parameter in self._get_parameters())
        )

    def _has_request_body(self) -> bool:
        return self._get_request_body() is not None

    def _get_error_response_serializer(self, status_code: str):
        return EXTRA_ERROR_RESPONSES.get(status_code) or super()._get_error_response_serializer(status_code)

    def _get_http400_serializer(self):
        if not self._should_add_validation_error_response():
            return ClientErrorResponse400Serializer
        # The same shapes everywhere: one component, not one per operation.
        return PolymorphicProxySerializer(
            component_name="ErrorResponse400",
            serializers={
                ValidationErrorEnum.VALIDATION_ERROR.value: ValidationErrorResponseSerializer,
                ClientErrorEnum.CLIENT_ERROR.value: ClientErrorResponse400Serializer,
            },
            resource_type_field_name="type",
        )

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code in RETRY_AFTER_STATUS_CODES:
            headers.setdefault(
                "Retry-After",
                {
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "Seconds to wait before trying again.",
                },
            )
        return headers
