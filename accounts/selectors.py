"""Reads of the accounts app: site scope (which sites a person sees) and the audit log.

Scope is the guardian permission ``employees.access_site`` on the Site model, which
this app names by label rather than imports: accounts sits below employees (the audit
log's foreign key to the site is declared the same way).
"""

from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth.models import PermissionsMixin
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from accounts.models import AuditLogEntry
from accounts.permissions import SITE_ACCESS_PERMISSION, RequestUser, user_is_admin, user_role

if TYPE_CHECKING:
    from employees.models import Site

SITE_MODEL = "employees.Site"


def sites_visible_to(user: RequestUser) -> "QuerySet[Site]":
    site_model: type[Site] = apps.get_model(SITE_MODEL)
    if user_role(user) is None:
        return site_model.objects.none()
    return get_objects_for_user(user, SITE_ACCESS_PERMISSION, klass=site_model, accept_global_perms=True)


_SITE_IDS_CACHE_ATTRIBUTE = "_visible_site_ids"


def visible_site_ids(user: RequestUser) -> frozenset[int]:
    """The ids of the sites a person may see, computed once per request's user object."""
    cached: frozenset[int] | None = getattr(user, _SITE_IDS_CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = frozenset(sites_visible_to(user).values_list("id", flat=True))
        if user_role(user) is not None:
            setattr(user, _SITE_IDS_CACHE_ATTRIBUTE, cached)
    return cached


def user_sees_all_sites(user: RequestUser | None) -> bool:
    if user_role(user) is None or not isinstance(user, PermissionsMixin):
        return False
    return user.is_superuser or user.has_perm(SITE_ACCESS_PERMISSION)


def audit_entries_visible_to(user: RequestUser) -> QuerySet[AuditLogEntry]:
    """Admins read the audit log of their sites; entries tied to no site need all sites."""
    if not user_is_admin(user):
        return AuditLogEntry.objects.none()
    entries = AuditLogEntry.objects.select_related("content_type")
    if user_sees_all_sites(user):
        return entries
    return entries.filter(site_id__in=visible_site_ids(user))
