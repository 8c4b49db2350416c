from django.contrib import admin

from accounts.admin import AuditedAdminMixin, ReadOnlyAdminMixin, SiteScopedAdminMixin
from biometrics.models import BiometricConsent, FaceTemplate, SiteBiometricPolicy, VoiceTemplate


@admin.register(BiometricConsent)
class BiometricConsentAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    # Granting and withdrawing go through the API, which erases templates on withdrawal.
    site_lookup = "employee__site_id__in"
    list_display = ["employee", "notice_version", "granted_at", "withdrawn_at"]
    list_select_related = ["employee"]


@admin.register(FaceTemplate)
class FaceTemplateAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    site_lookup = "employee__site_id__in"
    list_display = ["employee", "face_size", "sharpness", "created_at", "image_purge_after"]
    fields = ["employee", "face_size", "sharpness", "created_at", "image_purge_after"]
    list_select_related = ["employee"]


@admin.register(VoiceTemplate)
class VoiceTemplateAdmin(ReadOnlyAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    site_lookup = "employee__site_id__in"
    list_display = ["employee", "clip_count", "created_at"]
    fields = ["employee", "clip_count", "created_at"]


@admin.register(SiteBiometricPolicy)
class SiteBiometricPolicyAdmin(AuditedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ["site", "face_distance_threshold", "face_margin", "liveness_required"]
