from typing import Any, ClassVar

from attendance_site.plugins import PluginConfig


class BadgesConfig(PluginConfig):
    """Badge check-in: RFID/NFC cards read by a site's devices (PLUGINS=plugins.badges)."""

    name = "plugins.badges"
    label = "badges"
    verbose_name = "Badges"
    version = "1.0.0"
    author = "Biometric attendance platform"
    description = "Check in and out with an RFID/NFC card; admins assign and revoke cards."
    base_url = "badges"
    min_version = "0.1"
    max_version = "0.99"
    default_settings: ClassVar[dict[str, Any]] = {
        # A deactivated employee's cards are revoked (employee.deactivated); off, they are
        # kept active and refused at the reader only while the employee is inactive.
        "revoke_on_deactivation": True,
    }
