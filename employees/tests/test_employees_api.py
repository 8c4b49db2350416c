"""Employees, departments, shifts and sites through the API: CRUD, validation, roles, scope."""

import pytest

from accounts.models import AuditLogEntry
from attendance.services import attendance_event_record
from employees.models import Employee, Shift, Site
from tests.factories import DepartmentFactory, EmployeeFactory, ShiftFactory

EMPLOYEES = "/api/employees/employees/"
SITES = "/api/employees/sites/"
SHIFTS = "/api/employees/shifts/"
DEPARTMENTS = "/api/employees/departments/"


def employee_body(home_site, **overrides):
    return {
        "employee_code": "E-100",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "site": home_site.pk,
        "hire_date": "2024-05-01",
        "external_ids": {"bamboohr": "42"},
        **overrides,
    }


def test_admin_creates_an_employee_and_the_change_is_audited(admin_a_client, admin_a, site_a):
    department = DepartmentFactory(site=site_a)

    response = admin_a_client.post(EMPLOYEES, employee_body(site_a, department=department.pk), format="json")

    assert response.status_code == 201, response.json()
    employee = Employee.objects.get(employee_code="E-100")
    assert employee.external_ids == {"bamboohr": "42"}
    entry = AuditLogEntry.objects.get(action="create", object_id=str(employee.pk))
    assert entry.actor == admin_a
    assert entry.after is not None
    assert entry.after["last_name"] == "Lovelace"


def test_update_records_before_and_after(admin_client, employee_a):
    response = admin_client.patch(f"{EMPLOYEES}{employee_a.pk}/", {"last_name": "Hopper"}, format="json")

    assert response.status_code == 200
    entry = AuditLogEntry.objects.get(action="update")
    assert entry.before is not None and entry.after is not None
    assert entry.after["last_name"] == "Hopper"
    assert entry.before["last_name"] != "Hopper"


def test_employee_code_is_unique(admin_client, site_a, employee_a):
    response = admin_client.post(EMPLOYEES, employee_body(site_a, employee_code=employee_a.employee_code))

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "employee_code"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"hire_date": "31/12/2024"}, "hire_date"),
        ({"external_ids": ["bamboohr"]}, "external_ids"),
        ({"first_name": ""}, "first_name"),
        ({"site": 999999}, "site"),
    ],
)
def test_invalid_employee_fields_are_a_400(admin_client, site_a, overrides, field):
    response = admin_client.post(EMPLOYEES, employee_body(site_a, **overrides), format="json")

    assert response.status_code == 400
    assert field in {error["attr"] for error in response.json()["errors"]}
    assert not Employee.objects.exists()


