"""Admin for the audit log, and the mixins every app's admin uses for scope and audit."""

from django.contrib import admin

from accounts.models import AuditLogEntry
from accounts.services import audit_record, model_snapshot
from employees.selectors import visible_site_ids


class SiteScopedAdminMixin:
    """Rows, and the choices of site-bound foreign keys, limited to the user's sites.

    What a person may do with those rows comes from their role group's permissions:
    viewers hold only view permissions, so the admin shows them everything read-only.
    """

    site_lookup = "site_id__in"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{self.site_lookup: visible_site_ids(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        site_ids = visible_site_ids(request.user)
        if related._meta.label == "employees.Site":
            kwargs["queryset"] = related.objects.filter(id__in=site_ids)
        elif any(field.name == "site" for field in related._meta.fields):
            kwargs["queryset"] = related.objects.filter(site_id__in=site_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AuditedAdminMixin:
    """Changes made in the admin are audited like changes made through the API."""

    def save_model(self, request, obj, form, change):
        before = model_snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=AuditLogEntry.Action.UPDATE if change else AuditLogEntry.Action.CREATE,
            instance=obj,
            before=before,
            after=model_snapshot(obj),
        )

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action=AuditLogEntry.Action.DELETE, instance=obj, before=model_snapshot(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "actor_repr", "action", "content_type", "object_repr", "site"]
    list_filter = ["action", "content_type", "site"]
    search_fields = ["object_repr", "actor_repr", "reason"]
    date_hierarchy = "occurred_at"

    def get_queryset(self, request):
        from accounts.selectors import audit_entries_visible_to

        return audit_entries_visible_to(request.user)
