"""Consent, encrypted face and voice templates, per-site recognition policy, QR credentials.

No template, embedding or kept photo is ever stored in the clear: the ``*_encrypted``
fields hold Fernet tokens (see crypto.py), and the API never returns them.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class BiometricConsent(models.Model):
    """An employee's consent to biometric processing, under one version of the notice."""

    employee = models.ForeignKey("employees.Employee", on_delete=models.CASCADE, related_name="biometric_consents")
    notice_version = models.CharField(max_length=40, help_text="Version of the privacy notice the employee agreed to.")
    granted_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_consent_per_employee",
            )
        ]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "active"
        return f"consent {self.notice_version} of {self.employee_id} ({state})"


class FaceTemplate(models.Model):
    AUDIT_EXCLUDED_FIELDS = ("encoding_encrypted", "image_encrypted")

    employee = models.ForeignKey("employees.Employee", on_delete=models.CASCADE, related_name="face_templates")
    encoding_encrypted = models.BinaryField(editable=False)
    face_size = models.PositiveIntegerField(help_text="Face box height in pixels in the enrolment photo.")
    sharpness = models.FloatField(help_text="Variance of the Laplacian of the face crop.")
    image_encrypted = models.BinaryField(null=True, editable=False)
    image_purge_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["employee_id", "id"]
        indexes = [models.Index(fields=["image_purge_after"], name="face_image_purge_idx")]

    def __str__(self) -> str:
        return f"face template {self.pk} of {self.employee_id}"


class VoiceTemplate(models.Model):
    AUDIT_EXCLUDED_FIELDS = ("embedding_encrypted",)

    employee = models.OneToOneField("employees.Employee", on_delete=models.CASCADE, related_name="voice_template")
    embedding_encrypted = models.BinaryField(editable=False)
    clip_count = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"voice template of {self.employee_id}"


class SiteBiometricPolicy(models.Model):
    """Per-site recognition thresholds; defaults come from measurements (docs/biometrics.md)."""

    site = models.OneToOneField("employees.Site", on_delete=models.CASCADE, related_name="biometric_policy")
    face_distance_threshold = models.FloatField(
        default=0.48,
        validators=[MinValueValidator(0.2), MaxValueValidator(0.7)],
        help_text="Largest dlib distance accepted as the same person.",
    )
    face_margin = models.FloatField(
        default=0.02,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.3)],
        help_text="Required distance gap between the best and the second-best person.",
    )
    liveness_required = models.BooleanField(
        default=False, help_text="Face check-ins must include a frame burst that passes the liveness check."
    )

    class Meta:
        verbose_name_plural = "site biometric policies"

    def __str__(self) -> str:
        return f"biometric policy of {self.site_id}"


class QrCredential(models.Model):
    """The secret state behind an employee's rotating QR codes.

    Tokens carry ``version``; revoking bumps it, which invalidates every token and
    every QR page link issued before.
    """

    employee = models.OneToOneField("employees.Employee", on_delete=models.CASCADE, related_name="qr_credential")
    version = models.PositiveIntegerField(default=1)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"QR credential v{self.version} of {self.employee_id}"


class QrTokenUse(models.Model):
    """A QR token window that has been used: the unique key makes a replay fail."""

    employee = models.ForeignKey("employees.Employee", on_delete=models.CASCADE, related_name="+")
    window = models.BigIntegerField(help_text="Unix time // QR_TOKEN_WINDOW_SECONDS of the token.")
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["employee", "window"], name="qr_token_single_use")]

    def __str__(self) -> str:
        return f"QR window {self.window} of {self.employee_id}"
