"""A key in a request body that names no field is a 400 naming it, and nothing is stored.

The rule lives in one place (attendance_site.serializers); the first test holds every
request body of the OpenAPI schema to it, so a new endpoint cannot skip it.
"""

from drf_spectacular.generators import SchemaGenerator

from accounts.models import AuditLogEntry
from attendance.models import AttendanceEvent, Device
from attendance_site.serializers import UnknownFieldsRefusedMixin
from employees.models import Employee, Site

# Request bodies the rule does not reach, and why.
NOT_OURS = {
    # Documentation of the rows of a simulation upload; the service checks each row
    # and refuses unknown keys there (simulations.services).
    "simulations.api.ResultRowSerializer",
}


def request_body_serializers() -> dict[str, type]:
    generator = SchemaGenerator()
    generator.get_schema(request=None, public=True)
    found = {}
    for component in generator.registry._components.values():
        if component.type == "schemas" and component.name.endswith("Request"):
            serializer = component.object if isinstance(component.object, type) else type(component.object)
            found[f"{serializer.__module__}.{serializer.__name__}"] = serializer
    return found


def test_every_request_body_of_the_api_refuses_unknown_fields():
    serializers = request_body_serializers()

    assert "environment.api.ReadingInputSerializer" in serializers  # the walk sees nested bodies too
    lax = sorted(name for name, cls in serializers.items() if not issubclass(cls, UnknownFieldsRefusedMixin))
    assert lax == sorted(NOT_OURS)


def errors_of(response) -> list[dict]:
    return response.json()["errors"]


def test_creating_an_employee_with_a_misspelled_field_stores_nothing(admin_client, site_a):
    body = {"employee_code": "E-1", "first_name": "Ada", "last_name": "L", "site": site_a.pk, "emial": "a@example.com"}

    response = admin_client.post("/api/employees/employees/", body, format="json")

    assert response.status_code == 400
    assert errors_of(response) == [{"code": "unknown_field", "detail": "Unknown field.", "attr": "emial"}]
    assert not Employee.objects.exists()
    assert not AuditLogEntry.objects.exists()


def test_a_misspelled_field_is_reported_with_the_bodys_other_errors(admin_client):
    response = admin_client.post("/api/employees/sites/", {"timezone": "Mars/Olympus", "nmae": "X"}, format="json")

    assert response.status_code == 400
    assert {error["attr"] for error in errors_of(response)} == {"nmae", "name", "timezone"}
    assert not Site.objects.exists()


def test_a_partial_update_with_a_misspelled_field_changes_nothing(admin_client, site_a):
    response = admin_client.patch(f"/api/employees/sites/{site_a.pk}/", {"nmae": "Renamed"}, format="json")

    assert response.status_code == 400
    assert errors_of(response)[0]["attr"] == "nmae"
    site_a.refresh_from_db()
    assert site_a.name == "Site A"


def test_a_device_check_in_with_a_misspelled_field_is_not_recorded(device_a_client, employee_a):
    body = {"employee": employee_a.pk, "client_event_id": "typo", "method": "pin", "ocurred_at": "2026-01-01T00:00Z"}

    response = device_a_client.post("/api/attendance/device/check-in/", body, format="json")

    assert response.status_code == 400
    assert errors_of(response) == [{"code": "unknown_field", "detail": "Unknown field.", "attr": "ocurred_at"}]
    assert not AttendanceEvent.objects.exists()


def test_a_multipart_body_with_a_misspelled_field_is_refused(admin_client, site_a):
    response = admin_client.post(
        "/api/attendance/devices/", {"site": site_a.pk, "name": "Kiosk", "knd": "kiosk"}, format="multipart"
    )

    assert response.status_code == 400
    assert errors_of(response)[0]["attr"] == "knd"
    assert not Device.objects.exists()


def test_read_only_fields_sent_back_are_ignored_not_refused(admin_client, site_a):
    # A client may PATCH back what it read; read-only fields are known, and left unchanged.
    read = admin_client.get(f"/api/employees/sites/{site_a.pk}/").json()

    response = admin_client.patch(f"/api/employees/sites/{site_a.pk}/", {**read, "name": "Renamed"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["created_at"] == read["created_at"]


def test_the_csrf_token_of_an_html_form_is_not_an_unknown_field(admin_client, site_a):
    response = admin_client.post(
        "/api/attendance/devices/", {"site": site_a.pk, "name": "Kiosk", "csrfmiddlewaretoken": "x"}, format="multipart"
    )

    assert response.status_code == 201, response.json()
