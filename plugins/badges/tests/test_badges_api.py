"""Assigning, revoking and reading badges through the API, for each role and across sites."""

import pytest

from accounts.models import AuditLogEntry
from employees.models import Employee, Site
from plugins.badges.models import Badge
from plugins.badges.tests.conftest import BADGES_URL, CARD_A, CARD_B


def employee_create(*, site: Site) -> Employee:
    return Employee.objects.create(employee_code="COLLEAGUE", first_name="Ada", last_name="Colleague", site=site)


def errors_of(response) -> dict[str, str]:
    return {error["attr"]: error["code"] for error in response.json()["errors"]}


def test_admin_assigns_a_card_and_reads_it_back_masked(admin_a_client, employee_a):
    response = admin_a_client.post(BADGES_URL, {"employee": employee_a.pk, "card_uid": " 04:a2:3b:1c:5d:6e:80 "})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["employee"] == employee_a.pk
    assert body["site"] == employee_a.site_id
    assert body["status"] == "active"
    assert body["card_uid_hint"] == "…6E80"
    assert body["assigned_by"] == "admin-a"
    assert "card_uid" not in body
    assert Badge.objects.get(pk=body["id"]).card_uid == CARD_A
    listed = admin_a_client.get(BADGES_URL).json()["results"]
    assert [badge["id"] for badge in listed] == [body["id"]]
    assert CARD_A not in admin_a_client.get(f"{BADGES_URL}{body['id']}/").content.decode()


def test_badge_assignment_is_audited_without_the_card_uid(admin_a_client, employee_a):
    admin_a_client.post(BADGES_URL, {"employee": employee_a.pk, "card_uid": CARD_A})

    entry = AuditLogEntry.objects.get(action=AuditLogEntry.Action.CREATE, content_type__app_label="badges")
    assert entry.site_id == employee_a.site_id
    assert entry.after is not None
    assert (entry.after["card_uid_hint"], entry.after["status"]) == ("…6E80", "active")
    assert CARD_A not in str(entry.after) + entry.object_repr


def test_assigning_the_card_the_employee_holds_answers_with_that_badge(admin_a_client, badge_a, employee_a):
    response = admin_a_client.post(BADGES_URL, {"employee": employee_a.pk, "card_uid": CARD_A.lower()})

    assert response.status_code == 200
    assert response.json()["id"] == badge_a.pk
    assert Badge.objects.count() == 1


def test_badge_assignment_refused_for_a_card_active_on_someone_else(admin_a_client, badge_a, site_a):
    colleague = employee_create(site=site_a)

    response = admin_a_client.post(BADGES_URL, {"employee": colleague.pk, "card_uid": CARD_A})

    assert response.status_code == 400
    assert errors_of(response) == {"card_uid": "card_in_use"}
    assert Badge.objects.count() == 1


def test_a_revoked_card_may_be_given_to_someone_else(admin_a_client, badge_a, site_a):
    colleague = employee_create(site=site_a)
    admin_a_client.post(f"{BADGES_URL}{badge_a.pk}/revoke/")

    response = admin_a_client.post(BADGES_URL, {"employee": colleague.pk, "card_uid": CARD_A})

    assert response.status_code == 201
    assert Badge.objects.filter(card_uid=CARD_A).count() == 2


def test_badge_assignment_refused_for_an_employee_of_another_site(admin_a_client, employee_b):
    response = admin_a_client.post(BADGES_URL, {"employee": employee_b.pk, "card_uid": CARD_B})

    assert response.status_code == 400
    assert errors_of(response) == {"employee": "does_not_exist"}
    assert not Badge.objects.exists()


def test_badge_assignment_refused_for_an_inactive_employee(admin_a_client, employee_a):
    employee_a.is_active = False
    employee_a.save()

    response = admin_a_client.post(BADGES_URL, {"employee": employee_a.pk, "card_uid": CARD_A})

    assert response.status_code == 400
    assert errors_of(response) == {"employee": "inactive"}


