"""Platform endpoints: health probes, OpenAPI schema and Swagger UI, the admin."""

import pytest
from django.core.management import call_command
from django.db import connection


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_redis_without_revealing_them(client, db, settings):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}
    assert settings.REDIS_URL not in response.content.decode()
    assert str(connection.settings_dict["NAME"]) not in response.content.decode()


def test_readyz_reports_unavailable_redis_as_503(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "failed"


def test_schema_builds_without_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))

    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/attendance/device/check-in/" in schema
    assert "deviceAuth" in schema


def test_swagger_ui_is_served_without_a_cdn(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html


@pytest.mark.parametrize("path", ["/admin/login/", "/api/schema/"])
def test_public_pages_answer(client, db, path):
    assert client.get(path).status_code == 200


def test_viewer_sees_the_admin_read_only(client, viewer_a, employee_a):
    client.force_login(viewer_a)

    changelist = client.get("/admin/employees/employee/")
    change = client.post(f"/admin/employees/employee/{employee_a.pk}/change/", {"first_name": "Changed"})

    assert changelist.status_code == 200
    assert employee_a.employee_code in changelist.content.decode()
    assert change.status_code == 403


def test_admin_of_site_a_does_not_see_site_b_in_the_admin(client, admin_a, employee_a, employee_b):
    client.force_login(admin_a)

    page = client.get("/admin/employees/employee/").content.decode()

    assert employee_a.employee_code in page
    assert employee_b.employee_code not in page
    assert client.get(f"/admin/employees/employee/{employee_b.pk}/change/").status_code == 302


def test_every_task_has_a_soft_time_limit_within_its_hard_limit():
    # Celery refuses to run a task whose soft limit (or the global default) exceeds its own
    # hard limit, and beat then drops the scheduled entry: caught here, not in production.
    from django.conf import settings as django_settings

    from attendance_site import celery_app

    celery_app.loader.import_default_modules()  # what a worker does at start: find every tasks.py
    ours = [task for name, task in celery_app.tasks.items() if not name.startswith("celery.")]
    assert ours
    for task in ours:
        hard = task.time_limit or django_settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or django_settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft <= hard, f"{task.name}: soft {soft} > hard {hard}"
