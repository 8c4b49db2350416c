"""What devices report about where they stand: light, noise, network, temperature, sensors.

Stored as a time series, one row per reading, in canonical units (lux, dB, ms, %, kbit/s,
degrees Celsius); devices send explicit units and the API converts.
"""

from django.db import models


class ConditionReading(models.Model):
    device = models.ForeignKey("attendance.Device", on_delete=models.CASCADE, related_name="condition_readings")
    # Copied from the device, so site-wide status and history read one index.
    site = models.ForeignKey("employees.Site", on_delete=models.CASCADE, related_name="condition_readings")
    recorded_at = models.DateTimeField(help_text="Device clock, stored in UTC.")
    received_at = models.DateTimeField(auto_now_add=True)
    light_lux = models.FloatField(null=True, blank=True)
    noise_db = models.FloatField(null=True, blank=True)
    temperature_c = models.FloatField(null=True, blank=True)
    network_online = models.BooleanField(null=True, blank=True)
    network_latency_ms = models.FloatField(null=True, blank=True)
    network_loss_pct = models.FloatField(null=True, blank=True)
    network_bandwidth_kbps = models.FloatField(null=True, blank=True)
    camera_available = models.BooleanField(null=True, blank=True)
    microphone_available = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["device", "recorded_at"], name="reading_device_time_idx"),
            models.Index(fields=["site", "recorded_at"], name="reading_site_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(light_lux__isnull=True) | models.Q(light_lux__gte=0),
                name="reading_light_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(network_loss_pct__isnull=True)
                | models.Q(network_loss_pct__gte=0, network_loss_pct__lte=100),
                name="reading_loss_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return f"reading of {self.device_id} at {self.recorded_at:%Y-%m-%d %H:%M:%S}"
