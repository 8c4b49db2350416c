"""An employee's deactivation revokes their badges, once, through the event log."""

import pytest

from accounts.models import AuditLogEntry
from attendance_site.events.models import DomainEvent
from attendance_site.events.services import domain_event_deliver
from plugins.badges.models import Badge
from plugins.badges.tests.conftest import CARD_A, CHECK_IN_URL

EMPLOYEES_URL = "/api/employees/employees/"


@pytest.fixture
def deactivate(admin_a_client, django_capture_on_commit_callbacks):
    def run(employee_id: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_a_client.patch(f"{EMPLOYEES_URL}{employee_id}/", {"is_active": False})
        assert response.status_code == 200, response.json()

    return run


def test_deactivating_an_employee_revokes_their_badges(deactivate, badge_a, employee_a, device_a_client):
    deactivate(employee_a.pk)

    badge_a.refresh_from_db()
    assert badge_a.status == Badge.Status.REVOKED
    entry = AuditLogEntry.objects.get(action=AuditLogEntry.Action.REVOKE)
    assert (entry.actor, entry.reason) == (None, "The employee was deactivated.")
    refused = device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})
    assert refused.json()["errors"][0]["code"] == "revoked_card"


def test_a_redelivered_deactivation_revokes_nothing_more(deactivate, badge_a, employee_a):
    from attendance_site.events.handlers import DeliveredEvent
    from plugins.badges.handlers import employee_deactivated_badges_revoke

    deactivate(employee_a.pk)
    event = DomainEvent.objects.get(type="employee.deactivated")
    employee_deactivated_badges_revoke(
        DeliveredEvent(event.pk, event.type, event.version, event.site_id, event.payload, event.created_at)
    )

    assert domain_event_deliver(event_id=event.pk) is False  # delivered already: never handed out again
    assert AuditLogEntry.objects.filter(action=AuditLogEntry.Action.REVOKE).count() == 1


def test_badges_stay_active_when_the_setting_is_off(deactivate, badge_a, employee_a, settings):
    settings.PLUGINS_CONFIG = {**settings.PLUGINS_CONFIG, "plugins.badges": {"revoke_on_deactivation": False}}

    deactivate(employee_a.pk)

    badge_a.refresh_from_db()
    assert badge_a.status == Badge.Status.ACTIVE
    assert DomainEvent.objects.get(type="employee.deactivated").dispatched_at is not None


def test_an_employee_active_again_before_the_delivery_keeps_their_badges(admin_a_client, badge_a, employee_a):
    admin_a_client.patch(f"{EMPLOYEES_URL}{employee_a.pk}/", {"is_active": False})  # delivery not run yet
    admin_a_client.patch(f"{EMPLOYEES_URL}{employee_a.pk}/", {"is_active": True})

    domain_event_deliver(event_id=DomainEvent.objects.get(type="employee.deactivated").pk)

    badge_a.refresh_from_db()
    assert badge_a.status == Badge.Status.ACTIVE
