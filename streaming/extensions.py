"""The cameras panel, registered as a plugin's would be."""

from typing import Any

from attendance_site.registry import DashboardPanel
from streaming.selectors import camera_streams_visible_to


def _has_cameras(user: Any) -> bool:
    # Only people with a camera in their sites get the panel: no empty box for the rest.
    return camera_streams_visible_to(user).exists()


dashboard_panels = [
    DashboardPanel("cameras", "Cameras", "streaming/panels/cameras.html", order=25, visible_to=_has_cameras),
]
