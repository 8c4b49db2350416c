"""Reads of the employees app, always through the caller's site scope."""

from django.contrib.auth.models import PermissionsMixin
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from accounts.permissions import SITE_ACCESS_PERMISSION, RequestUser, user_role
from employees.models import Department, Employee, Shift, Site


def sites_visible_to(user: RequestUser) -> QuerySet[Site]:
    if user_role(user) is None:
        return Site.objects.none()
    return get_objects_for_user(user, SITE_ACCESS_PERMISSION, klass=Site, accept_global_perms=True)


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


def departments_visible_to(user: RequestUser) -> QuerySet[Department]:
    return Department.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def shifts_visible_to(user: RequestUser) -> QuerySet[Shift]:
    return Shift.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def employees_visible_to(user: RequestUser) -> QuerySet[Employee]:
    return Employee.objects.filter(site_id__in=visible_site_ids(user)).select_related("site", "department", "shift")
