from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self) -> None:
        from accounts.permissions import user_is_admin
        from attendance_site.events.handlers import EventHandler, event_handlers
        from attendance_site.events.types import ATTENDANCE_EVENT_RECORDED
        from attendance_site.registry import DashboardPanel, MenuItem, registry
        from dashboard.publisher import attendance_event_recorded_publish

        event_handlers.register(
            EventHandler(
                name="dashboard.live",
                event_types=frozenset({ATTENDANCE_EVENT_RECORDED.name}),
                handle=attendance_event_recorded_publish,
            )
        )

        # Built-in panels and menu entries register exactly as a plugin's would.
        panels = registry["dashboard_panels"]
        panels.register(DashboardPanel("presence", "Today", "dashboard/panels/presence.html", order=10))
        panels.register(DashboardPanel("feed", "Live feed", "dashboard/panels/feed.html", order=20))
        panels.register(DashboardPanel("devices", "Devices", "dashboard/panels/devices.html", order=30))
        panels.register(DashboardPanel("charts", "Last 30 days", "dashboard/panels/charts.html", order=40))
        menu = registry["menu_items"]
        menu.register(MenuItem("dashboard", "Dashboard", "/dashboard/", order=10))
        menu.register(MenuItem("api-docs", "API", "/api/docs/", order=80))
        menu.register(MenuItem("admin", "Admin", "/admin/", order=90, visible_to=user_is_admin))
