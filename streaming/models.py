"""Camera streams: an RTSP source turned into an annotated HLS stream, and who may be a source.

The URL's credentials are stored encrypted apart from the rest of the URL, so nothing that
lists or logs a stream can show them.
"""

from django.conf import settings
from django.db import models

from attendance.models import AttendanceEvent


class CameraHostAllowance(models.Model):
    """A camera host (IP, network in CIDR form, or hostname) an admin allows for a site.

    Cameras live on private networks, so private ranges are allowed by default; loopback,
    link-local and cloud-metadata addresses only when listed here.
    """

    site = models.ForeignKey("employees.Site", on_delete=models.CASCADE, related_name="camera_hosts")
    host = models.CharField(max_length=255, help_text="e.g. 10.0.4.17, 10.0.4.0/24 or cam-lobby.local")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "host"], name="camera_host_unique_per_site")]

    def __str__(self) -> str:
        return f"{self.host} ({self.site_id})"


class CameraStream(models.Model):
    AUDIT_EXCLUDED_FIELDS = ("credentials_encrypted",)

    class State(models.TextChoices):
        STARTING = "starting", "Starting"
        LIVE = "live", "Live"
        RECONNECTING = "reconnecting", "Reconnecting"
        STOPPED = "stopped", "Stopped"
        FAILED = "failed", "Failed"

    site = models.ForeignKey("employees.Site", on_delete=models.CASCADE, related_name="camera_streams")
    name = models.CharField(max_length=120)
    url_without_credentials = models.CharField(max_length=500)
    credentials_encrypted = models.BinaryField(null=True, editable=False)
    label_faces = models.BooleanField(default=False, help_text="Write recognised employees' names on the boxes.")
    record_attendance = models.BooleanField(
        default=False, help_text="Record a check-in (or check-out) when a recognised employee is seen."
    )
    attendance_direction = models.CharField(
        max_length=3, choices=AttendanceEvent.Direction.choices, default=AttendanceEvent.Direction.IN
    )
    attendance_cooldown_seconds = models.PositiveIntegerField(
        default=300, help_text="After recording someone, ignore them on this camera for this long."
    )
    max_width = models.PositiveIntegerField(default=1280)
    max_height = models.PositiveIntegerField(default=720)
    max_fps = models.PositiveSmallIntegerField(default=25)
    tls_verify = models.BooleanField(
        default=True,
        help_text="rtsps:// only: check the camera's certificate against the system's certificate authorities "
        "and its host name. Turn off only for a self-signed camera, with tls_fingerprint_sha256 set.",
    )
    tls_fingerprint_sha256 = models.CharField(
        max_length=95,
        blank=True,
        help_text="rtsps:// only: the SHA-256 fingerprint of the camera's certificate (64 hex digits, colons "
        "allowed, as `openssl x509 -noout -fingerprint -sha256` prints them). When set, a camera presenting "
        "any other certificate is refused; required when tls_verify is false.",
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.STARTING)
    input_fps = models.FloatField(null=True, blank=True)
    output_fps = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The current run's lease: set when a run is queued, cleared when the stream is
    # stopped. A pipeline whose token no longer matches stops itself, so a restart by the
    # supervisor can never leave two pipelines writing the same files.
    run_token = models.CharField(max_length=32, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="camera_stream_unique_name_per_site")]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="stream_state_heartbeat_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site_id})"
