"""Admin of badges: scoped to the person's sites, audited, the card UID shown masked."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import ReadOnlyAdminMixin, SiteScopedAdminMixin
from plugins.badges import services
from plugins.badges.models import Badge


@admin.register(Badge)
class BadgeAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    """Read-only but for revoking: cards are assigned through the API, which checks the employee's scope."""

    site_lookup = "employee__site_id__in"
    list_display = ["card_uid_hint", "employee", "status", "assigned_at", "revoked_at", "last_used_at"]
    list_filter = ["status"]
    search_fields = ["employee__employee_code", "employee__last_name"]
    list_select_related = ["employee"]
    fields = readonly_fields = (
        "card_uid_hint",
        "employee",
        "status",
        "assigned_at",
        "assigned_by",
        "revoked_at",
        "revoked_by",
        "last_used_at",
    )
    actions = ["revoke_selected"]

    @admin.display(description="Card")
    def card_uid_hint(self, badge: Badge) -> str:
        return badge.card_uid_hint

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("badges.change_badge")

    @admin.action(description="Revoke the selected badges", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Badge]) -> None:
        for badge in queryset:
            services.badge_revoke(actor=request.user, badge=badge)
