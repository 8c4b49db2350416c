"""factory_boy factories for the domain models."""

from datetime import time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import factory
from django.db import models

from employees.models import Department, Employee, Shift, Site

ModelT = TypeVar("ModelT", bound=models.Model)


class ModelFactory(factory.django.DjangoModelFactory[ModelT], Generic[ModelT]):
    """A factory whose call the type checker knows to give a model instance."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory_boy's metaclass makes calling a factory return the model instance it
        # creates; mypy would otherwise type the call as the factory class's own instance.
        def __new__(cls, **kwargs: Any) -> ModelT: ...  # type: ignore[misc]


class SiteFactory(ModelFactory[Site]):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    timezone = "Europe/Berlin"


class DepartmentFactory(ModelFactory[Department]):
    class Meta:
        model = Department

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class ShiftFactory(ModelFactory[Shift]):
    class Meta:
        model = Shift

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Shift {n}")
    start_time = time(9)
    end_time = time(17)
    grace_minutes = 5


class EmployeeFactory(ModelFactory[Employee]):
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
