from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms import ModelForm
from django.http import Http404, HttpRequest
from guardian.admin import GuardedModelAdminMixin

from accounts.admin import AuditedAdminMixin, SiteScopedAdminMixin
from accounts.models import AuditLogEntry
from accounts.permissions import Actor
from accounts.services import audit_record
from attendance_site.serializers import is_integer_id
from employees.models import Department, Employee, Shift, Site
from employees.services import employee_create, employee_update


@admin.register(Site)
# guardian types change_form_template more narrowly than Django's stubs; both are a template name.
class SiteAdmin(GuardedModelAdminMixin, AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):  # type: ignore[misc]
    site_lookup = "id__in"
    list_display = ["name", "timezone", "duplicate_window"]
    search_fields = ["name", "address"]

    # guardian's permission pages hand the raw ids of their URLs to get_object_or_404,
    # where a non-number raises ValueError (a 500) instead of answering 404.
    def obj_perms_manage_view(self, request, object_pk):
        _require_integer_ids(object_pk)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        _require_integer_ids(object_pk, user_id)
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        _require_integer_ids(object_pk, group_id)
        return super().obj_perms_manage_group_view(request, object_pk, group_id)

    # Access granted or taken away on these pages is audited like a grant through the API.
    def get_obj_perms_manage_user_form(self, request):
        return _audited_permissions_form(super().get_obj_perms_manage_user_form(request), actor=request.user)

    def get_obj_perms_manage_group_form(self, request):
        return _audited_permissions_form(super().get_obj_perms_manage_group_form(request), actor=request.user)


def _audited_permissions_form(form_class: type[Any], *, actor: Actor) -> type[Any]:
    # The base is guardian's user or group form, known only at run time.
    class AuditedPermissionsForm(form_class):
        def save_obj_perms(self) -> None:
            holder = getattr(self, "user", None) or self.group
            with transaction.atomic():
                before = sorted(self.get_obj_perms_field_initial())
                super().save_obj_perms()
                after = sorted(self.get_obj_perms_field_initial())
                if before != after:
                    audit_record(
                        actor=actor,
                        action=AuditLogEntry.Action.GRANT if set(after) - set(before) else AuditLogEntry.Action.REVOKE,
                        instance=self.obj,
                        before={"holder": str(holder), "permissions": before},
                        after={"holder": str(holder), "permissions": after},
                    )

    return AuditedPermissionsForm


def _require_integer_ids(*values: str) -> None:
    if not all(is_integer_id(value) for value in values):
        raise Http404("No such object.")


@admin.register(Department)
class DepartmentAdmin(AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "site"]
    list_filter = ["site"]
    search_fields = ["name"]


@admin.register(Shift)
class ShiftAdmin(AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "site", "start_time", "end_time", "grace_minutes", "crosses_midnight"]
    list_filter = ["site"]


@admin.register(Employee)
class EmployeeAdmin(AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["employee_code", "last_name", "first_name", "site", "department", "is_active"]
    list_filter = ["site", "is_active", "department"]
    search_fields = ["employee_code", "first_name", "last_name", "email"]
    list_select_related = ["site", "department"]

    def has_delete_permission(self, request, obj=None):
        # Deleting would lose attendance history; deactivate instead (the API does).
        return False

    def save_model(self, request: HttpRequest, obj: Employee, form: ModelForm, change: bool) -> None:
        # Through the services, as the API's writes go: audited once, and with the same
        # domain events (employee.created, .updated, .deactivated) for their receivers.
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            employee_update(actor=request.user, employee=Employee.objects.get(pk=obj.pk), fields=fields)
        else:
            obj.pk = employee_create(actor=request.user, fields=dict(form.cleaned_data)).pk
