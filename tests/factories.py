"""factory_boy factories for the domain models."""

from datetime import time

import factory

from employees.models import Department, Employee, Shift, Site


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    timezone = "Europe/Berlin"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Shift {n}")
    start_time = time(9)
    end_time = time(17)
    grace_minutes = 5


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    employee_code = factory.Sequence(lambda n: f"E{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    site = factory.SubFactory(SiteFactory)
    department = factory.LazyAttribute(lambda o: DepartmentFactory(site=o.site))
