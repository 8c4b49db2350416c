from django.contrib import admin, messages

from accounts.admin import AuditedAdminMixin, ReadOnlyAdminMixin, SiteScopedAdminMixin
from attendance import services
from attendance.models import AttendanceEvent, Device, WorkSession


@admin.register(Device)
class DeviceAdmin(AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "site", "kind", "last_seen_at", "revoked_at"]
    list_filter = ["site", "kind"]
    search_fields = ["name"]
    readonly_fields = ["last_seen_at", "revoked_at", "created_at"]
    actions = ["revoke_selected"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = services.device_create(
            actor=request.user, fields={"site": obj.site, "name": obj.name, "kind": obj.kind}
        )
        obj.pk = created.device.pk
        messages.warning(request, f"Device credential (shown only now, store it on the device): {created.credential}")

    @admin.action(description="Revoke the selected devices' credentials", permissions=["change"])
    def revoke_selected(self, request, queryset):
        for device in queryset:
            services.device_revoke(actor=request.user, device=device)


@admin.register(AttendanceEvent)
class AttendanceEventAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "employee", "direction", "method", "status", "site", "device", "source"]
    list_filter = ["site", "direction", "method", "status", "source"]
    search_fields = ["employee__employee_code", "employee__last_name", "client_event_id"]
    list_select_related = ["employee", "site", "device"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(WorkSession)
class WorkSessionAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["work_date", "employee", "site", "started_at", "ended_at"]
    list_filter = ["site"]
    list_select_related = ["employee", "site"]
