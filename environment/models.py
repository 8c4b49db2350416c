"""What devices report about where they stand: light, noise, network, temperature, sensors.

Stored as a time series, one row per reading, in canonical units (lux, dB, ms, %, kbit/s,
degrees Celsius); devices send explicit units and the API converts.
"""

from django.db import models

# Every measurement a reading can carry, in stored (canonical) units.
READING_FIELDS = (
    "light_lux",
    "noise_db",
    "temperature_c",
    "network_online",
    "network_latency_ms",
    "network_loss_pct",
    "network_bandwidth_kbps",
    "camera_available",
    "microphone_available",
)


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


class RuleSet(models.Model):
    """A versioned mapping from conditions to the authentication modes they allow.

    ``site`` empty means the default for sites without a rule set of their own. Drafts
    are edited freely; activating one retires the previous active version of its site.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    site = models.ForeignKey(
        "employees.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="rule_sets"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    rules = models.JSONField(help_text="See docs/environment.md for the format.")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["site_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["site", "version"], name="rule_set_unique_version_per_site"),
        ]
        indexes = [models.Index(fields=["site", "status"], name="rule_set_site_status_idx")]

    def __str__(self) -> str:
        scope = f"site {self.site_id}" if self.site_id else "default"
        return f"rule set {scope} v{self.version} ({self.status})"


class DeviceModeState(models.Model):
    """The modes a device was last told it may use, kept for hysteresis and for the check-in path."""

    device = models.OneToOneField("attendance.Device", on_delete=models.CASCADE, related_name="mode_state")
    rule_set = models.ForeignKey(RuleSet, null=True, on_delete=models.SET_NULL, related_name="+")
    allowed_modes = models.JSONField(default=list)
    decisions = models.JSONField(default=list)
    reading_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"modes of {self.device_id}: {', '.join(self.allowed_modes)}"
