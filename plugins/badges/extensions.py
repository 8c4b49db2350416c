"""What the badge plugin adds to the registry: its check-in method, panel, menu entry and event handler."""

from accounts.permissions import user_is_admin
from attendance_site.events.handlers import EventHandler
from attendance_site.events.types import EMPLOYEE_DEACTIVATED
from attendance_site.registry import CheckInMethod, DashboardPanel, MenuItem, SimulatedMode
from plugins.badges.handlers import employee_deactivated_badges_revoke
from plugins.badges.selectors import BADGE_METHOD

checkin_methods = [
    CheckInMethod(
        key=BADGE_METHOD,
        label="Badge",
        # A card works in the dark and in the noise: a fallback when biometrics fail.
        fallback=True,
        simulation={
            # Reading a card fails only when it is held badly; nobody else's face can pass
            # for it, but a borrowed card does (not simulated: conditions do not change it).
            BADGE_METHOD: SimulatedMode(
                share=0.1, ceiling=0.99, fa_base=0.0, fa_slope=0.0, fta_slope=0.0, median_ms=700
            ),
        },
    )
]

dashboard_panels = [DashboardPanel("badges", "Badges", "badges/panels/badges.html", order=35)]

# Admins revoke cards in the admin too; viewers have nothing to do there.
menu_items = [MenuItem("badges", "Badges", "/admin/badges/badge/", order=85, visible_to=user_is_admin)]

event_handlers = [
    EventHandler(
        name="badges.revoke_on_deactivation",
        event_types=frozenset({EMPLOYEE_DEACTIVATED.name}),
        handle=employee_deactivated_badges_revoke,
    )
]
