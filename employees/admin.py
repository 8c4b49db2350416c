from django.contrib import admin
from django.http import Http404
from guardian.admin import GuardedModelAdminMixin

from accounts.admin import AuditedAdminMixin, SiteScopedAdminMixin
from attendance_site.serializers import is_integer_id
from employees.models import Department, Employee, Shift, Site


@admin.register(Site)
class SiteAdmin(GuardedModelAdminMixin, AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
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
