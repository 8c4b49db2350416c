from django.apps import AppConfig


class DashboardConfig(AppConfig):
    # Panels, menu entries and the live feed's handler are in extensions.py.
    name = "dashboard"
