"""Reads of the employees app, always through the caller's site scope (accounts.selectors)."""

from django.db.models import QuerySet

from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from employees.models import Department, Employee, Shift


def departments_visible_to(user: RequestUser) -> QuerySet[Department]:
    return Department.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def shifts_visible_to(user: RequestUser) -> QuerySet[Shift]:
    return Shift.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def employees_visible_to(user: RequestUser) -> QuerySet[Employee]:
    return Employee.objects.filter(site_id__in=visible_site_ids(user)).select_related("site", "department", "shift")
