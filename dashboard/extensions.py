"""The dashboard's panels and menu, and the live channel's event handler: registered as a plugin's are."""

from accounts.permissions import user_is_admin
from attendance_site.live.handlers import live_publisher
from attendance_site.registry import DashboardPanel, MenuItem

# The publisher lives in the platform; the dashboard registers it, as its consumer is
# what the live messages are for.
event_handlers = [live_publisher]

dashboard_panels = [
    DashboardPanel("presence", "Today", "dashboard/panels/presence.html", order=10),
    DashboardPanel("feed", "Live feed", "dashboard/panels/feed.html", order=20),
    DashboardPanel("devices", "Devices", "dashboard/panels/devices.html", order=30),
    DashboardPanel("charts", "Last 30 days", "dashboard/panels/charts.html", order=40),
]

menu_items = [
    MenuItem("dashboard", "Dashboard", "/dashboard/", order=10),
    MenuItem("api-docs", "API", "/api/docs/", order=80),
    MenuItem("admin", "Admin", "/admin/", order=90, visible_to=user_is_admin),
]
