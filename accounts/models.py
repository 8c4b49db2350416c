"""Roles, the audit log and login lockouts.

A person's role is membership of one of two groups (Admins, Viewers); which sites they
see is a guardian object permission on each Site (see accounts/permissions.py).
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


ROLE_GROUP_NAMES = {Role.ADMIN: "Admins", Role.VIEWER: "Viewers"}


class AuditLogEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        DEACTIVATE = "deactivate", "Deactivate"
        REVOKE = "revoke", "Revoke"
        MANUAL_ENTRY = "manual_entry", "Manual attendance entry"
        GRANT = "grant", "Grant access"
        START = "start", "Start"
        STOP = "stop", "Stop"
        LOCKOUT = "lockout", "Login lockout"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_repr = models.CharField(max_length=150, help_text="Username at the time, kept if the user is deleted.")
    action = models.CharField(max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    site = models.ForeignKey(
        "employees.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "audit log entries"
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor_repr} {self.action} {self.object_repr}"


class LoginLockout(models.Model):
    """One lockout of a (username, address) pair after repeated wrong passwords.

    django-axes keeps the live counters and forgets them after the cool-off; this row
    stays, so that the audit log always has an object to point at, even for a username
    that names no account.
    """

    username = models.CharField(max_length=150, help_text="As typed; it may name no account.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=200, help_text="The login page or endpoint of the failure that locked.")
    failures = models.PositiveIntegerField()
    locked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-locked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address or 'an unknown address'}"