def test_department_of_another_site_is_refused(admin_client, site_a, site_b):
    other_department = DepartmentFactory(site=site_b)

    response = admin_client.post(EMPLOYEES, employee_body(site_a, department=other_department.pk), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "department"


def test_search_and_filter(admin_client, site_a, site_b):
    EmployeeFactory(site=site_a, last_name="Curie")
    EmployeeFactory(site=site_b, last_name="Meitner")
    EmployeeFactory(site=site_a, last_name="Noether", is_active=False)

    found = admin_client.get(EMPLOYEES, {"search": "curi"}).json()["results"]
    active_a = admin_client.get(EMPLOYEES, {"site": site_a.pk, "is_active": "true"}).json()["results"]

    assert [e["last_name"] for e in found] == ["Curie"]
    assert [e["last_name"] for e in active_a] == ["Curie"]


def test_viewer_reads_but_cannot_write(viewer_a_client, site_a, employee_a):
    assert viewer_a_client.get(f"{EMPLOYEES}{employee_a.pk}/").status_code == 200
    assert viewer_a_client.post(EMPLOYEES, employee_body(site_a), format="json").status_code == 403
    assert viewer_a_client.patch(f"{EMPLOYEES}{employee_a.pk}/", {"last_name": "X"}).status_code == 403
    assert viewer_a_client.delete(f"{EMPLOYEES}{employee_a.pk}/").status_code == 403
    assert Employee.objects.get(pk=employee_a.pk).last_name == employee_a.last_name


def test_site_a_admin_sees_and_changes_nothing_of_site_b(admin_a_client, site_b, employee_b):
    assert admin_a_client.get(f"{EMPLOYEES}{employee_b.pk}/").status_code == 404
    assert admin_a_client.patch(f"{EMPLOYEES}{employee_b.pk}/", {"last_name": "X"}).status_code == 404
    assert admin_a_client.delete(f"{EMPLOYEES}{employee_b.pk}/").status_code == 404
    assert admin_a_client.get(f"{SITES}{site_b.pk}/").status_code == 404
    assert admin_a_client.post(EMPLOYEES, employee_body(site_b), format="json").status_code == 400
    assert admin_a_client.get(EMPLOYEES).json()["results"] == []
    assert [s["name"] for s in admin_a_client.get(SITES).json()["results"]] == ["Site A"]
    assert Employee.objects.get(pk=employee_b.pk).last_name == employee_b.last_name


def test_moving_an_employee_to_another_site_requires_access_to_it(admin_a_client, site_b, employee_a):
    response = admin_a_client.patch(f"{EMPLOYEES}{employee_a.pk}/", {"site": site_b.pk}, format="json")

    assert response.status_code == 400
    assert Employee.objects.get(pk=employee_a.pk).site_id == employee_a.site_id


def test_employee_without_attendance_is_deleted(admin_client, employee_a):
    response = admin_client.delete(f"{EMPLOYEES}{employee_a.pk}/")

    assert response.status_code == 204
    assert not Employee.objects.filter(pk=employee_a.pk).exists()


def test_employee_with_attendance_is_deactivated_not_deleted(admin_client, employee_a, device_a):
    attendance_event_record(
        employee=employee_a, device=device_a.device, direction="in", method="pin", client_event_id="e-1"
    )

    response = admin_client.delete(f"{EMPLOYEES}{employee_a.pk}/")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert Employee.objects.get(pk=employee_a.pk).is_active is False
    assert AuditLogEntry.objects.filter(action="deactivate").count() == 1


def test_night_shift_is_marked_as_crossing_midnight(admin_client, site_a):
    response = admin_client.post(
        SHIFTS, {"site": site_a.pk, "name": "Night", "start_time": "22:00", "end_time": "06:00"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["crosses_midnight"] is True


@pytest.mark.parametrize(
    "body, field",
    [
        ({"start_time": "08:00", "end_time": "08:00"}, "end_time"),
        ({"start_time": "25:00", "end_time": "08:00"}, "start_time"),
        ({"start_time": "08:00", "end_time": "16:00", "grace_minutes": -1}, "grace_minutes"),
        ({"start_time": "08:00", "end_time": "16:00", "grace_minutes": 1000}, "grace_minutes"),
    ],
)
def test_invalid_shift_is_a_400(admin_client, site_a, body, field):
    response = admin_client.post(SHIFTS, {"site": site_a.pk, "name": "S", **body}, format="json")

    assert response.status_code == 400
    assert field in {error["attr"] for error in response.json()["errors"]}
    assert not Shift.objects.exists()


def test_site_with_unknown_timezone_is_refused(admin_client):
    response = admin_client.post(SITES, {"name": "Atlantis", "timezone": "Ocean/Atlantis"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "timezone"


def test_site_with_out_of_range_coordinates_is_refused(admin_client):
    response = admin_client.post(
        SITES, {"name": "Pole", "timezone": "UTC", "latitude": "91.0", "longitude": "0"}, format="json"
    )

    assert response.status_code == 400


def test_only_all_sites_admins_create_sites(admin_a_client, admin_client):
    assert admin_a_client.post(SITES, {"name": "New", "timezone": "UTC"}, format="json").status_code == 403
    response = admin_client.post(SITES, {"name": "New", "timezone": "Asia/Tokyo"}, format="json")
    assert response.status_code == 201
    assert response.json()["timezone"] == "Asia/Tokyo"
    assert Site.objects.filter(name="New").count() == 1


def test_site_in_use_cannot_be_deleted(admin_client, site_a, employee_a):
    response = admin_client.delete(f"{SITES}{site_a.pk}/")

    assert response.status_code == 400
    assert Site.objects.filter(pk=site_a.pk).exists()


def test_department_crud(admin_a_client, site_a):
    created = admin_a_client.post(DEPARTMENTS, {"site": site_a.pk, "name": "Ops"}, format="json")
    duplicate = admin_a_client.post(DEPARTMENTS, {"site": site_a.pk, "name": "Ops"}, format="json")
    renamed = admin_a_client.patch(f"{DEPARTMENTS}{created.json()['id']}/", {"name": "Operations"}, format="json")
    deleted = admin_a_client.delete(f"{DEPARTMENTS}{created.json()['id']}/")

    assert (created.status_code, duplicate.status_code, renamed.status_code, deleted.status_code) == (
        201,
        400,
        200,
        204,
    )


def test_shift_list_is_scoped(viewer_a_client, site_a, site_b):
    ShiftFactory(site=site_a, name="Mine")
    ShiftFactory(site=site_b, name="Theirs")

    names = [shift["name"] for shift in viewer_a_client.get(SHIFTS).json()["results"]]

    assert names == ["Mine"]


def test_person_without_a_role_sees_nothing(client_for, site_a, employee_a, django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", password="pw")

    assert client_for(nobody).get(EMPLOYEES).status_code == 403


def test_malformed_json_to_a_people_endpoint_is_a_400(admin_client):
    response = admin_client.post(EMPLOYEES, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert not Employee.objects.exists()


def test_departments_and_shifts_do_not_move_between_sites(admin_client, site_a, site_b):
    department = DepartmentFactory(site=site_a)
    shift = ShiftFactory(site=site_a)

    assert admin_client.patch(f"{DEPARTMENTS}{department.pk}/", {"site": site_b.pk}, format="json").status_code == 400
    assert admin_client.patch(f"{SHIFTS}{shift.pk}/", {"site": site_b.pk}, format="json").status_code == 400


def test_site_durations_are_bounded(admin_client):
    for field in ("duplicate_window", "max_work_session"):
        body = {"name": "X", "timezone": "UTC", field: "999999999 00:00:00"}
        assert admin_client.post(SITES, body, format="json").status_code == 400
