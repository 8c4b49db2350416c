"""Roles, tokens and the audit log through the API."""

from django.contrib.auth.models import Group

from accounts.models import AuditLogEntry

AUDIT = "/api/accounts/audit-log/"


def test_token_is_issued_for_valid_credentials(client, admin_user):
    response = client.post("/api/auth/token/", {"username": "hr-admin", "password": "pw-admin-123"})

    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/accounts/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.json()["role"] == "admin"
    assert me.json()["all_sites"] is True


def test_wrong_password_gets_no_token(client, admin_user):
    response = client.post("/api/auth/token/", {"username": "hr-admin", "password": "wrong"})

    assert response.status_code == 400
    assert "token" not in response.json()


def test_me_reports_role_and_sites(viewer_a_client, site_a):
    body = viewer_a_client.get("/api/accounts/me/").json()

    assert body["role"] == "viewer"
    assert body["all_sites"] is False
    assert body["site_ids"] == [site_a.pk]


def test_session_login_works_for_the_api(client, viewer_a):
    client.force_login(viewer_a)

    assert client.get("/api/employees/employees/").status_code == 200


def test_admins_read_the_audit_log_of_their_sites_only(admin_client, admin_a_client, site_a, site_b):
    admin_client.patch(f"/api/employees/sites/{site_a.pk}/", {"address": "A street"}, format="json")
    admin_client.patch(f"/api/employees/sites/{site_b.pk}/", {"address": "B street"}, format="json")

    everything = admin_client.get(AUDIT).json()["results"]
    only_a = admin_a_client.get(AUDIT).json()["results"]

    assert {entry["site"] for entry in everything} == {site_a.pk, site_b.pk}
    assert [entry["site"] for entry in only_a] == [site_a.pk]
    assert only_a[0]["before"]["address"] == ""
    assert only_a[0]["after"]["address"] == "A street"
    assert only_a[0]["actor_repr"] == "hr-admin"


def test_viewers_cannot_read_the_audit_log(viewer_a_client):
    assert viewer_a_client.get(AUDIT).status_code == 403


def test_audit_log_is_read_only(admin_client, site_a):
    admin_client.patch(f"/api/employees/sites/{site_a.pk}/", {"address": "A street"}, format="json")
    entry = AuditLogEntry.objects.get()

    assert admin_client.delete(f"{AUDIT}{entry.pk}/").status_code == 405
    assert admin_client.post(AUDIT, {}, format="json").status_code == 405
    assert AuditLogEntry.objects.count() == 1


def test_role_groups_hold_the_expected_permissions(db):
    admins = Group.objects.get(name="Admins")
    viewers = Group.objects.get(name="Viewers")
    viewer_codenames = set(viewers.permissions.values_list("codename", flat=True))
    admin_codenames = set(admins.permissions.values_list("codename", flat=True))

    assert "view_employee" in viewer_codenames
    assert not {c for c in viewer_codenames if not c.startswith("view_")}
    assert {"add_employee", "change_shift", "delete_device"} <= admin_codenames
    assert "change_auditlogentry" not in admin_codenames
    assert "access_site" not in admin_codenames | viewer_codenames
