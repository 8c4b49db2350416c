from django.contrib import admin
from guardian.admin import GuardedModelAdminMixin

from accounts.admin import AuditedAdminMixin, SiteScopedAdminMixin
from employees.models import Department, Employee, Shift, Site


@admin.register(Site)
class SiteAdmin(GuardedModelAdminMixin, AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    site_lookup = "id__in"
    list_display = ["name", "timezone", "duplicate_window"]
    search_fields = ["name", "address"]


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
