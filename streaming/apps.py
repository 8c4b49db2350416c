from django.apps import AppConfig


class StreamingConfig(AppConfig):
    name = "streaming"

    def ready(self) -> None:
        from attendance_site.registry import DashboardPanel, registry
        from streaming.selectors import camera_streams_visible_to

        # Only people with a camera in their sites get the panel: no empty box for the rest.
        registry["dashboard_panels"].register(
            DashboardPanel(
                "cameras",
                "Cameras",
                "streaming/panels/cameras.html",
                order=25,
                visible_to=lambda user: camera_streams_visible_to(user).exists(),
            )
        )
