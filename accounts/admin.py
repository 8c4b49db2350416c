"""Admin for the audit log, and the mixins every app's admin uses for scope and audit."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model, Q

from accounts.models import AuditLogEntry
from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from accounts.services import audit_record, model_snapshot

if TYPE_CHECKING:
    # What the mixins are mixed into, so that the type checker knows their super() calls.
    _ModelAdminBase = admin.ModelAdmin[Any]
else:
    _ModelAdminBase = object


def _site_scope(related_model: type[Model], user: RequestUser) -> Q | None:
    """Which rows of a related model the user may see, if the model is bound to sites."""
    site_ids = visible_site_ids(user)
    if related_model._meta.label == "employees.Site":
        return Q(id__in=site_ids)
    if any(field.name == "site" for field in related_model._meta.fields):
        return Q(site_id__in=site_ids)
    return None


class SiteScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A foreign-key filter offering only the user's sites (or their sites' rows).

    Django's own lists every row of the related model: its names would tell a
    site-scoped person which other sites, departments or shifts exist.
    """

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        scope = _site_scope(field.related_model, request.user)
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=scope or {})


class SiteScopedListFilterMixin(_ModelAdminBase):
    """Every foreign-key list filter of the admin goes through SiteScopedRelatedFieldListFilter."""

    def get_list_filter(self, request):
        scoped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation and _site_scope(field.related_model, request.user) is not None:
                    entry = (entry, SiteScopedRelatedFieldListFilter)
            scoped.append(entry)
        return scoped


class SiteScopedAdminMixin(SiteScopedListFilterMixin):
    """Rows, the choices of site-bound foreign keys and list filters, limited to the user's sites.

    What a person may do with those rows comes from their role group's permissions:
    viewers hold only view permissions, so the admin shows them everything read-only.
    """

    site_lookup = "site_id__in"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{self.site_lookup: visible_site_ids(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = _site_scope(db_field.related_model, request.user)
        if scope is not None:
            kwargs["queryset"] = db_field.related_model.objects.filter(scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AuditedAdminMixin(_ModelAdminBase):
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
class AuditLogEntryAdmin(ReadOnlyAdminMixin, SiteScopedListFilterMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "actor_repr", "action", "content_type", "object_repr", "site"]
    list_filter = ["action", "content_type", "site"]
    search_fields = ["object_repr", "actor_repr", "reason"]
    date_hierarchy = "occurred_at"

    def get_queryset(self, request):
        from accounts.selectors import audit_entries_visible_to

        return audit_entries_visible_to(request.user)
