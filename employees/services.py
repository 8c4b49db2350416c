"""Writes of the employees app. Plain CRUD goes through the audited helpers."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import AuditLogEntry
from accounts.permissions import Actor
from accounts.selectors import user_sees_all_sites
from accounts.services import audit_record, audited_create, audited_delete, audited_update, model_snapshot
from attendance_site.events.services import domain_event_emit
from attendance_site.events.types import (
    EMPLOYEE_CREATED,
    EMPLOYEE_DEACTIVATED,
    EMPLOYEE_UPDATED,
    EmployeePayload,
    EmployeeUpdatedPayload,
)
from employees.models import Department, Employee, Shift, Site


def site_create(*, actor: Actor, fields: dict[str, Any]) -> Site:
    # A site-scoped admin could create a site and then never see it again.
    if not user_sees_all_sites(actor):
        raise PermissionDenied("Only admins with access to every site may create sites.")
    return audited_create(actor=actor, model=Site, fields=fields)


def site_update(*, actor: Actor, site: Site, fields: dict[str, Any]) -> Site:
    return audited_update(actor=actor, instance=site, fields=fields)


def site_delete(*, actor: Actor, site: Site) -> None:
    audited_delete(actor=actor, instance=site)


def department_create(*, actor: Actor, fields: dict[str, Any]) -> Department:
    return audited_create(actor=actor, model=Department, fields=fields)


def _site_unchanged(instance: Department | Shift, fields: dict[str, Any]) -> None:
    # Moving a department or shift would leave its employees at the old site with it.
    if "site" in fields and fields["site"].pk != instance.site_id:
        raise ValidationError({"site": "Cannot move to another site; create one there instead."})


def department_update(*, actor: Actor, department: Department, fields: dict[str, Any]) -> Department:
    _site_unchanged(department, fields)
    return audited_update(actor=actor, instance=department, fields=fields)


def department_delete(*, actor: Actor, department: Department) -> None:
    audited_delete(actor=actor, instance=department)


def shift_create(*, actor: Actor, fields: dict[str, Any]) -> Shift:
    return audited_create(actor=actor, model=Shift, fields=fields)


def shift_update(*, actor: Actor, shift: Shift, fields: dict[str, Any]) -> Shift:
    _site_unchanged(shift, fields)
    return audited_update(actor=actor, instance=shift, fields=fields)


def shift_delete(*, actor: Actor, shift: Shift) -> None:
    audited_delete(actor=actor, instance=shift)


def _employee_payload(employee: Employee) -> EmployeePayload:
    return {
        "employee_id": employee.pk,
        "employee_code": employee.employee_code,
        "site_id": employee.site_id,
        "department_id": employee.department_id,
        "shift_id": employee.shift_id,
        "is_active": employee.is_active,
    }


@transaction.atomic
def employee_create(*, actor: Actor, fields: dict[str, Any]) -> Employee:
    employee = audited_create(actor=actor, model=Employee, fields=fields)
    domain_event_emit(event_type=EMPLOYEE_CREATED, payload=_employee_payload(employee), site_id=employee.site_id)
    return employee


@transaction.atomic
def employee_update(*, actor: Actor, employee: Employee, fields: dict[str, Any]) -> Employee:
    """Change an employee's fields; an update that changes nothing leaves no event."""
    before = model_snapshot(employee)
    employee = audited_update(actor=actor, instance=employee, fields=fields)
    after = model_snapshot(employee)
    changed = sorted(name for name in after if after[name] != before.get(name))
    if changed:
        payload: EmployeeUpdatedPayload = {**_employee_payload(employee), "changed_fields": changed}
        domain_event_emit(event_type=EMPLOYEE_UPDATED, payload=payload, site_id=employee.site_id)
    if before.get("is_active") and not employee.is_active:
        _employee_deactivated_emit(employee)
    return employee


def _employee_deactivated_emit(employee: Employee) -> None:
    # Whichever way an employee becomes inactive (an edit, or removal of one with
    # attendance), receivers such as an HR sync see one kind of event.
    domain_event_emit(event_type=EMPLOYEE_DEACTIVATED, payload=_employee_payload(employee), site_id=employee.site_id)


@transaction.atomic
def employee_remove(*, actor: Actor, employee: Employee) -> bool:
    """Delete an employee, or deactivate one whose attendance must be kept.

    Returns True when the row was deleted, False when it was deactivated.
    """
    if not employee.attendance_events.exists():
        audited_delete(actor=actor, instance=employee)
        return True
    before = model_snapshot(employee)
    employee.is_active = False
    employee.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditLogEntry.Action.DEACTIVATE,
        instance=employee,
        before=before,
        after=model_snapshot(employee),
        reason="Employee has attendance records; deactivated instead of deleted.",
    )
    if before.get("is_active"):
        _employee_deactivated_emit(employee)
    return False
