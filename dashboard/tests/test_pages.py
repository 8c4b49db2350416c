"""HTML pages: login, the dashboard shell, panels from the registry, 403 and 404."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from attendance_site.registry import DashboardPanel, registry
from attendance_site.testing.registry import registered


def test_dashboard_requires_login(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_logs_in_and_lands_on_the_dashboard(client, viewer_a):
    page = client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "viewer-a", "password": "pw-viewer-a"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_wrong_password_shows_an_error(client, viewer_a):
    response = client.post("/accounts/login/", {"username": "viewer-a", "password": "nope"})

    assert response.status_code == 200
    assert "Wrong username or password" in response.content.decode()


def test_viewer_sees_only_their_sites_and_no_admin_menu(client, viewer_a, site_a, site_b):
    client.force_login(viewer_a)

    html = client.get("/dashboard/").content.decode()

    assert "Site A" in html and "Site B" not in html
    assert 'href="/admin/"' not in html
    assert 'id="can-edit" type="application/json">false<' in html


def test_admin_gets_edit_rights_and_the_admin_menu(client, admin_user, site_a):
    client.force_login(admin_user)

    html = client.get("/dashboard/").content.decode()

    assert 'href="/admin/"' in html
    assert 'id="can-edit" type="application/json">true<' in html


def test_a_registered_panel_appears_without_touching_the_dashboard(client, viewer_a, site_a):
    panel = DashboardPanel("test-extra", "Extra panel", "dashboard/panels/feed.html", order=99)
    with registered(registry.dashboard_panels, panel):
        client.force_login(viewer_a)
        html = client.get("/dashboard/").content.decode()

    assert 'id="panel-test-extra"' in html
    assert "Extra panel" in html


def test_person_without_a_role_gets_a_clear_403(client, django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", password="pw")
    client.force_login(nobody)

    response = client.get("/dashboard/")

    assert response.status_code == 403
    assert "no role" in response.content.decode()


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_duplicate_panel_keys_are_refused_naming_both_owners():
    with pytest.raises(ImproperlyConfigured, match="'presence' is registered by both dashboard and tests"):
        with registered(registry.dashboard_panels, DashboardPanel("presence", "Again", "x.html")):
            pass
