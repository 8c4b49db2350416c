from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set and the simulated live activity of `make run`: no models of its own."""

    name = "demo"
    verbose_name = "Demo data"
