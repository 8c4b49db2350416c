"""factory_boy factories for the domain models."""

from datetime import time

import factory

from employees.models import Department, Employee, Shift, Site


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    timezone = "Europe/Berlin"


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):
    class Meta:
        model = Department

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class ShiftFactory(factory.django.DjangoModelFactory[Shift]):
    class Meta:
        model = Shift

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Shift {n}")
    start_time = time(9)
    end_time = time(17)
    grace_minutes = 5


class EmployeeFactory(factory.django.DjangoModelFactory[Employee]):
    class Meta:
        model = Employee

    employee_code = factory.Sequence(lambda n: f"E{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    site = factory.SubFactory(SiteFactory)
    department = factory.LazyAttribute(lambda o: DepartmentFactory(site=o.site))


def event_record(device, employee, direction, occurred_at, method="pin"):
    """Record an event through the real service, with a client id derived from its fields."""
    from attendance.services import attendance_event_record

    return attendance_event_record(
        employee=employee,
        device=device,
        direction=direction,
        method=method,
        occurred_at=occurred_at,
        client_event_id=f"{employee.pk}-{direction}-{occurred_at.isoformat()}",
    ).event
