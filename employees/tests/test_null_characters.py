"""A NUL character in an employee's external ids is refused, on every database.

A NUL in a value was refused already (text); in a key it reached PostgreSQL's jsonb: a 500.
"""

from employees.models import Employee


def test_external_ids_with_a_null_character_in_a_key_are_refused_and_nothing_is_stored(admin_client, site_a):
    body = {
        "employee_code": "E-1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "site": site_a.pk,
        "external_ids": {"bamboo\x00hr": "41"},
    }

    response = admin_client.post("/api/employees/employees/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "null_characters_not_allowed", "detail": "Null characters are not allowed.", "attr": "external_ids"}
    ]
    assert not Employee.objects.exists()
