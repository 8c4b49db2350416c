"""Reads of the accounts app."""

from django.db.models import QuerySet

from accounts.models import AuditLogEntry
from accounts.permissions import RequestUser, user_is_admin
from employees.selectors import user_sees_all_sites, visible_site_ids


def audit_entries_visible_to(user: RequestUser) -> QuerySet[AuditLogEntry]:
    """Admins read the audit log of their sites; entries tied to no site need all sites."""
    if not user_is_admin(user):
        return AuditLogEntry.objects.none()
    entries = AuditLogEntry.objects.select_related("content_type")
    if user_sees_all_sites(user):
        return entries
    return entries.filter(site_id__in=visible_site_ids(user))
