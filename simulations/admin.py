from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, SiteScopedAdminMixin
from simulations.models import SimulationRun


@admin.register(SimulationRun)
class SimulationRunAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "site", "scenario", "generator_version", "row_count", "created_by"]
    list_filter = ["site", "generator_version"]
    search_fields = ["scenario"]
    date_hierarchy = "created_at"
