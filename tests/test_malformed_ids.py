"""Ids that are not whole numbers: in a URL they are 404s, in a body or filter 400s, never 500s.

Every route of the URLconf that takes an object id is walked, so a view added later
with its own lookup is covered without being listed here.
"""

import re
from datetime import UTC, datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from attendance.models import AttendanceEvent, WorkSession
from biometrics.models import SiteBiometricPolicy
from employees.models import Department, Employee, Site
from tests.factories import EmployeeFactory, SiteFactory

# Id parameters: DRF routers' (?P<pk>...) groups and the admin's <object_pk>-style ones.
ID_PARAMETER = re.compile(r"\(\?P<(pk|\w+_pk|\w+_id)>[^)]*\)|<(?:str:)?(pk|\w+_pk|\w+_id)>")
NOT_IDS = ["abc", "99999999999999999999"]


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def routes_with_ids() -> list[str]:
    found = []
    for route in _routes(get_resolver().url_patterns):
        if "format" in route or not ID_PARAMETER.search(route):
            continue
        # Regex routes keep their anchors where an app's patterns begin and end; drop those.
        found.append("/" + re.sub(r"(^|/)\^", r"\1", route).replace("$", "").replace("\\", ""))
    return sorted(set(found))


def test_the_walk_finds_the_routes_that_answered_500():
    routes = routes_with_ids()

    assert any(route.startswith("/api/biometrics/site-policies/") for route in routes)
    assert any(route.startswith("/admin/employees/site/") and "permissions" in route for route in routes)


@pytest.mark.parametrize("route", routes_with_ids())
def test_an_id_that_is_not_a_number_in_the_url_is_a_404_not_a_server_error(client, admin_user, route):
    client.force_login(admin_user)

    for value in NOT_IDS:
        url = ID_PARAMETER.sub(value, route)
        for method in ("get", "patch"):
            response = getattr(client, method)(url, {}, content_type="application/json")
            assert response.status_code in {302, 403, 404, 405}, f"{method.upper()} {url}: {response.status_code}"


def test_site_policy_with_a_non_numeric_site_is_a_404(admin_client, site_a):
    for method in ("get", "patch"):
        response = getattr(admin_client, method)("/api/biometrics/site-policies/abc/", {}, format="json")

        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"
    assert not SiteBiometricPolicy.objects.exists()


# --- Ids in bodies and filters ---------------------------------------------------------------

ROUNDED_IDS = [1.5, 1.0, "1.0", True, "1e0", " 1", [1], {"id": 1}]
ROUNDED_ID_NAMES = ["float", "float-one", "float-text", "true", "exponent", "padded", "list", "object"]


@pytest.fixture
def employee_one(site_a):
    """An employee whose id is what the rounded values would round to."""
    employee = EmployeeFactory(site=site_a)
    Employee.objects.filter(pk=employee.pk).update(id=1)
    return Employee.objects.get(pk=1)


@pytest.fixture
def site_one(db):
    """A site whose id is what the rounded values would round to."""
    site = SiteFactory()
    Site.objects.filter(pk=site.pk).update(id=1)
    return Site.objects.get(pk=1)


@pytest.fixture
def nothing_recorded():
    yield
    assert not AttendanceEvent.objects.exists()
    assert not WorkSession.objects.exists()


@pytest.mark.parametrize("value", ROUNDED_IDS, ids=ROUNDED_ID_NAMES)
def test_device_check_in_refuses_an_employee_id_that_is_not_an_integer(
    device_a_client, employee_one, value, nothing_recorded
):
    body = {"employee": value, "client_event_id": "rounded", "method": "pin"}

    response = device_a_client.post("/api/attendance/device/check-in/", body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "employee"


@pytest.mark.parametrize("value", ROUNDED_IDS, ids=ROUNDED_ID_NAMES)
def test_manual_entry_refuses_an_employee_id_that_is_not_an_integer(
    admin_client, employee_one, value, nothing_recorded
):
    body = {
        "employee": value,
        "direction": "in",
        "occurred_at": datetime(2026, 3, 2, 8, 0, tzinfo=UTC).isoformat(),
        "reason": "forgot the badge",
    }

    response = admin_client.post("/api/attendance/events/", body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "employee"


@pytest.mark.parametrize("value", ROUNDED_IDS, ids=ROUNDED_ID_NAMES)
def test_voice_check_in_refuses_a_claimed_employee_id_that_is_not_an_integer(
    device_a_client, employee_one, value, nothing_recorded
):
    body = {"employee": value, "clip": "UklGRg==", "direction": "in", "client_event_id": "rounded"}

    response = device_a_client.post("/api/biometrics/device/voice-check/", body, format="json")

    assert response.status_code == 400, response.json()
    # The serializer's answer, not the consent check's that a rounded id would reach.
    assert response.json()["errors"] == [
        {"code": "invalid", "detail": "A valid integer is required.", "attr": "employee"}
    ]


def test_a_department_refuses_a_site_id_that_is_not_an_integer(admin_client, site_one):
    response = admin_client.post("/api/employees/departments/", {"site": 1.5, "name": "Rounded"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "site"
    assert not Department.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/attendance/daily-summaries/?date_from=2026-03-01&date_to=2026-03-02&site={}",
        "/api/dashboard/presence/?site={}",
        "/api/environment/conditions/history/?site={}",
    ],
)
@pytest.mark.parametrize("value", ["1.0", "1e0", "true", "1.5"])
def test_a_site_filter_that_is_not_an_integer_is_a_400(admin_client, site_one, url, value):
    response = admin_client.get(url.format(value))

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "site"
