"""Tests hold the API to its OpenAPI document: the document as clients get it, and a check
that an answer is one the document gives.

The document is generated in-process, as /api/schema/ generates it, and loaded into
Schemathesis, which validates answers (status code, body, content type) against it.
"""

import functools
import json

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation


@functools.cache
def api_operations() -> list[APIOperation]:
    """Every operation of the document; one the document describes wrongly fails here."""
    operations = []
    for result in api_schema().get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


def api_operation(label: str) -> APIOperation:
    operation = api_schema().find_operation_by_label(label)
    if operation is None:
        raise LookupError(f"no operation {label} in the API document")
    return operation


def api_schema() -> schemathesis.BaseSchema:
    """The project's OpenAPI document, sending requests through the WSGI application."""
    from attendance_site.wsgi import application

    document = SchemaGenerator().get_schema(request=None, public=True)
    raw = json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))
    schema = schemathesis.openapi.from_dict(raw)
    # Requests carry the credentials a test gives them; Schemathesis invents none and drops none.
    schema.config.generation.update(with_security_parameters=False)
    schema.app = application
    return schema


def assert_documented(response, *, operation: str) -> None:
    """Fail unless a test client's response is one the document gives for ``operation``
    ("GET /api/environment/conditions/current/"): a listed status code, and a body and
    content type that match what is listed for it."""
    __tracebackhide__ = True
    documented = api_schema().find_operation_by_label(operation)
    assert documented is not None, f"The document has no operation {operation}"
    status = str(response.status_code)
    responses = documented.definition.raw["responses"]
    assert status in responses, f"{operation} answered {status}; the document lists {sorted(responses)}"
    request = requests.Request(response.wsgi_request.method, response.wsgi_request.build_absolute_uri()).prepare()
    converted = schemathesis.Response(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.headers.items()},
        content=response.content,
        request=request,
        elapsed=0.0,
        verify=True,
    )
    documented.validate_response(converted)
