"""Fixtures of the badge plugin's tests: cards assigned through the real service."""

from collections.abc import Callable

import pytest

from employees.models import Employee
from plugins.badges.models import Badge
from plugins.badges.services import badge_assign

BADGES_URL = "/api/plugins/badges/badges/"
CHECK_IN_URL = "/api/plugins/badges/device/check-in/"
CHECK_OUT_URL = "/api/plugins/badges/device/check-out/"
CARD_A = "04A23B1C5D6E80"
CARD_B = "0499887766"


@pytest.fixture
def badge_for(admin_user) -> Callable[[Employee, str], Badge]:
    def make(employee: Employee, card_uid: str) -> Badge:
        badge, _created = badge_assign(actor=admin_user, employee=employee, card_uid=card_uid)
        return badge

    return make


@pytest.fixture
def badge_a(badge_for, employee_a) -> Badge:
    return badge_for(employee_a, CARD_A)


@pytest.fixture
def badge_b(badge_for, employee_b) -> Badge:
    return badge_for(employee_b, CARD_B)
