"""The badge plugin's event handlers: thin, idempotent, each calls one service."""

from attendance_site.events.handlers import DeliveredEvent
from attendance_site.plugins import plugin_setting
from plugins.badges.services import badges_revoke_for_employee


def employee_deactivated_badges_revoke(event: DeliveredEvent) -> None:
    """A deactivated employee's cards open nothing; a redelivery finds nothing left to revoke."""
    if plugin_setting("plugins.badges", "revoke_on_deactivation"):
        badges_revoke_for_employee(employee_id=event.payload["employee_id"], reason="The employee was deactivated.")
