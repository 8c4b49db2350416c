"""REST API of the accounts app, mounted at /api/accounts/: who am I, the audit log."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from accounts.models import AuditLogEntry
from accounts.permissions import IsAdminRole, user_role
from accounts.selectors import audit_entries_visible_to
from employees.api import SiteScopedFilter
from employees.selectors import user_sees_all_sites, visible_site_ids


class AuditLogEntrySerializer(serializers.ModelSerializer):
    object_type = serializers.CharField(source="content_type.model", read_only=True)

    class Meta:
        model = AuditLogEntry
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_repr",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "site",
            "before",
            "after",
            "reason",
        ]
        read_only_fields = fields


class AuditLogEntryFilter(SiteScopedFilter):
    class Meta:
        model = AuditLogEntry
        fields = ["action", "site", "object_id"]


class AuditLogEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditLogEntrySerializer
    permission_classes = [IsAdminRole]
    filterset_class = AuditLogEntryFilter
    ordering_fields = ["occurred_at"]
    search_fields = ["object_repr", "actor_repr", "reason"]

    def get_queryset(self):
        return audit_entries_visible_to(self.request.user)


class CurrentUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    all_sites = serializers.BooleanField()
    site_ids = serializers.ListField(child=serializers.IntegerField())


class CurrentUserView(APIView):
    serializer_class = CurrentUserSerializer

    @extend_schema(responses={200: CurrentUserSerializer}, summary="The calling person, role and sites")
    def get(self, request):
        user = request.user
        return Response(
            CurrentUserSerializer(
                {
                    "id": user.pk,
                    "username": user.username,
                    "role": user_role(user),
                    "all_sites": user_sees_all_sites(user),
                    "site_ids": sorted(visible_site_ids(user)),
                }
            ).data
        )


router = DefaultRouter()
router.register("audit-log", AuditLogEntryViewSet, basename="audit-log-entry")
