"""A badge: one RFID/NFC card assigned to one employee, active until revoked."""

from django.conf import settings
from django.db import models
from django.db.models import Q


def card_uid_mask(card_uid: str) -> str:
    """What may be shown or logged of a card UID: its last four hex digits.

    A UID is all a cheap card clone needs, so it is treated like a credential.
    """
    return f"…{card_uid[-4:]}"


class Badge(models.Model):
    # The UID is a credential: audit entries keep only its mask (card_uid_hint).
    AUDIT_EXCLUDED_FIELDS = ("card_uid",)

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REVOKED = "revoked", "Revoked"

    card_uid = models.CharField(max_length=32, help_text="Upper-case hex, as the reader sends it.")
    # A deleted employee (one with no attendance) takes their badges along; a deactivated
    # one keeps them, revoked.
    employee = models.ForeignKey("employees.Employee", on_delete=models.CASCADE, related_name="badges")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            # A card opens one person's attendance at a time; a revoked card may be reissued.
            models.UniqueConstraint(
                fields=["card_uid"], condition=Q(status="active"), name="badge_unique_active_card_uid"
            ),
            models.CheckConstraint(
                condition=Q(status="active", revoked_at__isnull=True) | Q(status="revoked", revoked_at__isnull=False),
                name="badge_revoked_at_with_status",
            ),
        ]
        indexes = [models.Index(fields=["employee", "status"], name="badge_employee_status_idx")]

    def __str__(self) -> str:
        return f"Badge {self.card_uid_hint} of employee {self.employee_id}"

    @property
    def site_id(self) -> int:
        # A badge follows its employee between sites; the audit log files it under this.
        return self.employee.site_id

    @property
    def card_uid_hint(self) -> str:
        return card_uid_mask(self.card_uid)
