"""Fixtures shared by every app's tests: sites, people in each role, devices, clients."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create, user_create
from attendance.services import device_create
from attendance_site.testing.throttles import throttle_history_clear
from tests.factories import EmployeeFactory, SiteFactory


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    # Face galleries and rule sets are cached per process under the site id; test
    # databases reuse ids after a rollback, so each test starts with empty caches.
    from biometrics import selectors
    from environment import selectors as environment_selectors

    selectors.galleries.clear()
    environment_selectors.active_rule_sets.clear()
    yield
    selectors.galleries.clear()
    environment_selectors.active_rule_sets.clear()


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle history is kept in Redis, which outlives each test's database rollback.
    throttle_history_clear()


@pytest.fixture
def site_a(db):
    return SiteFactory(name="Site A", timezone="Europe/Berlin")


@pytest.fixture
def site_b(db):
    return SiteFactory(name="Site B", timezone="America/New_York")


@pytest.fixture
def admin_user(db):
    """An admin of every site."""
    return user_create(username="hr-admin", password="pw-admin-123", role=Role.ADMIN, all_sites=True)


@pytest.fixture
def admin_a(site_a):
    return user_create(username="admin-a", password="pw-admin-a", role=Role.ADMIN, sites=[site_a])


@pytest.fixture
def viewer_a(site_a):
    return user_create(username="viewer-a", password="pw-viewer-a", role=Role.VIEWER, sites=[site_a])


def _client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user).key}")
    return client


@pytest.fixture
def client_for():
    return _client_for


@pytest.fixture
def admin_client(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def admin_a_client(admin_a):
    return _client_for(admin_a)


@pytest.fixture
def viewer_a_client(viewer_a):
    return _client_for(viewer_a)


@pytest.fixture
def employee_a(site_a):
    return EmployeeFactory(site=site_a)


@pytest.fixture
def employee_b(site_b):
    return EmployeeFactory(site=site_b)


@pytest.fixture
def device_a(site_a, admin_user):
    return device_create(actor=admin_user, fields={"site": site_a, "name": "Kiosk A"})


@pytest.fixture
def device_b(site_b, admin_user):
    return device_create(actor=admin_user, fields={"site": site_b, "name": "Kiosk B"})


@pytest.fixture
def device_client_for():
    def make(created_device) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Device {created_device.credential}")
        return client

    return make


@pytest.fixture
def device_a_client(device_a, device_client_for):
    return device_client_for(device_a)
