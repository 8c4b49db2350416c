from django.apps import AppConfig


class BadgesConfig(AppConfig):
    """Badge check-in: RFID/NFC cards read by a site's devices."""

    name = "plugins.badges"
    label = "badges"
    verbose_name = "Badges"
