"""Reads of the employees app, always through the caller's site scope."""

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from accounts.permissions import SITE_ACCESS_PERMISSION, user_role
from employees.models import Department, Employee, Shift, Site


def sites_visible_to(user) -> QuerySet[Site]:
    if user_role(user) is None:
        return Site.objects.none()
    return get_objects_for_user(user, SITE_ACCESS_PERMISSION, klass=Site, accept_global_perms=True)


def visible_site_ids(user) -> frozenset[int]:
    """The ids of the sites a person may see, computed once per request's user object."""
    cached = getattr(user, "_visible_site_ids", None)
    if cached is None:
        cached = frozenset(sites_visible_to(user).values_list("id", flat=True))
        if user_role(user) is not None:
            user._visible_site_ids = cached
    return cached


def user_sees_all_sites(user) -> bool:
    return user_role(user) is not None and (user.is_superuser or user.has_perm(SITE_ACCESS_PERMISSION))


def departments_visible_to(user) -> QuerySet[Department]:
    return Department.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def shifts_visible_to(user) -> QuerySet[Shift]:
    return Shift.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def employees_visible_to(user) -> QuerySet[Employee]:
    return Employee.objects.filter(site_id__in=visible_site_ids(user)).select_related("site", "department", "shift")