def test_viewer_assigning_a_badge_is_forbidden(viewer_a_client, employee_a):
    response = viewer_a_client.post(BADGES_URL, {"employee": employee_a.pk, "card_uid": CARD_A})

    assert response.status_code == 403
    assert not Badge.objects.exists()


def test_viewer_revoking_a_badge_is_forbidden(viewer_a_client, badge_a):
    response = viewer_a_client.post(f"{BADGES_URL}{badge_a.pk}/revoke/")

    assert response.status_code == 403
    badge_a.refresh_from_db()
    assert badge_a.status == Badge.Status.ACTIVE


def test_viewer_reads_the_badges_of_their_site_only(viewer_a_client, badge_a, badge_b):
    listed = viewer_a_client.get(BADGES_URL).json()["results"]

    assert [badge["id"] for badge in listed] == [badge_a.pk]
    assert viewer_a_client.get(f"{BADGES_URL}{badge_a.pk}/").status_code == 200
    assert viewer_a_client.get(f"{BADGES_URL}{badge_b.pk}/").status_code == 404


def test_admin_revokes_a_badge_once(admin_a_client, admin_a, badge_a):
    first = admin_a_client.post(f"{BADGES_URL}{badge_a.pk}/revoke/")
    second = admin_a_client.post(f"{BADGES_URL}{badge_a.pk}/revoke/")

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "revoked"
    assert first.json()["revoked_by"] == "admin-a"
    assert second.json()["revoked_at"] == first.json()["revoked_at"]
    assert AuditLogEntry.objects.filter(action=AuditLogEntry.Action.REVOKE).count() == 1


def test_admin_of_one_site_cannot_revoke_another_sites_badge(admin_a_client, badge_b):
    response = admin_a_client.post(f"{BADGES_URL}{badge_b.pk}/revoke/")

    assert response.status_code == 404
    badge_b.refresh_from_db()
    assert badge_b.status == Badge.Status.ACTIVE


def test_badges_filtered_by_employee_site_and_status(admin_client, badge_a, badge_b, site_b, employee_a):
    admin_client.post(f"{BADGES_URL}{badge_b.pk}/revoke/")

    def ids(query: str) -> list[int]:
        response = admin_client.get(f"{BADGES_URL}?{query}")
        assert response.status_code == 200, response.json()
        return [badge["id"] for badge in response.json()["results"]]

    assert ids(f"employee={employee_a.pk}") == [badge_a.pk]
    assert ids(f"site={site_b.pk}") == [badge_b.pk]
    assert ids("status=revoked") == [badge_b.pk]
    assert ids("status=active") == [badge_a.pk]


def test_filtering_by_another_sites_id_is_an_invalid_choice(admin_a_client, site_b):
    response = admin_a_client.get(f"{BADGES_URL}?site={site_b.pk}")

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"employee": "EMP", "card_uid": "not-hex!"}, "card_uid"),
        ({"card_uid": CARD_A}, "employee"),
        ({"employee": 1.5, "card_uid": CARD_A}, "employee"),
        ({"employee": True, "card_uid": CARD_A}, "employee"),
        ({"employee": "EMP", "card_uid": ["04A2"]}, "card_uid"),
        ({"employee": "EMP", "card_uid": "A" * 10_000}, "card_uid"),
        ({"employee": "EMP", "card_uid": "0A" * 20}, "card_uid"),
        ({"employee": "EMP", "card_uid": "0A0B"}, "card_uid"),
        ({"employee": "EMP", "card_uid": "0A0B0C0D", "status": "active"}, "status"),
    ],
)
def test_badge_assignment_refuses_bad_input_and_stores_nothing(admin_a_client, employee_a, body, field):
    body = {key: employee_a.pk if value == "EMP" else value for key, value in body.items()}

    response = admin_a_client.post(BADGES_URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert field in errors_of(response)
    assert not Badge.objects.exists()


def test_badge_assignment_refuses_malformed_json(admin_a_client):
    response = admin_a_client.generic(
        "POST", BADGES_URL, '{"employee": 1, "card_uid": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert not Badge.objects.exists()
