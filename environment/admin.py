from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, SiteScopedAdminMixin
from environment.models import ConditionReading


@admin.register(ConditionReading)
class ConditionReadingAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["recorded_at", "device", "light_lux", "noise_db", "network_online", "temperature_c"]
    list_filter = ["site"]
    list_select_related = ["device"]
    date_hierarchy = "recorded_at"
    show_full_result_count = False
