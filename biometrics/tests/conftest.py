"""Fixtures for biometric tests: real photos from tests/data, consented employees."""

from pathlib import Path

import pytest

from biometrics.services.consent import consent_grant
from biometrics.services.enrolment import face_templates_enroll
from tests.factories import EmployeeFactory

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def photo(name: str) -> bytes:
    return (DATA / "faces" / name).read_bytes()


@pytest.fixture
def consented(admin_user):
    def make(employee):
        consent_grant(actor=admin_user, employee=employee, notice_version="2026-01")
        return employee

    return make


@pytest.fixture
def obama(site_a, consented, admin_user):
    """Enrolled from three photos; obama_04.jpg is kept out as the probe."""
    employee = consented(EmployeeFactory(site=site_a, first_name="Barack", last_name="Obama"))
    face_templates_enroll(actor=admin_user, employee=employee, images=[photo(f"obama_0{n}.jpg") for n in (1, 2, 3)])
    return employee


@pytest.fixture
def biden(site_a, consented, admin_user):
    employee = consented(EmployeeFactory(site=site_a, first_name="Joe", last_name="Biden"))
    face_templates_enroll(actor=admin_user, employee=employee, images=[photo("biden_01.jpg")])
    return employee
