"""Devices and the attendance they record: events and the work sessions they pair into."""

from django.conf import settings
from django.db import models


class Device(models.Model):
    """A kiosk, tablet, phone or camera at one site, with its own API credential.

    Only a hash of the credential is kept; the credential itself is shown once.
    """

    AUDIT_EXCLUDED_FIELDS = ("credential_hash",)

    class Kind(models.TextChoices):
        KIOSK = "kiosk", "Kiosk"
        TABLET = "tablet", "Tablet"
        PHONE = "phone", "Phone"
        CAMERA = "camera", "Camera"

    site = models.ForeignKey("employees.Site", on_delete=models.PROTECT, related_name="devices")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.KIOSK)
    credential_prefix = models.CharField(max_length=16, unique=True, editable=False)
    credential_hash = models.CharField(max_length=64, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="device_unique_name_per_site")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AttendanceEvent(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "Check-in"
        OUT = "out", "Check-out"

    class Method(models.TextChoices):
        """How an event was taken besides a check-in method (those are registry.checkin_methods)."""

        MANUAL = "manual", "Manual entry"
        CAMERA = "camera", "Camera stream"

    class Source(models.TextChoices):
        ONLINE = "online", "Online"
        OFFLINE = "offline", "Offline, synced later"

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        FLAGGED = "flagged", "Flagged"
        REJECTED = "rejected", "Rejected"

    employee = models.ForeignKey("employees.Employee", on_delete=models.PROTECT, related_name="attendance_events")
    # The employee's site when the event happened: scopes and indexes the event even
    # if the employee later moves.
    site = models.ForeignKey("employees.Site", on_delete=models.PROTECT, related_name="attendance_events")
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="attendance_events"
    )
    # The camera that recognised the person (method "camera"); kept as null if the
    # camera is deleted later, the method still says where the event came from.
    camera_stream = models.ForeignKey(
        "streaming.CameraStream", null=True, blank=True, on_delete=models.SET_NULL, related_name="attendance_events"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    occurred_at = models.DateTimeField(help_text="When it happened, by the device's clock, stored in UTC.")
    received_at = models.DateTimeField(auto_now_add=True)
    # A check-in method's key (face, pin, a plugin's badge...) or one of Method: not
    # database choices, so that a plugin's method can be stored (attendance_method_choices).
    method = models.CharField(max_length=32)
    confidence = models.FloatField(null=True, blank=True)
    liveness_score = models.FloatField(null=True, blank=True)
    client_event_id = models.CharField(max_length=64, help_text="Chosen by the device; unique per device.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ONLINE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "client_event_id"],
                condition=models.Q(device__isnull=False),
                name="attendance_event_unique_client_id_per_device",
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True) | models.Q(confidence__gte=0, confidence__lte=1),
                name="attendance_event_confidence_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(liveness_score__isnull=True)
                | models.Q(liveness_score__gte=0, liveness_score__lte=1),
                name="attendance_event_liveness_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(device__isnull=False) | models.Q(method__in=["manual", "camera"]),
                name="attendance_event_device_unless_manual_or_camera",
            ),
        ]
        indexes = [
            # The dashboard and the list API read one site's recent events.
            models.Index(fields=["site", "occurred_at"], name="event_site_time_idx"),
            # Duplicate and pairing checks read one employee's events around a time.
            models.Index(fields=["employee", "occurred_at"], name="event_employee_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.direction} {self.occurred_at:%Y-%m-%d %H:%M}"


class WorkSession(models.Model):
    """A check-in and the check-out that closed it; night shifts span two dates.

    The session belongs to the site-local date of its check-in, so 22:00-06:00 counts
    once, on the day it started.
    """

    employee = models.ForeignKey("employees.Employee", on_delete=models.PROTECT, related_name="work_sessions")
    site = models.ForeignKey("employees.Site", on_delete=models.PROTECT, related_name="work_sessions")
    check_in = models.OneToOneField(AttendanceEvent, on_delete=models.CASCADE, related_name="opened_session")
    check_out = models.OneToOneField(
        AttendanceEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="closed_session"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    work_date = models.DateField(help_text="Site-local date of the check-in.")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="work_session_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["employee", "started_at"], name="session_employee_start_idx"),
            models.Index(fields=["site", "work_date"], name="session_site_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.work_date}"

    @property
    def duration(self):
        return None if self.ended_at is None else self.ended_at - self.started_at
