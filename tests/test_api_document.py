"""The OpenAPI document lists the errors every operation can answer, in the shapes they come in.

The fuzz test (test_api_fuzz.py) holds random requests to the document; these pin the
answers it found undocumented, and the document-wide rules of attendance_site.openapi.
"""

from typing import Any

import pytest

from attendance_site.testing.openapi import api_operations, assert_documented
from environment.services import rule_set_activate, rule_set_create

RULES = {"modes": [{"mode": "pin", "when": {}}]}


def operations():
    return api_operations()


def test_every_operation_documents_the_outage_503_with_retry_after():
    for operation in operations():
        answer = operation.definition.raw["responses"]["503"]
        assert "Retry-After" in answer["headers"], operation.label
        assert answer["content"]["application/json"]["schema"], operation.label


def test_operations_that_take_a_body_document_413_and_the_validation_400():
    with_body = [operation for operation in operations() if "requestBody" in operation.definition.raw]

    assert with_body
    for operation in with_body:
        responses = operation.definition.raw["responses"]
        assert "413" in responses, operation.label
        assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse400")


def test_operations_with_query_parameters_document_the_validation_400():
    with_query = [
        operation
        for operation in operations()
        if any(parameter["in"] == "query" for parameter in operation.definition.raw.get("parameters", []))
    ]

    assert with_query
    for operation in with_query:
        schema = operation.definition.raw["responses"]["400"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ErrorResponse400"), operation.label


def test_a_refused_filter_is_a_documented_validation_error(admin_client):
    response = admin_client.get("/api/attendance/daily-summaries/", {"date_from": "2026-13-01"})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert_documented(response, operation="GET /api/attendance/daily-summaries/")


def test_a_service_refusal_with_its_own_code_is_documented(admin_client, admin_user, site_a):
    # The service's own code and a field the request body does not have: the generic
    # validation error shape documents both.
    rule_set = rule_set_activate(actor=admin_user, rule_set=rule_set_create(actor=admin_user, site=site_a, rules=RULES))

    response = admin_client.post(f"/api/environment/rule-sets/{rule_set.pk}/activate/")

    assert response.status_code == 400
    assert_documented(response, operation="POST /api/environment/rule-sets/{id}/activate/")


@pytest.mark.parametrize("path", ["/api/employees/sites/1.5/", "/api/attendance/events/x.y/", "/api/no-such-app/"])
def test_an_api_url_that_no_route_matches_is_a_404_in_the_error_format(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }


def test_a_page_url_that_no_route_matches_is_still_the_404_page(admin_client):
    response = admin_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_served_document_is_built_once_per_process_and_is_the_full_public_one(client, admin_client, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    from attendance_site.schema_view import CachedSchemaView

    CachedSchemaView._documents.clear()
    built = []
    original = SchemaGenerator.get_schema

    def get_schema(self: SchemaGenerator, **kw: Any) -> Any:
        built.append(1)
        return original(self, **kw)

    monkeypatch.setattr(SchemaGenerator, "get_schema", get_schema)

    anonymous = client.get("/api/schema/?format=json")
    again = admin_client.get("/api/schema/?format=json")

    assert anonymous.status_code == again.status_code == 200
    assert len(built) == 1
    assert anonymous.json() == again.json()
    assert "/api/attendance/device/check-in/" in anonymous.json()["paths"]
