"""The badge plugin's part of the access matrix (tests/test_access_matrix.py): its object, rows and admin.

The matrix runs with the plugin enabled and collects these through
``tests.world.plugin_test_modules``: a plugin's routes are reviewed like the core's.
"""

from types import ModuleType
from typing import Any

from plugins.badges.services import badge_assign

WORLD_CARD = "04C0FFEE1234AB"


def world_extend(world: Any) -> None:
    # The employee without attendance: the badge check-in cell stores a new event (201).
    world.badge, _created = badge_assign(actor=world.admin_a, employee=world.employee_unconsented, card_uid=WORLD_CARD)


def api_rows(matrix: ModuleType) -> list[Any]:
    row = matrix.row
    check_body = {"card_uid": WORLD_CARD, "client_event_id": "matrix-badge"}
    return [
        row("/api/plugins/badges/", "GET", *matrix.PERSON_READ),
        row("/api/plugins/badges/badges/", "GET", *matrix.PERSON_READ),
        row(
            "/api/plugins/badges/badges/",
            "POST",
            *matrix.CREATE_IN_A,  # the employee is another site's for B's admin: 400
            body=lambda w: {"employee": w.employee.pk, "card_uid": "04AA55AA55AA55"},
        ),
        row("/api/plugins/badges/badges/<pk>/", "GET", *matrix.OBJECT_READ, on="badge"),
        row("/api/plugins/badges/badges/<pk>/revoke/", "POST", *matrix.OBJECT_WRITE, on="badge"),
        # Site A's card: B's device gets 400 (another site's employee), people 401.
        row("/api/plugins/badges/device/check-in/", "POST", *matrix.DEVICE_WRITE, body=check_body),
        row("/api/plugins/badges/device/check-out/", "POST", *matrix.DEVICE_WRITE, body=check_body),
    ]


def admin_models(matrix: ModuleType) -> dict[str, Any]:
    # Cards are assigned through the API (which checks the employee's scope); the admin reads and revokes.
    # Admins have one action (revoke), so the matrix's unknown action sends them back to the
    # list; viewers have none, and get the list again as for every read-only model.
    return {
        "badges.badge": matrix.AdminModel("badge", matrix.ADMIN_READ_ONLY, {("changelist", "POST"): (302, 200, 302)})
    }
